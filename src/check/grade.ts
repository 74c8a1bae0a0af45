/**
 * `cnnviz grade`: every submitted notebook runs headless in a fresh kernel (kernel-setup/
 * grade_notebook.py) inside its own sandbox (sandbox.ts), with each check cell replaced by a hidden
 * one that records what the student's function returns on the grader's inputs (record.ts); the
 * grader then judges those values in its own process (judge.ts). Deleted check cells
 * are put back at the end, edited ones are replaced by the original (as nbgrader's
 * OverwriteCells and add_missing_cells do); a cell that hangs or kills the kernel costs that cell
 * only. Results: one row per student (report.csv, report.html, report.json).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { AssignmentSpec, identify, Notebook, NotebookCell, readNotebook, sourceOf } from './assignments';
import { flagsOf } from './flags';
import {
  errorLine,
  readUntrusted,
  RunnerCell,
  RunnerReport,
  runNotebook,
  RunSettings,
  sandboxProblems,
} from './grade_run';
import { judge } from './judge';
import { sandboxAvailable } from './sandbox';
import type { CheckOutcome, NotebookOutcome, StudentRow } from './grade_outcome';
import { fail } from '../common';

export type { CheckOutcome, NotebookOutcome, StudentRow } from './grade_outcome';

export interface GradeOptions {
  /** Report folder (report.csv, report.html, report.json, work/). */
  out: string;
  /** The templates the submissions are graded against. */
  assignments: AssignmentSpec[];
  /** The package root (for the runner and for `import 'cnnviz'` from the work folder). */
  root: string;
  python: string;
  kernel?: string;
  /** Seconds per notebook (default 300). */
  timeoutS?: number;
  /** Seconds per cell (default: the notebook's limit). */
  cellTimeoutS?: number;
  /** Notebooks graded at once (default 2). */
  jobs?: number;
  /** Seed of the hidden cases (default 2027). */
  seed?: number;
  /** Memory per process in the sandbox, MiB (default 4096). */
  memoryMb?: number;
  /** Run without the sandbox (where it cannot be built); every row says so. */
  unsafe?: boolean;
  /** The folder of the kernel's spec (kernel.json), bound into the sandbox; default: asked of Jupyter. */
  kernelDir?: string;
  onProgress?: (line: string) => void;
}

export interface GradeRun {
  rows: StudentRow[];
  assignments: AssignmentSpec[];
  seconds: number;
  /** 'bubblewrap', or why there was none (--unsafe). */
  sandbox: string;
  files: { csv: string; html: string; json: string };
}

const CHECK_CALL = (name: string) => new RegExp(`^\\s*await\\s+check\\.${name}\\s*\\(`, 'm');
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Every .ipynb under dir: the student is the first folder below dir, or the file's name when it lies in dir itself. */
export function findSubmissions(dir: string): Array<{ student: string; file: string }> {
  const out: Array<{ student: string; file: string }> = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ipynb')) {
        const rel = path.relative(dir, p).split(path.sep);
        out.push({ student: rel.length > 1 ? rel[0] : path.basename(e.name, '.ipynb'), file: p });
      }
    }
  };
  walk(dir);
  return out;
}

function hiddenCell(spec: AssignmentSpec['checks'][number], k: number, seed: number, file: string): NotebookCell {
  const alias = `cnnvizGrader${k}`;
  return {
    cell_type: 'code',
    metadata: { cnnviz: { role: 'hidden', check: spec.check } },
    outputs: [],
    execution_count: null,
    source:
      `import * as ${alias} from 'cnnviz';\nawait ${alias}.check.gradeOne({ check: ${JSON.stringify(spec.check)}, ` +
      `fn: ${spec.fn}, seed: ${seed}, file: ${JSON.stringify(file)} });`,
  };
}

