import * as os from 'os';
import * as path from 'path';
import { exportAssignments, readAssignments } from '../check/assignments';
import { gradeSubmissions } from '../check/grade';
import { mergeReports } from '../check/grade_report';
import { readyJupyter } from './doctor';
import { packageRoot } from './paths';
import { fail } from '../common';

export const ASSIGNMENTS_USAGE = 'usage: cnnviz assignments export DIR';

export const GRADE_USAGE =
  'usage: cnnviz grade SUBMISSIONS_DIR [--out report] [--timeout 300] [--cell-timeout S] [--jobs N] [--seed N] ' +
  '[--memory MiB] [--unsafe]\n       cnnviz grade merge OUT_DIR REPORT_JSON... (one report of several shards)';

function numberArg(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n <= 0)
    fail('cnnviz grade', `${flag} needs a positive number, got ${v === undefined ? 'nothing' : `'${v}'`}`);
  return n;
}

interface GradeArgs {
  dir: string;
  out: string;
  o: { timeoutS?: number; cellTimeoutS?: number; jobs?: number; seed?: number; memoryMb?: number; unsafe?: boolean };
}

/** The arguments, or the exit code and what to print. */
function parseGradeArgs(args: string[]): GradeArgs | { exit: number; text: string } {
  let out = path.resolve('report');
  let dir: string | undefined;
  const o: GradeArgs['o'] = {};
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--out') out = path.resolve(args[++i] ?? 'report');
      else if (a === '--timeout') o.timeoutS = numberArg(a, args[++i]);
      else if (a === '--cell-timeout') o.cellTimeoutS = numberArg(a, args[++i]);
      else if (a === '--jobs') o.jobs = Math.round(numberArg(a, args[++i]));
      else if (a === '--seed') o.seed = Math.round(numberArg(a, args[++i]));
      else if (a === '--memory') o.memoryMb = Math.round(numberArg(a, args[++i]));
      else if (a === '--unsafe') o.unsafe = true;
      else if (a === '-h' || a === '--help') return { exit: 0, text: GRADE_USAGE };
      else if (a.startsWith('-')) return { exit: 2, text: `cnnviz grade: unknown option '${a}'\n${GRADE_USAGE}` };
      else if (dir === undefined) dir = path.resolve(a);
      else return { exit: 2, text: `cnnviz grade: one submissions folder, got '${dir}' and '${a}'\n${GRADE_USAGE}` };
    }
  } catch (err) {
    return { exit: 2, text: `${(err as Error).message}\n${GRADE_USAGE}` };
  }
  return dir ? { dir, out, o } : { exit: 2, text: GRADE_USAGE };
}

/**
 * `cnnviz grade SUBMISSIONS_DIR [--out report]`: every notebook in a fresh kernel, hidden checks, report.csv +
 * report.html.
 */
export async function gradeMain(args: string[]): Promise<number> {
  const root = packageRoot();
  if (args[0] === 'merge') return mergeMain(args.slice(1), root);
  const parsed = parseGradeArgs(args);
  if ('exit' in parsed) {
    (parsed.exit === 0 ? console.log : console.error)(parsed.text);
    return parsed.exit;
  }
  const { dir, out, o } = parsed;
  const python = readyJupyter('grade', root);
  if (!python) return 1;
  const assignments = readAssignments(path.join(root, 'notebooks', 'assignments'));
  const jobs = o.jobs ?? Math.max(1, Math.min(os.cpus().length, 4));
  console.log(
    `grading ${dir} against ${assignments.map((a) => a.id).join(', ')}: ${jobs} at a time, ${o.timeoutS ?? 300} s ` +
      `per notebook${o.unsafe ? ', WITHOUT a sandbox (--unsafe)' : ''}`,
  );
  const run = await gradeSubmissions(dir, {
    ...o,
    jobs,
    out,
    assignments,
    root,
    python,
    onProgress: (l) => console.log(`  ${l}`),
  });
  console.log(
    `${run.rows.length} students in ${run.seconds.toFixed(0)} s (sandbox: ${run.sandbox}): wrote ${run.files.csv} ` +
      `and ${run.files.html}`,
  );
  return 0;
}

/** `cnnviz grade merge OUT report.json...`: the shards' rows in one report (a student in two shards: both kept). */
function mergeMain(args: string[], root: string): number {
  if (args.length < 2) {
    console.error(GRADE_USAGE);
    return 2;
  }
  const assignments = readAssignments(path.join(root, 'notebooks', 'assignments'));
  const run = mergeReports(
    args.slice(1).map((f) => path.resolve(f)),
    path.resolve(args[0]),
    assignments,
  );
  console.log(`${run.students} students from ${args.length - 1} reports: wrote ${run.files.csv} and ${run.files.html}`);
  return 0;
}

/** `cnnviz assignments export DIR`: the student versions (templates only, outputs cleared). */
export async function assignmentsMain(args: string[]): Promise<number> {
  const usage = ASSIGNMENTS_USAGE;
  if (args[0] !== 'export' || !args[1] || args.length > 2) {
    console.error(usage);
    return 2;
  }
  const written = exportAssignments(path.join(packageRoot(), 'notebooks', 'assignments'), path.resolve(args[1]));
  for (const f of written) console.log(`wrote ${f}`);
  console.log(`${written.length} assignment templates; the solutions (teacher/solutions) are not in the hand-out`);
  return 0;
}
