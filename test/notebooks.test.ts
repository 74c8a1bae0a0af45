import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ExecutedNotebook, executeNotebooks, REPO, streamText } from './util/notebook';

/**
 * Every lecture notebook (01-09) through the real kernel: no cell error, nothing on stderr, and
 * the outputs each must show. Per-cell timings go to test/artifacts/notebook-times.json; with
 * CNNVIZ_ASSERT_TIMES=1 the live-coding budget (90 s a notebook, 15 s a cell) is asserted too.
 */

type Cell = ExecutedNotebook['nb']['cells'][number];

interface Expectation {
  /** PNG figures the notebook shows, at least. */
  png: number;
  /** Plotly charts, at least. */
  plotly?: number;
  /** Patterns the notebook's printed text must match. */
  text?: RegExp[];
}

const EXPECT: Record<string, Expectation> = {
  '01-first-layer-filters': { png: 5, text: [/filters: 32 x 5 x 5 x 1/] },
  '02-feature-space': { png: 2, text: [/10000 Fashion-MNIST test images/, /same class among the 5 nearest: feature space \d+\.\d%, pixel space \d+\.\d%/] },
  '03-dimensionality-reduction': { png: 1, plotly: 5, text: [/10000 digits/, /explain \d+\.\d% of the variance/, /trustworthiness/] },
  '04-images-in-2d': { png: 2 },
  '05-activating-patches': { png: 8, text: [/receptive field/, /of 128 conv3 channels have 8 or 9 top images of one class/] },
  '06-occlusion': { png: 8, text: [/probability \d\.\d+ unoccluded/] },
  '07-saliency-and-guided-backprop': { png: 7 },
  '08-class-visualization': { png: 5, text: [/P\(3\) = \d\.\d+/] },
  '09-shap-and-sanity': { png: 4, plotly: 1, text: [/coalitions/, /deletion AUC/, /layers randomized in turn: logits -> features -> conv3 -> conv2 -> conv1/] },
};

function source(c: Cell): string {
  return Array.isArray(c.source) ? c.source.join('') : c.source;
}

function mimes(c: Cell): string[] {
  return (c.outputs ?? []).flatMap((o) => Object.keys((o.data as Record<string, unknown> | undefined) ?? {}));
}

export function lectureNotebooks(): string[] {
  const dir = path.join(REPO, 'notebooks', 'lecture15');
  return fs.readdirSync(dir).filter((f) => /^0[1-9]-.*\.ipynb$/.test(f)).sort().map((f) => path.join('notebooks', 'lecture15', f));
}

/** Records per-notebook and per-cell seconds for the README table. */
export function recordTimes(file: string, runs: ExecutedNotebook[]): void {
  const rows = runs.map(({ report, nb }) => {
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    const cells = report.cells.map((c, k) => ({ cell: c.index, seconds: c.seconds, first: source(code[k] ?? { cell_type: 'code', source: '' }).split('\n')[0].slice(0, 60) }));
    const slowest = cells.reduce((m, c) => ((c.seconds ?? 0) > (m.seconds ?? 0) ? c : m), cells[0]);
    return { notebook: path.relative(REPO, report.notebook), seconds: report.seconds, slowest, cells };
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), load: fs.readFileSync('/proc/loadavg', 'utf8').trim(), notebooks: rows }, null, 1));
}

describe('lecture notebooks run through the real kernel', function () {
  this.timeout(3600_000);
  const notebooks = lectureNotebooks();
  let runs: ExecutedNotebook[] = [];

  before(function () {
    runs = executeNotebooks(notebooks, { timeoutS: 600 });
    recordTimes(path.join(REPO, 'test', 'artifacts', 'notebook-times.json'), runs);
  });

  it('has notebooks 01 to 09', () => {
    assert.deepStrictEqual(notebooks.map((n) => path.basename(n).slice(0, 2)), ['01', '02', '03', '04', '05', '06', '07', '08', '09']);
  });

  for (const name of Object.keys(EXPECT)) {
    it(`${name}: no error, nothing on stderr, its pictures and text`, () => {
      const run = runs.find((r) => path.basename(r.report.notebook, '.ipynb') === name);
      assert.ok(run, `${name} was not executed`);
      const { report, nb } = run;
      assert.strictEqual(report.error, null, `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`);
      for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      const text = code.map(streamText).join('\n');
      assert.doesNotMatch(text, /Error:|Traceback|is not defined|undefined \(reading/, 'an error message in the printed output');
      const exp = EXPECT[name];
      // Figures, not cells: a cell may show several (one per channel, per image...).
      const png = code.reduce((n, c) => n + mimes(c).filter((m) => m === 'image/png').length, 0);
      assert.ok(png >= exp.png, `expected at least ${exp.png} PNG figures, got ${png}`);
      const plotly = code.reduce((n, c) => n + mimes(c).filter((m) => m === 'application/vnd.plotly.v1+json').length, 0);
      assert.ok(plotly >= (exp.plotly ?? 0), `expected at least ${exp.plotly} Plotly charts, got ${plotly}`);
      for (const re of exp.text ?? []) assert.match(text, re);
      // The intro: a title and a few sentences of why, before any code.
      assert.strictEqual(nb.cells[0].cell_type, 'markdown');
      assert.match(source(nb.cells[0]), /^# Lecture 15 · \d\d — /);
      if (process.env.CNNVIZ_ASSERT_TIMES === '1') {
        assert.ok(report.seconds < 90, `${name} took ${report.seconds} s (budget 90 s)`);
        for (const c of report.cells) assert.ok((c.seconds ?? 0) < 15, `${name} cell ${c.index} took ${c.seconds} s (budget 15 s)`);
      }
    });
  }
});