/** The notebook the runner executes: the student's cells, the hidden checks in place of the check cells. */
export function prepare(
  nb: Notebook,
  spec: AssignmentSpec,
  seed: number,
  resultsFile: string,
): { nb: Notebook; problems: string[] } {
  const problems: string[] = [];
  const cells: NotebookCell[] = nb.cells.map((c) => ({
    ...c,
    metadata: { ...(c.metadata ?? {}), cnnviz: { ...(c.metadata?.cnnviz ?? {}), role: 'student' } },
  }));
  const used = new Map<number, AssignmentSpec['checks'][number]>();
  const missing: AssignmentSpec['checks'] = [];
  spec.checks.forEach((chk) => {
    let at = cells.findIndex(
      (c, i) => !used.has(i) && c.cell_type === 'code' && c.metadata?.cnnviz?.check === chk.check,
    );
    if (at < 0)
      at = cells.findIndex((c, i) => !used.has(i) && c.cell_type === 'code' && CHECK_CALL(chk.check).test(sourceOf(c)));
    if (at < 0) {
      missing.push(chk);
      problems.push(`the check cell of ${chk.check} was deleted; the grader ran it at the end of the notebook`);
      return;
    }
    used.set(at, chk);
    if (norm(sourceOf(cells[at])) !== norm(chk.source))
      problems.push(`the check cell of ${chk.check} was edited; the grader ran the original`);
  });
  let k = 0;
  const out: NotebookCell[] = cells.map((c, i) => {
    const chk = used.get(i);
    return chk ? hiddenCell(chk, ++k, seed, resultsFile) : c;
  });
  for (const chk of missing) out.push(hiddenCell(chk, ++k, seed, resultsFile));
  return { nb: { ...nb, cells: out }, problems };
}

function answersOf(nb: Notebook, spec: AssignmentSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of spec.answers) {
    const cell = nb.cells.find((c) => c.metadata?.cnnviz?.answer === a.id);
    const text = cell ? sourceOf(cell).trim() : '';
    out[a.id] = !cell ? '(answer cell deleted)' : text === a.placeholder || text === '' ? '' : text;
  }
  return out;
}

const firstLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))[0] ?? '';

