/**
 * Kernel status that tells the truth during Run All.
 *
 * tslab publishes "busy" for each shell request as it arrives and "idle" as each one finishes, so
 * when a front end sends many execute requests at once (Run All) every "busy" comes first, and the
 * first cell's "idle" shows the kernel Idle while later cells still wait their turn. Python's
 * kernel reads one request at a time, so its "idle" for one cell is followed by "busy" for the next.
 *
 * This does the same from our side: `ZmqServer.prototype.publishStatus` is wrapped at run time
 * (tslab's files are untouched); when an "idle" goes out while another cell is running (tslab starts
 * the next queued cell before the finished one's "idle"), a "busy" follows at once, with the oldest
 * request still open as its parent (or the finished one, for requests that arrived before cnnviz was
 * loaded). A front end that waits for each request's own "idle" (nbclient, Lab's futures) is unaffected.
 */
const WRAPPED = Symbol.for('cnnviz.kernelStatus');

interface StatusServer {
  publishStatus?: (status: string, parent: unknown) => unknown;
}

/** Wraps publishStatus on tslab's ZmqServer prototype once; `busy()` says whether a cell runs now. */
export function trackStatus(proto: StatusServer | undefined, busy: () => boolean): void {
  const original = proto?.publishStatus;
  if (!proto || typeof original !== 'function' || (proto as { [WRAPPED]?: boolean })[WRAPPED]) return;
  (proto as { [WRAPPED]?: boolean })[WRAPPED] = true;
  // requests whose "busy" we saw and whose "idle" has not gone out, oldest first
  const open: unknown[] = [];
  proto.publishStatus = function (this: unknown, status: string, parent: unknown): unknown {
    if (status === 'busy' && !open.includes(parent)) open.push(parent);
    const out = original.call(this, status, parent);
    if (status === 'idle') {
      const at = open.indexOf(parent);
      if (at >= 0) open.splice(at, 1);
      if (busy()) original.call(this, 'busy', open[0] ?? parent);
    }
    return out;
  };
}

/**
 * tslab answers no history_request (JupyterLab sends one for a cell's up-arrow history) and warns
 * "unknown msg_type: history_request" on console.warn, which lands in whatever cell ran last. That
 * one warning is dropped; every other line passes.
 */
export function quietHistoryRequests(): void {
  const warn = console.warn as typeof console.warn & { [WRAPPED]?: boolean };
  if (warn[WRAPPED]) return;
  const quiet = function (this: unknown, ...args: unknown[]): void {
    if (args.length === 1 && args[0] === 'unknown msg_type: history_request') return;
    warn.apply(this === undefined ? console : this, args);
  } as typeof console.warn & { [WRAPPED]?: boolean };
  quiet[WRAPPED] = true;
  console.warn = quiet;
}
