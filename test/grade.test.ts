import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, readAssignments, readNotebook, sourceOf } from '../src/check/assignments';
import { gradeSubmissions, GradeRun } from '../src/check/grade';
import { scaledSeconds } from './util/machine';
import { jupyterPython, REPO } from './util/notebook';

/**
 * A cell's limit is 30 s on a quiet 2-core machine, scaled by its measured slowdown (test/util/machine.ts): a loaded
 * one once took 45 s for a notebook's first cell (imports, model, data), and the endless loop waits out the limit
 * once. CNNVIZ_TEST_CELL_TIMEOUT_S sets it.
 *
 * `cnnviz grade` on submissions made for the purpose, each from the template or the solution with
 * one change: the expected score of each, and a clear row for the ones that hang, crash, throw at
 * import, or delete or edit their check cells.
 */

const TEMPLATES = path.join(REPO, 'notebooks', 'assignments');
const SOLUTIONS = path.join(REPO, 'teacher', 'solutions');

function notebook(dir: string, name: string): Notebook {
  return readNotebook(path.join(dir, `${name}.ipynb`));
}

/** The notebook with the TODO cell of `task` replaced by `source`. */
function withTask(nb: Notebook, task: string, source: string): Notebook {
  const cells = nb.cells.map((c) => (c.metadata?.cnnviz?.task === task ? { ...c, source } : c));
  assert.ok(
    cells.some((c) => c.metadata?.cnnviz?.task === task),
    `no TODO cell for ${task}`,
  );
  return { ...nb, cells };
}

function save(root: string, student: string, file: string, nb: Notebook): void {
  fs.mkdirSync(path.join(root, student), { recursive: true });
  fs.writeFileSync(path.join(root, student, file), JSON.stringify(nb));
}

const SALIENCY_WITH = (
  reduce: string,
) => `function mySaliency(model: tf.LayersModel, image: tf.Tensor3D, target: number): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = logitsOf(model);
    const score = (x: tf.Tensor) =>
      (logits.predict(x.expandDims(0)) as tf.Tensor2D).gather([target], 1).sum() as tf.Scalar;
    return tf.grad(score)(image)${reduce} as tf.Tensor2D;
  });
}`;

function makeSubmissions(root: string): void {
  const sal = notebook(SOLUTIONS, '01-saliency');
  const asc = notebook(SOLUTIONS, '03-gradient-ascent');
  save(root, 'correct', '01-saliency.ipynb', sal);
  save(root, 'correct', '03-gradient-ascent.ipynb', asc);
  save(
    root,
    'wraps-library',
    '01-saliency.ipynb',
    withTask(
      sal,
      'mySaliency',
      `import { saliency } from 'cnnviz';
async function mySaliency(model: tf.LayersModel, image: tf.Tensor3D, target: number) {
  return saliency(model, image, { target });
}`,
    ),
  );
  save(root, 'wrong-reduction', '01-saliency.ipynb', withTask(sal, 'mySaliency', SALIENCY_WITH('.abs().sum(-1)')));
  save(
    root,
    'plain-ascent',
    '03-gradient-ascent.ipynb',
    withTask(
      asc,
      'ascentStep',
      `function ascentStep(
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
  learningRate: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const score = (x: tf.Tensor) =>
      (logitsOf(model).predict(x.expandDims(0)) as tf.Tensor2D).gather([target], 1).sum() as tf.Scalar;
    return image.add(tf.grad(score)(image).mul(learningRate)) as tf.Tensor3D;
  });
}`,
    ),
  );
  save(
    root,
    'endless-loop',
    '01-saliency.ipynb',
    withTask(
      sal,
      'mySaliency',
      `function mySaliency(model: tf.LayersModel, image: tf.Tensor3D, target: number): tf.Tensor2D {
  let n = 0;
  while (image.rank > 0) n++;
  return tf.zeros([n, n]);
}`,
    ),
  );
  const broken = {
    ...sal,
    cells: sal.cells.map((c, i) =>
      i === 1 ? { ...c, source: `${sourceOf(c)}\nimport { helpers } from './my-helpers';` } : c,
    ),
  };
  save(root, 'throws-at-import', '01-saliency.ipynb', broken);
  save(
    root,
    'crashes-kernel',
    '01-saliency.ipynb',
    withTask(
      sal,
      'mySaliency',
      `function mySaliency(model: tf.LayersModel, image: tf.Tensor3D, target: number): tf.Tensor2D {
  process.exit(3);
}`,
    ),
  );
  save(root, 'edits-check', '01-saliency.ipynb', {
    ...sal,
    cells: sal.cells.map((c) =>
      c.metadata?.cnnviz?.check ? { ...c, source: `check.close(0, 0, { name: 'mine' });` } : c,
    ),
  });
  // The check cell gone and the notebook renamed: found by its metadata, the check run at the end.
  const answered = sal.cells.map((c) =>
    c.metadata?.cnnviz?.answer === 'saliency-1'
      ? { ...c, source: 'The strokes, and the background where a stroke could be.' }
      : c,
  );
  save(root, 'deletes-check', 'my-homework.ipynb', {
    ...sal,
    cells: answered.filter((c) => !c.metadata?.cnnviz?.check),
  });
}

