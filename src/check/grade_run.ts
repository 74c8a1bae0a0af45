/**
 * Runs one prepared notebook for `cnnviz grade`: the runner (kernel-setup/grade_notebook.py) and
 * its kernel inside the sandbox (sandbox.ts), or, with --unsafe only, as plain processes. Reads
 * back what the box left in its folder as untrusted input, and says in words what the sandbox
 * stopped: the wall time, memory, CPU time, processes left behind, writes outside the folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dataDir, mirrorDir } from '../data/store';
import { handOver, runSandboxed, runWithWallLimit, SandboxLimits, SandboxRun } from './sandbox';

export interface RunnerCell {
  index: number;
  role: string;
  status: 'ok' | 'error' | 'timeout' | 'crash' | 'aborted' | 'skipped';
  seconds: number;
  detail: string;
}
export interface RunnerReport {
  seconds: number;
  restarts: number;
  kernel_error: string | null;
  cells: RunnerCell[];
  /** Processes still running in the box when the runner ended (their names). */
  leftover?: string[];
}

export interface RunSettings {
  root: string;
  python: string;
  kernel: string;
  /** The folder holding the kernel spec of `kernel` (bound read-only into the box). */
  kernelDir?: string;
  /** The shared folder with node_modules/cnnviz (bound read-only). */
  workDir: string;
  timeoutS: number;
  cellTimeoutS: number;
  memoryMb: number;
  unsafe: boolean;
}

/** Reads a file the box may have written: a plain file (no link), at most `max` bytes; undefined otherwise. */
export function readUntrusted(file: string, max = 64 * 1024 * 1024): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(st.size, max));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const KERNEL_HOME = '/cnnviz-jupyter';

/** Runs the runner on `dir`'s spec.json; `slot` picks the box's user. */
export async function runNotebook(dir: string, s: RunSettings, slot: number): Promise<SandboxRun> {
  const runner = path.join(s.root, 'kernel-setup', 'grade_notebook.py');
  const specFile = path.join(dir, 'spec.json');
  const wallS = s.timeoutS + 60;
  if (s.unsafe) return runWithWallLimit(s.python, [runner, specFile], wallS, { ...process.env }, dir);
  const limits: SandboxLimits = {
    wallS,
    cpuS: s.timeoutS + 30,
    memoryMb: s.memoryMb,
    fileMb: 256,
    processes: 256,
  };
  handOver(dir, slot);
  const readOnly: Array<[string, string]> = [
    [path.join(s.workDir, 'node_modules'), path.join(s.workDir, 'node_modules')],
  ];
  const env: Record<string, string> = {
    CNNVIZ_SANDBOX: '1',
    JUPYTER_RUNTIME_DIR: '/tmp/jupyter-runtime',
    JUPYTER_CONFIG_DIR: '/tmp/jupyter-config',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  if (s.kernelDir) {
    readOnly.push([s.kernelDir, path.join(KERNEL_HOME, 'kernels', s.kernel)]);
    env.JUPYTER_DATA_DIR = KERNEL_HOME;
  }
  const data = dataDir();
  readOnly.push([data, data]);
  env.CNNVIZ_DATA = data;
  const mirror = mirrorDir();
  if (mirror) {
    readOnly.push([mirror, mirror]);
    env.CNNVIZ_MIRROR = mirror;
  }
  return runSandboxed({ root: s.root, workDir: dir, readOnly, env, slot, limits }, [s.python, runner, specFile]);
}

/** The line of an error's text that says what went wrong (tslab puts the source location first). */
export function errorLine(s: string): string {
  const lines = s
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^at /.test(l));
  return lines.find((l) => /^(\w*Error|E[A-Z]+)\b.*:|\bE[A-Z]{3,}\b:/.test(l)) ?? lines[0] ?? '';
}

/** What the sandbox stopped, in words (from the grader's own view of the run and, marked so, the runner's). */
export function sandboxProblems(run: SandboxRun, report: RunnerReport | undefined, s: RunSettings): string[] {
  const out: string[] = [];
  if (run.wallKilled) out.push(`time: the sandbox was stopped at its wall-time limit (${s.timeoutS + 60} s)`);
  const text = `${run.stderr}\n${(report?.cells ?? []).map((c) => c.detail).join('\n')}`;
  if (
    /heap out of memory|allocation failed|Cannot allocate memory|ENOMEM|Out of memory|Array buffer allocation/i.test(
      text,
    )
  )
    out.push(`memory: a process reached the memory limit (${s.memoryMb} MiB) and was stopped`);
  if (/SIGXCPU|CPU time limit/.test(text))
    out.push(`time: a process used up its CPU-time limit (${s.timeoutS + 30} s)`);
  if (report?.leftover?.length)
    out.push(
      `killed process: ${report.leftover.length} process(es) the notebook started were still running when it ended ` +
        `(${[...new Set(report.leftover)].slice(0, 4).join(', ')}); the sandbox killed them`,
    );
  const writes = (report?.cells ?? []).filter((c) =>
    /EROFS|read-only file system|EACCES|permission denied/i.test(c.detail),
  );
  if (writes.length) {
    const why = errorLine(writes.map((c) => c.detail).find((d) => /EROFS|EACCES/.test(d)) ?? writes[0].detail);
    out.push(
      `write outside its folder: the sandbox refused it (cell ${writes.map((c) => c.index).join(', ')}: ` +
        `${why.slice(0, 160)})`,
    );
  }
  if ((report?.cells ?? []).some((c) => /ENETUNREACH|EAI_AGAIN|ENOTFOUND|Network is unreachable/i.test(c.detail)))
    out.push('network: the notebook tried to connect; the sandbox has no network');
  if (!report)
    out.push(
      run.wallKilled
        ? 'the run gave no report (stopped at the wall-time limit)'
        : `killed: the run ended without its report (exit ${run.code ?? run.signal}): a process in the sandbox ` +
            `killed the runner, or was killed`,
    );
  return out;
}