/** Grades one notebook; never throws for anything the notebook does. */
async function gradeNotebook(
  sub: { student: string; file: string },
  opts: Required<Omit<GradeOptions, 'onProgress' | 'kernelDir'>>,
  settings: RunSettings,
  index: number,
  slot: number,
): Promise<NotebookOutcome> {
  const t0 = Date.now();
  const base: NotebookOutcome = {
    student: sub.student,
    file: sub.file,
    checks: [],
    problems: [],
    answers: {},
    seconds: 0,
  };
  let nb: Notebook;
  try {
    nb = readNotebook(sub.file);
    if (!Array.isArray(nb.cells)) throw new Error('it has no cells');
  } catch (err) {
    const why = `not a readable notebook: ${(err as Error).message.split('\n')[0]}`;
    // Named after an assignment: every check of it fails, so the row says what is missing.
    const named = identify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }, sub.file, opts.assignments);
    if (!named) return { ...base, problems: [why] };
    return {
      ...base,
      assignment: named.id,
      checks: named.checks.map((c) => ({
        check: c.check,
        passed: false,
        message: `the check could not run: the file is ${why}`,
      })),
      problems: [why],
    };
  }
  const spec = identify(nb, sub.file, opts.assignments);
  if (!spec)
    return {
      ...base,
      problems: [
        `not one of the assignments (${opts.assignments.map((a) => a.id).join(', ')}): set its metadata ` +
          `cnnviz.assignment or name the file after one`,
      ],
    };
  const dir = path.join(
    settings.workDir,
    `${String(index).padStart(3, '0')}-${sub.student.replace(/[^\w.-]+/g, '_')}-${spec.id}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  const resultsFile = path.join(dir, 'results.jsonl');
  fs.rmSync(resultsFile, { force: true });
  const prepared = prepare(nb, spec, opts.seed, resultsFile);
  const preparedFile = path.join(dir, 'prepared.ipynb');
  fs.writeFileSync(preparedFile, JSON.stringify(prepared.nb));
  const executed = path.join(dir, 'executed.ipynb');
  const reportFile = path.join(dir, 'runner.json');
  fs.writeFileSync(
    path.join(dir, 'spec.json'),
    JSON.stringify({
      notebook: preparedFile,
      executed,
      report: reportFile,
      cwd: dir,
      kernel: opts.kernel,
      budget: opts.timeoutS,
      cell_timeout: opts.cellTimeoutS,
    }),
  );
  const run = await runNotebook(dir, settings, slot);
  // Everything below reads what the box left in its folder: untrusted, and never a verdict.
  const problems = [...prepared.problems];
  let report: RunnerReport | undefined;
  try {
    const r = JSON.parse(readUntrusted(reportFile, 8 * 1024 * 1024) ?? 'null') as RunnerReport | null;
    if (r && Array.isArray(r.cells)) report = r;
  } catch {
    report = undefined;
  }
  const lines = (readUntrusted(resultsFile) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        return undefined;
      }
    })
    .filter((l): l is { check: unknown } => typeof l === 'object' && l !== null && 'check' in l);
  const hiddenCells = new Map<string, RunnerCell>();
  if (report) {
    prepared.nb.cells.forEach((c, i) => {
      const chk = c.metadata?.cnnviz?.role === 'hidden' ? c.metadata.cnnviz.check : undefined;
      const rc = report!.cells.find((x) => x.index === i);
      if (chk && rc) hiddenCells.set(chk, rc);
    });
    if (report.kernel_error) problems.push(`the kernel could not run: ${firstLine(report.kernel_error)}`);
    const failing = report.cells.filter((c) => c.role === 'student' && c.status === 'error');
    for (const c of report.cells) {
      if (c.role !== 'student') continue;
      // One failing cell usually makes the next ones fail for want of its names: the first three say enough.
      if (c.status === 'error' && failing.indexOf(c) === 3) problems.push(`${failing.length - 3} more cells failed`);
      if (c.status === 'error' && failing.indexOf(c) >= 3) continue;
      if (c.status === 'timeout')
        problems.push(
          `cell ${c.index} was still running after ${Math.round(c.seconds)} s and was stopped (an endless loop?); ` +
            `the notebook went on without it`,
        );
      else if (c.status === 'crash')
        problems.push(`cell ${c.index} crashed the kernel (${firstLine(c.detail)}); a fresh kernel went on without it`);
      else if (c.status === 'error')
        problems.push(`cell ${c.index} failed: ${errorLine(c.detail) || 'an error with no message'}`);
    }
    if (report.cells.some((c) => c.status === 'skipped') && !report.kernel_error)
      problems.push(`the notebook's time limit (${opts.timeoutS} s) ran out; the cells after it were not run`);
  }
  const checks: CheckOutcome[] = [];
  for (const chk of spec.checks) {
    // The hidden cell writes one line per check: more are forged (they count for nothing; the last one is judged).
    const n = lines.filter((l) => l.check === chk.check).length;
    if (n > 1) problems.push(`tampering: ${chk.check}: the results file holds ${n} lines for one hidden check`);
    const line = [...lines].reverse().find((l) => l.check === chk.check);
    if (line) {
      const j = await judge(chk.check, chk.fn, opts.seed, line);
      if (j.tampered) problems.push(`tampering: ${chk.check}: ${j.tampered}`);
      checks.push({ check: chk.check, passed: j.passed, message: j.message });
      continue;
    }
    const rc = hiddenCells.get(chk.check);
    let message = 'the hidden check did not run';
    if (rc?.status === 'timeout')
      message = `${chk.fn} was still running after ${Math.round(rc.seconds)} s and was stopped (an endless loop?)`;
    else if (rc?.status === 'crash') message = `${chk.fn} crashed the kernel: ${firstLine(rc.detail)}`;
    else if (rc?.status === 'skipped') message = `not run: ${rc.detail}`;
    else if (rc?.status === 'error' || rc?.status === 'aborted') {
      const d = firstLine(rc.detail);
      message = /Cannot find name/.test(d)
        ? `${chk.fn} was not defined when the check ran: the cell that defines it failed, was renamed or was deleted ` +
          `(the kernel said: ${d})`
        : `the hidden check cell failed: ${d || rc.status}`;
    }
    checks.push({ check: chk.check, passed: false, message });
  }
  problems.push(...sandboxProblems(run, report, settings), ...flagsOf(nb));
  const answers = answersOf(nb, spec);
  for (const [id, text] of Object.entries(answers))
    if (/^[=+\-@\t\r]/.test(text))
      problems.push(`formula: answer ${id} starts like a spreadsheet formula; report.csv writes it as text`);
  if (settings.unsafe) problems.push("unsafe: graded WITHOUT a sandbox (--unsafe); its code ran as the grader's user");
  return {
    ...base,
    assignment: spec.id,
    checks,
    problems,
    answers,
    seconds: (Date.now() - t0) / 1000,
    executed: fs.existsSync(executed) ? executed : undefined,
  };
}