describe('cnnviz grade: hidden checks, limits and reports', function () {
  this.timeout(1800_000);
  let run: GradeRun;
  let out: string;
  const row = (student: string) => {
    const r = run.rows.find((x) => x.student === student);
    assert.ok(r, `no row for ${student}`);
    return r;
  };
  const check = (student: string, name: string) => {
    const c = row(student)
      .notebooks.flatMap((n) => n.checks)
      .find((x) => x.check === name);
    assert.ok(c, `${student}: no result for ${name}`);
    return c;
  };

  before(async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-grade-'));
    const subs = path.join(dir, 'submissions');
    out = path.join(dir, 'report');
    makeSubmissions(subs);
    run = await gradeSubmissions(subs, {
      out,
      assignments: readAssignments(TEMPLATES),
      root: REPO,
      python: jupyterPython(),
      timeoutS: 600,
      cellTimeoutS: Number(process.env.CNNVIZ_TEST_CELL_TIMEOUT_S) || scaledSeconds(30),
      jobs: 2,
    });
  });

  it('gives each submission its expected score', () => {
    const scores = Object.fromEntries(run.rows.map((r) => [r.student, r.score]));
    assert.deepStrictEqual(scores, {
      correct: 4,
      'crashes-kernel': 0,
      'deletes-check': 1,
      'edits-check': 1,
      'endless-loop': 0,
      'plain-ascent': 3,
      'throws-at-import': 0,
      'wraps-library': 0,
      'wrong-reduction': 0,
    });
    assert.ok(
      run.rows.every((r) => r.max === 4),
      'max: the checks of the two assignments submitted',
    );
  });

  it('says why each failing check failed', () => {
    assert.match(
      check('wraps-library', 'saliency').message,
      /saliency: not available inside check\.saliency; write your own/,
    );
    assert.match(
      check('wrong-reduction', 'saliency').message,
      /hidden 3-channel model[^]*added \|gradient\| over the 3 channels/,
    );
    assert.match(check('plain-ascent', 'ascentStep').message, /plain \(x \+ lr \* g\)/);
    assert.match(check('endless-loop', 'saliency').message, /mySaliency was still running after \d+ s and was stopped/);
    assert.match(check('crashes-kernel', 'saliency').message, /crashed the kernel/);
    assert.match(check('throws-at-import', 'saliency').message, /mySaliency was not defined when the check ran/);
    assert.match(row('throws-at-import').notebooks[0].problems.join('\n'), /cell 1 failed: .*my-helpers/);
    assert.match(
      row('edits-check').notebooks[0].problems.join('\n'),
      /check cell of saliency was edited; the grader ran the original/,
    );
    assert.match(
      row('deletes-check').notebooks[0].problems.join('\n'),
      /check cell of saliency was deleted; the grader ran it at the end/,
    );
    // The hidden checks use the grader's seed: other images than the notebook's.
    assert.match(check('correct', 'saliency').message, /matches the reference on 7 hidden images/);
  });

  it('writes report.csv (one row per student), report.html (failed checks with messages, answers)', () => {
    const csv = fs.readFileSync(path.join(out, 'report.csv'), 'utf8').trim().split('\n');
    assert.strictEqual(csv.length, 1 + run.rows.length);
    assert.match(
      csv[0],
      new RegExp(
        /^student,score,max,seconds,01-saliency\/saliency,/.source +
          /03-gradient-ascent\/ascentStep,03-gradient-ascent\/regularize,/.source +
          /03-gradient-ascent\/gradientAscent,problems,01-saliency\/answer:saliency-1,/.source,
      ),
    );
    assert.match(
      csv.find((l) => l.startsWith('correct,'))!,
      /^correct,4,4,[\d.]+,1,1,1,1,/,
    );
    assert.match(
      csv.find((l) => l.startsWith('deletes-check,'))!,
      /The strokes, and the background where a stroke could be\./,
    );
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /<b>check\.saliency<\/b> failed<pre>[^<]*not available inside check\.saliency/);
    assert.match(html, /The strokes, and the background where a stroke could be\./);
  });

  it('the CLI grades a folder and exports the hand-out without solutions', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-export-'));
    const r = spawnSync(process.execPath, [path.join(REPO, 'build', 'src', 'cli.js'), 'assignments', 'export', dir], {
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, r.stderr);
    const files = fs.readdirSync(dir).sort();
    assert.deepStrictEqual(
      files,
      fs
        .readdirSync(TEMPLATES)
        .filter((f) => f.endsWith('.ipynb'))
        .sort(),
    );
    for (const f of files) {
      const nb = readNotebook(path.join(dir, f));
      assert.ok(
        nb.cells.every((c) => c.cell_type !== 'code' || ((c.outputs ?? []).length === 0 && c.execution_count === null)),
        `${f}: outputs cleared`,
      );
      assert.ok(
        nb.cells.some((c) => /throw new Error\('TODO/.test(sourceOf(c))),
        `${f}: the template, with its TODOs`,
      );
    }
    const bad = spawnSync(process.execPath, [path.join(REPO, 'build', 'src', 'cli.js'), 'grade'], { encoding: 'utf8' });
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /usage: cnnviz grade SUBMISSIONS_DIR/);
  });
});

