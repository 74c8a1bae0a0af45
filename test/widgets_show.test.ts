// show.* on tensors and on results shaped like the techniques' (occlusion, nearest
// neighbours, top patches, grid layout, embeddings): no tensor is left behind, and the
// result shapes are understood.
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { render, show } from '../src/widgets';
import { decodePng, hex } from './util/widgets_pixels';

describe('widgets: show.* with tensors and technique results', () => {
  const n = 12;
  let images: tf.Tensor4D;
  before(async () => {
    await tf.setBackend('cpu');
    images = tf.tidy(() => tf.linspace(0, 1, n * 8 * 8).reshape([n, 8, 8, 1]) as tf.Tensor4D);
  });
  after(() => images.dispose());

  it('leaves no tensors behind', () => {
    const sal = tf.randomUniform([8, 8]);
    const occ = {
      map: tf.ones([1, 3, 3]),
      drop: tf.zeros([1, 3, 3]),
      rows: Int32Array.from([0, 2, 4]),
      cols: Int32Array.from([0, 2, 4]),
      window: [4, 4] as [number, number],
      stride: [2, 2] as [number, number],
      score: Float32Array.from([0.9]),
    };
    const emb = tf.randomUniform([n, 2]);
    const image = images.slice([0, 0, 0, 0], [1, 8, 8, 1]);
    const start = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) {
      show.images(images, { indices: [0, 3], labels: Int32Array.from({ length: n }, (_, i) => i % 3) });
      show.heatmap(sal, image, { mode: ['heat', 'blended'] });
      show.occlusion(occ, image);
      show.scatter(emb, { labels: Int32Array.from({ length: n }, (_, i) => i % 2), images });
      show.neighbors(
        images,
        { indices: Int32Array.from([1, 2, 4, 5]), distances: Float32Array.from([1, 2, 3, 4]), k: 2, n: 2 },
        { queries: [0, 3] },
      );
      show.patches(images, [
        {
          index: 5,
          activation: 2,
          y: 0,
          x: 0,
          box: { top: 0, left: 0, bottom: 4, right: 4, padding: { top: 1, left: 1, bottom: 0, right: 0 } },
        },
      ]);
      show.imageGrid({ cells: Int32Array.from({ length: n }, (_, i) => i), rows: 3, cols: 4 }, images);
      show.filters(tf.randomNormal([4, 3, 3, 1]).clone());
    }
    // show.filters got a fresh tensor each round (the caller's to dispose): 3 of them
    assert.strictEqual(tf.memory().numTensors, start + 3 * 2);
    tf.dispose([sal, occ.map, occ.drop, emb, image]);
  });

  it('reads nearestNeighbors output (flat indices, k per row) and marks wrong classes', async () => {
    const labels = Int32Array.from([0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    const fig = show.neighbors(
      images,
      { indices: Int32Array.from([1, 2, 0, 3]), distances: Float32Array.from([0.5, 0.7, 0.5, 0.9]), k: 2, n: 2 },
      { queries: [0, 2], labels, classNames: ['zero', 'one'], size: 16 },
    );
    const d = await decodePng(fig.png);
    const cells = fig.info.cells as { x: number; y: number }[][];
    const cw = fig.info.cellWidth as number;
    const frameAt = (r: number, c: number) =>
      hex(d.at(cells[r][c].x + Math.floor((cw - 16) / 2) - 2, cells[r][c].y + 8));
    // query 0 (zero): neighbour 1 (zero) right, 2 (one) wrong; query 2 (one): 0 (zero) wrong, 3 (one) right
    assert.deepStrictEqual(
      [frameAt(0, 1), frameAt(0, 2), frameAt(1, 1), frameAt(1, 2)],
      ['#1a9850', '#d73027', '#d73027', '#1a9850'],
    );
    assert.throws(
      // @ts-expect-error the seam is typed: a cell passing something else does not compile
      () => show.neighbors(images, { something: 1 }),
      /^Error: show\.neighbors: section 'neighbours': expected nearestNeighbors' result/,
    );
  });

  it('takes embeddings as the techniques return them, a { points, n } literal included (lecture notebook 04)', () => {
    const points = Float32Array.from({ length: 2 * n }, (_, i) => (i * 7) % 11);
    const fig = show.imageScatter({ points, n }, images, { size: 64 });
    assert.strictEqual(fig.kind, 'imageScatter');
    assert.strictEqual(show.scatter({ points, n }).kind, 'scatter');
  });

  it("show.occlusion titles the map by the result's output: logits drawn as logits, not as probabilities", () => {
    const occ = (output?: 'probs' | 'logits') => ({
      map: tf.tensor2d([4.9, 8, 10, 12.8], [2, 2]),
      rows: Int32Array.from([0, 4]),
      cols: Int32Array.from([0, 4]),
      window: [4, 4] as [number, number],
      stride: [4, 4] as [number, number],
      score: Float32Array.from([11]),
      output,
    });
    const image = tf.zeros([8, 8, 1]);
    const titles = [occ('logits'), occ('probs'), occ()].map((r) => {
      const t = (show.occlusion(r, image).info.panelTitles as string[])[1];
      r.map.dispose();
      return t;
    });
    assert.deepStrictEqual(titles, ['logit map', 'probability map', 'score map']);
    const r = occ();
    assert.strictEqual((show.occlusion(r, image, { output: 'logits' }).info.panelTitles as string[])[1], 'logit map');
    tf.dispose([r.map, image]);
  });
  it('show.images on a whole dataset shows the first 100 and says so', () => {
    const many = tf.zeros([150, 4, 4, 1]);
    const fig = show.images(many);
    many.dispose();
    assert.match(fig.text, /images: 100 at/);
    assert.throws(() => show.images(images, { indices: [99] }), /index 99 is out of range for images: 0..11/);
  });

  it('errors name the expected shapes', () => {
    const bad = tf.zeros([8, 8, 7]);
    assert.throws(
      () => show.heatmap(tf.zeros([8, 8]), bad),
      /^Error: show\.heatmap: image has shape \[8, 8, 7\]; expected/,
    );
    assert.throws(
      () => show.heatmap(tf.zeros([8, 8]), null, { alpha: 2 }),
      /^Error: show\.heatmap: alpha 2 must be in \[0, 1\]$/,
    );
    assert.throws(
      () => render.heatmap({ attribution: { width: 1, height: 1, data: [1] } }, { alpha: 2 }),
      /^Error: render\.heatmap: alpha 2 must be in \[0, 1\]$/,
    );
    assert.throws(
      () => show.filters(tf.zeros([3, 3, 1])),
      /^Error: show\.filters: filters must be \[n, kh, kw, c\]; got shape \[3, 3, 1\]/,
    );
    const drop = tf.zeros([2, 2]);
    assert.throws(
      // @ts-expect-error the seam is typed: an object without map does not compile
      () => show.occlusion({ drop }, tf.zeros([8, 8, 1])),
      /^Error: show\.occlusion: expected occlusion\(\)'s result \{ map,/,
    );
    drop.dispose();
    assert.throws(
      // @ts-expect-error the seam is typed: a bare cell array does not compile
      () => show.imageGrid([3, 1], images),
      /^Error: show\.imageGrid: expected gridLayout\(\)'s result \{ cells, rows, cols \}/,
    );
    bad.dispose();
  });
});
