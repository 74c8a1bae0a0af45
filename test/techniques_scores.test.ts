import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { deletionScore, insertionScore, randomizationCheck, saliency, spearman, ranks } from '../src/techniques';
import { assertNoLeak, maxAbsDiff, randomImage, rejects, smallCnn, uniform, useWasm } from './util/techniques_fixtures';

/** Logit 0 = sum of w * x over the 3x3 region at rows 2..4, cols 3..5 (w > 0) + 0.5; logit 1 = 0. */
function regionLinear(): { model: tf.LayersModel; w: Float32Array } {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [8, 8, 1] }));
  m.add(tf.layers.dense({ units: 2, name: 'logits' }));
  const w = new Float32Array(64);
  for (let y = 2; y <= 4; y++) for (let x = 3; x <= 5; x++) w[y * 8 + x] = 1 + y + x / 10;
  const kernel = new Float32Array(128);
  w.forEach((v, p) => (kernel[p * 2] = v));
  m.getLayer('logits').setWeights([tf.tensor2d(kernel, [64, 2]), tf.tensor1d([0.5, 0])]);
  return { model: m, w };
}

describe('techniques: deletion and insertion scores', function () {
  before(useWasm);

  it('follow the pixel order of the map, exactly, and reward the faithful map', async () => {
    const { model, w } = regionLinear();
    const image = tf.tensor3d(uniform(64, 3, 0.2, 1), [8, 8, 1]);
    const x = image.dataSync();
    const good = tf.tensor2d(
      w.map((v, p) => v * x[p]),
      [8, 8],
    );
    const bad = tf.tensor2d(
      w.map((v) => (v > 0 ? -1 : 1)),
      [8, 8],
    );
    const del = await deletionScore(model, image, good, { target: 0, output: 'logits', steps: 8 });
    assert.deepStrictEqual(
      Array.from(del.fractions),
      Array.from({ length: 9 }, (_, k) => k / 8),
    );
    // Independent curve: delete the 8 most important pixels per step, in the map's order.
    const order = Array.from({ length: 64 }, (_, p) => p).sort((a, b) => w[b] * x[b] - w[a] * x[a] || a - b);
    const expected = Array.from({ length: 9 }, (_, k) => {
      const gone = new Set(order.slice(0, k * 8));
      let s = 0.5;
      for (let p = 0; p < 64; p++) if (!gone.has(p)) s += w[p] * x[p];
      return s;
    });
    assert.ok(maxAbsDiff(del.curve, expected) < 1e-4, `${Array.from(del.curve)} vs ${expected}`);
    const delBad = await deletionScore(model, image, bad, { target: 0, output: 'logits', steps: 8 });
    assert.ok(del.auc < delBad.auc, `deletion ${del.auc} vs ${delBad.auc}`);
    const ins = await insertionScore(model, image, good, { target: 0, output: 'logits', steps: 8, baseline: 'black' });
    const insBad = await insertionScore(model, image, bad, {
      target: 0,
      output: 'logits',
      steps: 8,
      baseline: 'black',
    });
    assert.ok(ins.auc > insBad.auc, `insertion ${ins.auc} vs ${insBad.auc}`);
    assert.ok(Math.abs(ins.curve[0] - 0.5) < 1e-5 && Math.abs(ins.curve[8] - expected[0]) < 1e-4);
    tf.dispose([image, good, bad]);
  });

  it('handle batches and channel maps; check shapes; no leaks', async () => {
    const model = smallCnn();
    const batch = tf.stack([randomImage(12, 12, 1, 1), randomImage(12, 12, 1, 2)]);
    const maps = await saliency(model, batch, { reduce: 'none' });
    const r = await deletionScore(model, batch, maps, { steps: 6 });
    assert.strictEqual(r.curves.length, 2);
    assert.strictEqual(r.aucs.length, 2);
    assert.ok(Math.abs(r.auc - (r.aucs[0] + r.aucs[1]) / 2) < 1e-6);
    await rejects(
      () => deletionScore(model, batch, tf.zeros([2, 5, 5])),
      /attribution has shape \[2, 5, 5\]; expected \[2, 12, 12\] or \[2, 12, 12, 1\]/,
    );
    await assertNoLeak(() => insertionScore(model, batch, maps, { steps: 5, batchSize: 4 }));
    tf.dispose([batch, maps]);
  });
});

describe('techniques: randomization check', function () {
  before(useWasm);

  it('ranks and Spearman correlation', () => {
    assert.deepStrictEqual(Array.from(ranks([10, 30, 20, 20])), [1, 4, 2.5, 2.5]);
    assert.strictEqual(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  });

  it('a map that ignores the model keeps correlation 1; saliency loses it; the model is restored', async () => {
    const model = smallCnn({ seed: 21 });
    const images = tf.tensor4d(uniform(4 * 144, 17), [4, 12, 12, 1]);
    const before = (model.predict(images) as tf.Tensor).dataSync();
    const targets = Array.from((model.predict(images) as tf.Tensor).argMax(-1).dataSync());
    const edges = (_m: tf.LayersModel, x: tf.Tensor) => tf.tidy(() => tf.abs(tf.sub(x, tf.reverse(x, 2))));
    const blind = await randomizationCheck(model, edges, images);
    assert.deepStrictEqual(
      blind.steps.map((s) => s.layer),
      ['logits', 'features', 'conv2', 'conv1'],
    );
    assert.ok(blind.steps.every((s) => Math.abs(s.mean - 1) < 1e-9));
    const faithful = await randomizationCheck(model, (m, x) => saliency(m, x, { target: targets }), images, {
      seed: 3,
    });
    const last = faithful.steps[faithful.steps.length - 1];
    assert.deepStrictEqual(last.randomized, ['logits', 'features', 'conv2', 'conv1']);
    assert.ok(last.mean < 0.5, `after randomizing everything: ${last.mean}`);
    const after = (model.predict(images) as tf.Tensor).dataSync();
    assert.deepStrictEqual(Array.from(after), Array.from(before));
    const independent = await randomizationCheck(model, (m, x) => saliency(m, x, { target: targets }), images, {
      order: 'independent',
      layers: ['conv1', 'logits'],
      keepMaps: true,
    });
    assert.deepStrictEqual(
      independent.steps.map((s) => s.randomized),
      [['conv1'], ['logits']],
    );
    assert.strictEqual(independent.maps!.length, 3);
    tf.dispose(independent.maps!);
    await rejects(
      () => randomizationCheck(model, edges, images, { layers: ['pool1'] }),
      /layer 'pool1' \(MaxPooling2D\) has no weights/,
    );
    await rejects(
      () => randomizationCheck(model, () => tf.zeros([3, 2]), images),
      /expected one map per image, \[4, \.\.\.\]/,
    );
    assert.deepStrictEqual(Array.from((model.predict(images) as tf.Tensor).dataSync()), Array.from(before));
    await assertNoLeak(() =>
      randomizationCheck(model, (m, x) => saliency(m, x, { target: targets }), images, { layers: ['logits', 'conv2'] }),
    );
    images.dispose();
  });
});