/** Grades every notebook under `dir`; writes the reports; returns the rows. */
export async function gradeSubmissions(dir: string, o: GradeOptions): Promise<GradeRun> {
  const t0 = Date.now();
  const timeoutS = o.timeoutS ?? 300;
  const opts: Required<Omit<GradeOptions, 'onProgress' | 'kernelDir'>> = {
    out: o.out,
    assignments: o.assignments,
    root: o.root,
    python: o.python,
    kernel: o.kernel ?? 'cnnviz',
    timeoutS,
    cellTimeoutS: Math.min(o.cellTimeoutS ?? timeoutS, timeoutS),
    jobs: o.jobs ?? 2,
    seed: o.seed ?? 2027,
    memoryMb: o.memoryMb ?? 4096,
    unsafe: o.unsafe ?? false,
  };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    fail(
      'cnnviz grade',
      `no folder ${dir}; give the folder of submissions (one subfolder per student, or notebooks ` +
        `named per student)`,
    );
  const subs = findSubmissions(dir);
  if (subs.length === 0) fail('cnnviz grade', `no notebooks (.ipynb) under ${dir}`);
  const box = sandboxAvailable();
  if (!box.ok && !opts.unsafe)
    fail(
      'cnnviz grade',
      `the sandbox cannot be built here (${box.why}); students' code would run as your user with ` +
        `your files. Install bubblewrap (Linux), or pass --unsafe to grade without it (every row will say so)`,
    );
  const workDir = path.join(opts.out, 'work');
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(workDir, 'node_modules'), { recursive: true });
  // The notebooks import 'cnnviz' by name: resolve it to this package from the work folder.
  fs.symlinkSync(opts.root, path.join(workDir, 'node_modules', 'cnnviz'), 'dir');
  const settings: RunSettings = {
    root: opts.root,
    python: opts.python,
    kernel: opts.kernel,
    kernelDir: readableCopy(o.kernelDir ?? kernelDirOf(opts.python, opts.kernel), path.join(workDir, 'kernelspec')),
    workDir,
    timeoutS: opts.timeoutS,
    cellTimeoutS: opts.cellTimeoutS,
    memoryMb: opts.memoryMb,
    unsafe: opts.unsafe,
  };
  const results: NotebookOutcome[] = new Array(subs.length);
  let next = 0;
  const worker = async (slot: number) => {
    while (next < subs.length) {
      const i = next++;
      results[i] = await gradeNotebook(subs[i], opts, settings, i, slot).catch((err: unknown): NotebookOutcome => ({
        ...subs[i],
        checks: [],
        problems: [`the grader failed on this notebook: ${err instanceof Error ? err.message : String(err)}`],
        answers: {},
        seconds: 0,
      }));
      const r = results[i];
      o.onProgress?.(
        `${r.student} ${path.basename(r.file)}: ${r.checks.filter((c) => c.passed).length}/${r.checks.length} ` +
          `checks, ${r.seconds.toFixed(1)} ` +
          `s${r.problems.length ? ` (${r.problems.length} problem${r.problems.length > 1 ? 's' : ''})` : ''}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, subs.length)) }, (_, k) => worker(k)));
  const rows = toRows(results, opts.assignments);
  const sandbox = box.ok ? (opts.unsafe ? 'none (--unsafe)' : box.why) : `none (--unsafe; ${box.why})`;
  const { writeReports } = await import('./grade_report');
  const files = writeReports(rows, opts.assignments, opts.out, (Date.now() - t0) / 1000, sandbox);
  return { rows, assignments: opts.assignments, seconds: (Date.now() - t0) / 1000, sandbox, files };
}

/** A copy of the kernel spec that the sandbox's user can read (Jupyter makes the folder 0700). */
function readableCopy(dir: string | undefined, to: string): string | undefined {
  if (!dir) return undefined;
  fs.cpSync(dir, to, { recursive: true, dereference: true });
  const open = (p: string) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) open(path.join(p, e));
  };
  open(to);
  return to;
}

/** The folder of a kernel's spec, asked of Jupyter (undefined when it does not know it). */
export function kernelDirOf(python: string, kernel: string): string | undefined {
  const r = spawnSync(
    python,
    [
      '-c',
      'import sys\nfrom jupyter_client.kernelspec import KernelSpecManager as K\n' +
        'print(K().get_kernel_spec(sys.argv[1]).resource_dir)',
      kernel,
    ],
    { encoding: 'utf8' },
  );
  const dir = r.status === 0 ? r.stdout.trim() : '';
  return dir && fs.existsSync(dir) ? dir : undefined;
}

function toRows(results: NotebookOutcome[], specs: AssignmentSpec[]): StudentRow[] {
  const graded = specs.filter((s) => results.some((r) => r.assignment === s.id));
  const max = graded.reduce((n, s) => n + s.checks.length, 0);
  const students = [...new Set(results.map((r) => r.student))].sort();
  return students.map((student) => {
    const notebooks = results.filter((r) => r.student === student);
    const score = notebooks.reduce((n, r) => n + r.checks.filter((c) => c.passed).length, 0);
    return { student, score, max, seconds: notebooks.reduce((t, r) => t + r.seconds, 0), notebooks };
  });
}
