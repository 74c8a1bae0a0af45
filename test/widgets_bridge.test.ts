// The display bridge against a stand-in for tslab's jupyter module: which cell receives
// which message, display ids for in-place updates, and a Figure as a cell's value.
import * as assert from 'assert';
import * as Module from 'module';
import * as os from 'os';
import * as path from 'path';
import { inspect } from 'util';
import { render, show } from '../src/widgets';
import { resetLibraryEmbed } from '../src/widgets/kernel/plotly';
import { chartFallback, chartSpec, pictureSize } from './util/charts';
import { pngSize } from './util/widgets_pixels';

interface Sent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
  update: boolean;
}

const fakePath = path.join(os.tmpdir(), 'cnnviz-fake', 'node_modules', 'tslab', 'dist', 'jupyter.js');
const fake = { lastWriteDisplayData: null as null | ((c: Sent, update: boolean) => void) };

/** A new cell: tslab installs a fresh writer (and stdout hook) for every execute request. */
function newCell(): Sent[] {
  const got: Sent[] = [];
  fake.lastWriteDisplayData = (c, update) => got.push({ ...c, update });
  return got;
}

/** What tslab does with a cell's value: console.log(value), stdout captured. */
function printValue(value: unknown): string {
  const out: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    console.log(value);
  } finally {
    process.stdout.write = original;
  }
  return out.join('');
}

const img = { width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(0.5) };

describe('widgets: display bridge (tslab stand-in)', () => {
  before(() => {
    const m = new Module.Module(fakePath);
    m.filename = fakePath;
    m.loaded = true;
    m.exports = fake;
    require.cache[fakePath] = m;
  });
  after(() => {
    fake.lastWriteDisplayData = null;
    delete require.cache[fakePath];
  });

  it('show.* sends one multi-MIME display_data to the running cell', () => {
    const cell = newCell();
    const fig = show.images([img, img], { captions: ['a', 'b'] });
    assert.strictEqual(cell.length, 1);
    assert.strictEqual(cell[0].update, false);
    assert.deepStrictEqual(Object.keys(cell[0].data).sort(), ['image/png', 'text/plain']);
    const png = Buffer.from(cell[0].data['image/png'] as string, 'base64');
    assert.deepStrictEqual(pngSize(png), { width: fig.width, height: fig.height });
  });

  it('a Figure as the value of a cell shows once and prints nothing', () => {
    let cell = newCell();
    const fig = show.images([img]);
    assert.strictEqual(printValue(fig), '', 'no text line for an already shown figure');
    assert.strictEqual(cell.length, 1, 'not shown twice in the same cell');
    cell = newCell();
    assert.strictEqual(printValue(fig), '');
    assert.strictEqual(cell.length, 1, 'shown again when it is the value of a later cell');
    // other output on stdout still passes through
    assert.strictEqual(printValue('hello'), 'hello\n');
    const fresh = render.images([img]);
    cell = newCell();
    assert.strictEqual(printValue(fresh), '');
    assert.strictEqual(cell.length, 1);
  });

  it('show(fig) displays a render.* figure', () => {
    const cell = newCell();
    const fig = render.images([img]);
    assert.strictEqual(show(fig), fig);
    assert.strictEqual(cell.length, 1);
    assert.throws(() => show({} as never), /^Error: show: expected a Figure/);
  });

  it('Plotly charts: HTML (with a static PNG inside) + text, plotly.js embedded in the first chart only', () => {
    resetLibraryEmbed();
    const cell = newCell();
    const points = new Float32Array([0, 0, 1, 1, 2, 0, 3, 1]);
    show.scatter({ points }, { labels: [0, 1, 0, 1], classNames: ['cat', 'dog'] });
    show.scatter({ points }, { labels: [0, 1, 0, 1] });
    assert.strictEqual(cell.length, 2);
    for (const c of cell)
      assert.deepStrictEqual(Object.keys(c.data).sort(), ['text/html', 'text/plain'], 'no Plotly JSON beside the HTML');
    const [first, second] = cell.map((c) => c.data['text/html'] as string);
    assert.ok(first.length > 3e6 && /plotly\.js v?3/.test(first.slice(0, 400)), 'library in the first chart');
    const fallback = cell.map((c) => chartFallback(c.data));
    assert.ok(fallback[0] && fallback[1], 'each chart carries its static picture');
    for (const f of fallback) assert.deepStrictEqual(pictureSize(f as string), { width: 760, height: 560 });
    const rest = second.length - (fallback[1] as string).length;
    assert.ok(rest < 20000 && !/Copyright 2012-20\d\d, Plotly/.test(second), 'not in the second');
    assert.ok(!/https?:\/\/cdn/i.test(second), 'no CDN');
    // one copy of the data: the spec inside the drawing script
    assert.strictEqual(second.split('"hovermode"').length, 2);
    const spec = chartSpec(cell[0].data) as unknown as { data: { name: string; type: string; x: number[] }[] };
    assert.deepStrictEqual(
      spec.data.map((t) => [t.name, t.type, t.x.length]),
      [
        ['cat', 'scatter', 2],
        ['dog', 'scatter', 2],
      ],
    );
  });

  it('progress updates in place, in the cell that created it, after later cells started', () => {
    const cellA = newCell();
    const p = show.progress({ title: 'ascent', total: 5 });
    p.interval = 0;
    const cellB = newCell();
    for (let s = 1; s <= 5; s++)
      p.onStep({ step: s, steps: 5, score: s * 2, image: new Float32Array(16).fill(s / 5), shape: [4, 4, 1] });
    p.done();
    assert.strictEqual(cellB.length, 0, 'nothing leaks into the later cell');
    assert.ok(cellA.length >= 6);
    const id = cellA[0].transient?.display_id;
    assert.ok(id);
    assert.strictEqual(cellA[0].update, false);
    for (const m of cellA.slice(1)) {
      assert.strictEqual(m.update, true);
      assert.strictEqual(m.transient?.display_id, id);
    }
    assert.match(String(cellA[cellA.length - 1].data['text/plain']), /step 5 \/ 5 · score 10/);
  });

  it('progress from a training loop report', () => {
    const cell = newCell();
    const p = show.progress();
    p.interval = 0;
    p.onProgress({ epoch: 2, epochs: 3, step: 10, stepsPerEpoch: 20, loss: 0.5, testAccuracy: 0.9 });
    assert.match(String(cell[cell.length - 1].data['text/plain']), /step 30 \/ 60 · loss 0.5, test accuracy 0.9/);
  });

  it('show.live(): a display created now, replaced later from anywhere', () => {
    const cellA = newCell();
    const live = show.live();
    newCell();
    live.update(render.images([img]));
    live.update(render.images([img, img]));
    assert.deepStrictEqual(
      cellA.map((m) => m.update),
      [false, true],
    );
    assert.strictEqual(cellA[0].transient?.display_id, cellA[1].transient?.display_id);
  });

  it('outside a kernel nothing is sent and a Figure prints as text', () => {
    fake.lastWriteDisplayData = null;
    const fig = show.images([img]);
    assert.match(inspect(fig), /^Figure<images: 1 at x\d+>$/);
  });
});