describe('cnnviz grade: files that are not notebooks of the assignments', () => {
  it('gives an unreadable notebook named after an assignment a failing row, and names an unknown one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-grade-bad-'));
    fs.mkdirSync(path.join(dir, 'subs', 'alice'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'subs', 'bob'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'subs', 'alice', '01-saliency.ipynb'), '{not json');
    fs.writeFileSync(
      path.join(dir, 'subs', 'bob', 'notes.ipynb'),
      JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }),
    );
    const run = await gradeSubmissions(path.join(dir, 'subs'), {
      out: path.join(dir, 'report'),
      assignments: readAssignments(TEMPLATES),
      root: REPO,
      python: jupyterPython(),
    });
    const alice = run.rows.find((r) => r.student === 'alice')!;
    assert.deepStrictEqual([alice.score, alice.max], [0, 1]);
    assert.match(alice.notebooks[0].checks[0].message, /not a readable notebook/);
    assert.match(
      run.rows.find((r) => r.student === 'bob')!.notebooks[0].problems[0],
      /not one of the assignments \(01-saliency, /,
    );
    await assert.rejects(
      gradeSubmissions(path.join(dir, 'nothing-here'), {
        out: path.join(dir, 'r2'),
        assignments: [],
        root: REPO,
        python: 'python3',
      }),
      /cnnviz grade: no folder .*nothing-here/,
    );
  });
});
