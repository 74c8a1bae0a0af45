import * as assert from 'assert';
import { executeNotebook, streamText } from './util/notebook';

describe('the TypeScript (cnnviz) kernel runs a notebook', () => {
  it('00-setup: no error, the backend line, images of both datasets and the model table', function () {
    const { report, nb } = executeNotebook('notebooks/lecture15/00-setup.ipynb', { timeoutS: 300 });
    assert.strictEqual(
      report.error,
      null,
      `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`,
    );
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.match(streamText(code[0]), /cnnviz backend: (wasm|tensorflow|cpu) \(/);
    const pngCells = code.filter((c) =>
      (c.outputs ?? []).some(
        (o) => o.output_type === 'display_data' && (o.data as Record<string, unknown>)['image/png'],
      ),
    );
    assert.ok(pngCells.length >= 3, `expected image output in at least 3 cells, got ${pngCells.length}`);
    const all = code.map(streamText).join('\n');
    assert.match(all, /conv1/);
    assert.match(all, /fashion-cnn: \d+\.\d% on the 10000 test images/);
    for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
  });
});
