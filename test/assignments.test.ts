import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ExecutedNotebook, executeNotebooks, REPO, streamText } from './util/notebook';

/**
 * The assignment notebooks through the real kernel. Solutions (teacher/solutions): every check
 * cell prints ✓ and the cells after the checks draw the student's results. Untouched templates:
 * the notebook still runs to the end (no cell error), and every check cell prints ✗ with the
 * message that says the TODO is not done and what to do, never a crash or a stack trace.
 */

type Cell = ExecutedNotebook['nb']['cells'][number];

const CHECKS: Record<string, string[]> = {
  '01-saliency': ['saliency'],
  '02-occlusion': ['occlusion'],
  '03-gradient-ascent': ['ascentStep', 'regularize', 'gradientAscent'],
  '04-feature-space': ['knn', 'features'],
  '05-receptive-fields': ['receptiveFields', 'receptiveBox'],
  '06-guided-backprop': ['guidedRelu', 'guidedBackprop'],
};
const SOLUTIONS = path.join('teacher', 'solutions');

type Marked = Cell & { metadata?: { cnnviz?: { check?: string; task?: string; answer?: string } } };

function source(c: Cell): string {
  return Array.isArray(c.source) ? c.source.join('') : c.source;
}

function checkCells(nb: ExecutedNotebook['nb']): Array<{ name: string; cell: Cell }> {
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => ({ m: /^await check\.(\w+)\(/.exec(source(c).trim()), cell: c }))
    .filter((x) => x.m)
    .map((x) => ({ name: x.m![1], cell: x.cell }));
}

function hasPng(c: Cell): boolean {
  return (c.outputs ?? []).some((o) => (o.data as Record<string, unknown> | undefined)?.['image/png']);
}

