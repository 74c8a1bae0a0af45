import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..', '..');

export interface CellReport {
  index: number;
  seconds: number | null;
  /** MIME types of each display/result output of the cell. */
  outputs: string[][];
  stderr: string;
}

export interface NotebookReport {
  notebook: string;
  seconds: number;
  cells: CellReport[];
  error: null | { cell: number; kind: string; message: string; cell_output: string; source: string };
  executed: string;
  html?: string;
}

export interface ExecutedNotebook {
  report: NotebookReport;
  /** The executed notebook (nbformat JSON). */
  nb: { cells: Array<{ cell_type: string; source: string | string[]; outputs?: Array<Record<string, unknown>> }> };
  html?: string;
}

/**
 * Python for a jupyter_client driver script: `pump(until, timeout)` hands each iopub message to the driver's
 * `record(m)` until `until()` holds (True) or the time-out passes (False). The driver defines `kc` and `record`.
 */
export const IOPUB_PUMP = String.raw`
def pump(until, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            m = kc.get_iopub_msg(timeout=0.05)
        except Exception:
            m = None
        if m is not None:
            record(m)
        if until():
            return True
    return False
`;

/** The Python that has Jupyter (as found by kernel-setup/setup.sh). */
export function jupyterPython(): string {
  const saved = path.join(REPO, 'kernel-setup', '.python');
  if (fs.existsSync(saved)) return fs.readFileSync(saved, 'utf8').trim();
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import nbclient'], { stdio: 'ignore' });
    if (r.status === 0) return p;
  }
  throw new Error("no Python with nbclient: run 'bash kernel-setup/setup.sh'");
}

/**
 * Execute notebooks through the real cnnviz kernel with kernel-setup/execute.py (the same
 * runner as `npm run lecture`). Throws nothing on cell errors: the report says.
 */
export function executeNotebooks(
  notebooks: string[],
  opts: { html?: boolean; timeoutS?: number; outDir?: string } = {},
): ExecutedNotebook[] {
  const outDir = opts.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-nb-'));
  const reportFile = path.join(outDir, 'report.json');
  const args = [
    path.join(REPO, 'kernel-setup', 'execute.py'),
    '--out',
    outDir,
    '--root',
    REPO,
    '--report',
    reportFile,
    '--timeout',
    String(opts.timeoutS ?? 600),
  ];
  if (opts.html) args.push('--html');
  args.push(...notebooks.map((n) => path.resolve(REPO, n)));
  try {
    execFileSync(jupyterPython(), args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    if (!fs.existsSync(reportFile))
      throw new Error(
        `execute.py failed before writing a report: ${String((err as { stderr?: Buffer }).stderr ?? err)}`,
      );
  }
  const reports = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as NotebookReport[];
  return reports.map((report) => ({
    report,
    nb: JSON.parse(fs.readFileSync(report.executed, 'utf8')),
    html: report.html ? fs.readFileSync(report.html, 'utf8') : undefined,
  }));
}

export function executeNotebook(
  notebook: string,
  opts: { html?: boolean; timeoutS?: number; outDir?: string } = {},
): ExecutedNotebook {
  return executeNotebooks([notebook], opts)[0];
}

/** Text of all stream outputs of a cell. */
export function streamText(cell: { outputs?: Array<Record<string, unknown>> }): string {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === 'stream')
    .map((o) => (Array.isArray(o.text) ? (o.text as string[]).join('') : String(o.text)))
    .join('');
}
