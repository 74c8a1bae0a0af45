/**
 * How a test waits on a shared machine: for an event, never for a fixed time. `waitFor` polls a condition up to a
 * deadline; `slowdown()` measures how much slower this machine is right now than a quiet 2-core one, so the few
 * limits that must be times (a cell's time-out in a test of time-outs) grow with the load instead of failing.
 */

/** CPU milliseconds the calibration loop takes on the project's 2-core machine. */
const REFERENCE_CPU_MS = 70;

/**
 * Wall time of a fixed loop over its own CPU time (how many others share the cores), times how much slower this
 * CPU is than the reference's.
 */
function calibration(): number {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 5_000_000; i++) x = (x + i * 1e-9) % 1.7;
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (x < 0) throw new Error('unreachable: keeps the loop from being optimized away');
  return wall / Math.max(1, Math.min((cpu.user + cpu.system) / 1000, REFERENCE_CPU_MS));
}

let measured: number | undefined;

/**
 * This machine's slowdown against the quiet reference (1 or more; the median of three runs of a fixed loop), or
 * CNNVIZ_TEST_SLOWDOWN when set. Measured once per test process.
 */
export function slowdown(): number {
  const env = Number(process.env.CNNVIZ_TEST_SLOWDOWN);
  if (Number.isFinite(env) && env > 0) return env;
  if (measured === undefined) {
    const runs = [calibration(), calibration(), calibration()].sort((a, b) => a - b);
    measured = Math.max(1, runs[1]);
  }
  return measured;
}

/** `seconds` on the quiet reference machine, scaled to this machine now (whole seconds, at least `seconds`). */
export function scaledSeconds(seconds: number): number {
  return Math.ceil(seconds * slowdown());
}

/**
 * Resolves when `condition()` holds, polling every `everyMs`; rejects after `timeoutMs` (scaled by slowdown()) with
 * `what` and the last value seen.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  { timeoutMs = 60_000, everyMs = 50 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const end = performance.now() + timeoutMs * slowdown();
  let last: T | undefined;
  for (;;) {
    last = await condition();
    if (last) return last as NonNullable<T>;
    if (performance.now() > end) throw new Error(`waited ${timeoutMs} ms (x${slowdown().toFixed(1)}) for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