describe('assignments: templates and solutions through the real kernel', function () {
  this.timeout(3600_000);
  const names = Object.keys(CHECKS);
  const templates = names.map((n) => path.join('notebooks', 'assignments', `${n}.ipynb`));
  const solutions = names.map((n) => path.join(SOLUTIONS, `${n}.ipynb`));
  let runs: ExecutedNotebook[] = [];
  const run = (file: string) => {
    const r = runs.find((x) => path.relative(REPO, x.report.notebook) === file);
    assert.ok(r, `${file} was not executed`);
    return r;
  };

  before(function () {
    runs = executeNotebooks([...templates, ...solutions], { timeoutS: 600 });
  });

  it('has a solution for every template, the same notebook but for the TODO cells', () => {
    for (const name of names) {
      const t = JSON.parse(
        fs.readFileSync(path.join(REPO, 'notebooks', 'assignments', `${name}.ipynb`), 'utf8'),
      ) as ExecutedNotebook['nb'];
      const s = JSON.parse(
        fs.readFileSync(path.join(REPO, SOLUTIONS, `${name}.ipynb`), 'utf8'),
      ) as ExecutedNotebook['nb'];
      assert.strictEqual(t.cells.length, s.cells.length, name);
      let todos = 0;
      t.cells.forEach((c, i) => {
        const ts = source(c);
        const ss = source(s.cells[i]);
        if (/throw new Error\('TODO/.test(ts)) {
          todos++;
          assert.doesNotMatch(ss, /throw new Error\('TODO/, `${name} cell ${i}: the solution still has the TODO`);
        } else if (i > 0) assert.strictEqual(ts, ss, `${name} cell ${i} differs between template and solution`);
      });
      assert.strictEqual(todos, CHECKS[name].length, `${name}: one TODO per check`);
      // The marks the grader reads: the notebook's id, each check cell, each TODO cell, the answer cells.
      const meta = (
        JSON.parse(fs.readFileSync(path.join(REPO, 'notebooks', 'assignments', `${name}.ipynb`), 'utf8')) as {
          metadata: { cnnviz?: { assignment?: string } };
        }
      ).metadata;
      assert.strictEqual(meta.cnnviz?.assignment, name);
      const marked = t.cells as Marked[];
      assert.deepStrictEqual(
        marked.filter((c) => c.metadata?.cnnviz?.check).map((c) => c.metadata!.cnnviz!.check),
        CHECKS[name],
      );
      assert.strictEqual(marked.filter((c) => c.metadata?.cnnviz?.task).length, CHECKS[name].length);
      const answers = marked.filter((c) => c.metadata?.cnnviz?.answer);
      assert.ok(answers.length >= 3, `${name}: an answer cell per question`);
      for (const a of answers) assert.strictEqual(a.cell_type, 'markdown');
    }
  });

  it('leaves the work to the student: the tasks name the tools, not the code', () => {
    const text = (name: string) =>
      (
        JSON.parse(
          fs.readFileSync(path.join(REPO, 'notebooks', 'assignments', `${name}.ipynb`), 'utf8'),
        ) as ExecutedNotebook['nb']
      ).cells
        .map(source)
        .join('\n');
    assert.doesNotMatch(text('01-saliency'), /tf\.grad\(score\)|\.abs\(\)\.max\(-1\)/);
    assert.doesNotMatch(text('02-occlusion'), /image \* \(1 - mask\)|mask\.mul\(mean\)/);
    assert.doesNotMatch(text('06-guided-backprop'), /tf\.step\(dy\)/);
  });

  it('keeps the solutions out of the student folder', () => {
    assert.ok(!fs.existsSync(path.join(REPO, 'notebooks', 'assignments', 'solutions')));
    for (const f of fs.readdirSync(path.join(REPO, 'notebooks', 'assignments'))) {
      if (!f.endsWith('.ipynb')) continue;
      const text = fs.readFileSync(path.join(REPO, 'notebooks', 'assignments', f), 'utf8');
      assert.doesNotMatch(text, /\(solution\)/, f);
    }
  });

  for (const name of names) {
    it(`${name} solution: every check passes, and the results are drawn`, () => {
      const { report, nb } = run(path.join(SOLUTIONS, `${name}.ipynb`));
      assert.strictEqual(
        report.error,
        null,
        `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`,
      );
      for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
      const checks = checkCells(nb);
      assert.deepStrictEqual(
        checks.map((c) => c.name),
        CHECKS[name],
      );
      for (const { name: check, cell } of checks) {
        const text = streamText(cell);
        assert.match(text, new RegExp(`✓ check\\.${check} passed: `), text);
        assert.doesNotMatch(text, /✗|note:/, text);
        // The result is not echoed a second time as an object.
        assert.doesNotMatch(text, /name: '|passed: true/, text);
      }
      const last = nb.cells.filter((c) => c.cell_type === 'code').pop()!;
      assert.ok(hasPng(last), 'the last cell draws the student results');
      assert.doesNotMatch(streamText(last), /Finish Task/);
    });

    it(`${name} template, untouched: runs to the end, each check says the TODO is not done`, () => {
      const { report, nb } = run(path.join('notebooks', 'assignments', `${name}.ipynb`));
      assert.strictEqual(
        report.error,
        null,
        `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`,
      );
      for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
      const checks = checkCells(nb);
      assert.deepStrictEqual(
        checks.map((c) => c.name),
        CHECKS[name],
      );
      for (const { name: check, cell } of checks) {
        const text = streamText(cell);
        assert.match(
          text,
          new RegExp(
            `✗ check\\.${check} failed: \\w+ is not implemented yet\\.\\n\\s+expected: a result from ` +
              `\\w+\\n\\s+got: the error "TODO: implement \\w+"\\n\\s+hint: Replace the TODO in the cell that ` +
              `defines \\w+, run that cell, then run this check again`,
          ),
          text,
        );
        assert.doesNotMatch(text, /✓|\n\s+at |evalmachine|node_modules/, text);
      }
      const last = nb.cells.filter((c) => c.cell_type === 'code').pop()!;
      assert.match(streamText(last), /Finish Task/);
    });
  }
});
