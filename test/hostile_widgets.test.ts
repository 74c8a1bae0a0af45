// Widgets refuse what would draw a blank, black or misleading figure without a word: an empty or
// all-NaN map, a scatter whose n disagrees with its points, images with another number of
// captions. Each error names the widget and the argument.
import * as assert from 'assert';
import { render, show, tf } from '../src';

describe('widgets: refusals naming the argument', () => {
  const img = { width: 4, height: 4, channels: 1, data: Array.from({ length: 16 }, (_, i) => i / 15) };

  it('heat maps: an all-NaN map, an all-infinite one and an empty one', () => {
    assert.throws(
      () => render.heatmap({ attribution: { width: 3, height: 3, data: new Float32Array(9).fill(NaN) } }),
      /^Error: render\.heatmap: attribution has no finite value \(all 9 are NaN or infinite\)/,
    );
    assert.throws(
      () => render.heatmap({ attribution: { width: 2, height: 1, data: [Infinity, -Infinity] } }),
      /attribution has no finite value/,
    );
    assert.throws(
      () => render.heatmap({ attribution: { width: 0, height: 0, data: [] } }),
      /^Error: render\.heatmap: attribution is empty \(0x0, 0 values\)/,
    );
    // the second of two, named by its index
    const ok = { width: 2, height: 2, data: [0, 1, 2, 3] };
    assert.throws(
      () => render.heatmap([{ attribution: ok }, { attribution: { width: 2, height: 2, data: [NaN, NaN, NaN, NaN] } }]),
      /attribution 1 has no finite value/,
    );
    // a map with some NaN still draws (its finite values carry the picture)
    assert.strictEqual(render.heatmap({ attribution: { width: 2, height: 2, data: [NaN, 1, 2, 3] } }).kind, 'heatmap');
    const before = tf.memory().numTensors;
    const nan = tf.fill([3, 3], NaN) as tf.Tensor2D;
    assert.throws(() => show.heatmap(nan), /^Error: show\.heatmap: attribution has no finite value/);
    nan.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('scatter: n beyond its points, and no points at all', () => {
    const points = new Float32Array([0, 0, 1, 1, 2, 2]);
    assert.throws(
      () => show.scatter({ points, n: 10 }),
      /^Error: show\.scatter: embedding\.n is 10 but embedding\.points holds 3 points/,
    );
    assert.throws(
      () => render.scatter({ points, n: 5 } as never),
      /^Error: render\.scatter: n is 5 but points holds 3/,
    );
    assert.throws(() => render.scatter({ points: [] }), /^Error: render\.scatter: points is empty/);
    assert.strictEqual(show.scatter({ points, n: 3 }).kind, 'scatter');
  });

  it('images: 8 images with 2 captions (or 3 correct marks) are refused', () => {
    const eight = Array.from({ length: 8 }, () => img);
    assert.throws(
      () => render.images(eight, { captions: ['a', 'b'] }),
      /^Error: render\.images: captions has 2 entries; expected one per image \(8\)/,
    );
    assert.throws(
      () => render.images(eight, { correct: [true, false, true] }),
      /^Error: render\.images: correct has 3 entries; expected one per image \(8\)/,
    );
    const batch = tf.zeros([8, 4, 4, 1]);
    assert.throws(() => show.images(batch, { captions: ['a', 'b'] }), /^Error: show\.images: captions has 2 entries/);
    batch.dispose();
    assert.strictEqual(render.images(eight, { captions: eight.map((_, i) => `#${i}`) }).kind, 'images');
  });
});
