import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { closePool, runBatched } from '../src/runtime/pool';
import { lectureCnn } from '../src/models/architectures';
import { featureVectors, POOL_MIN_IMAGES } from '../src/techniques/features/features';
import { maxDiff } from './util/techniques_fixtures';

describe('runBatched over a worker pool', function () {
  let model: tf.LayersModel;
  let images: tf.Tensor4D;

  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
    model = lectureCnn({ seed: 5 });
    images = tf.randomUniform([10, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  });
  after(async () => {
    await closePool();
    model.dispose();
    images.dispose();
  });

  it('gives the same input gradients on 2 workers as in this thread', async () => {
    const inline = await runBatched(model, images, 'inputGradient', {
      threads: 1,
      options: { target: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    });
    const pooled = await runBatched(model, images, 'inputGradient', {
      threads: 2,
      options: { target: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    });
    assert.deepStrictEqual(pooled.shape, [10, 28, 28, 1]);
    assert.ok(maxDiff(inline, pooled) < 1e-6, 'pooled gradients differ');
    tf.dispose([inline, pooled]);
  });

  it('runs self-contained functions and layer outputs, and follows weight changes', async () => {
    const fn = (t: typeof tf, m: tf.LayersModel, x: tf.Tensor4D): tf.Tensor =>
      t.argMax(m.predict(x) as tf.Tensor, 1).toFloat();
    const a = await runBatched(model, images, fn, { threads: 2 });
    const b = await runBatched(model, images, fn, { threads: 1 });
    assert.strictEqual(maxDiff(a, b), 0);
    const feats = await runBatched(model, images, 'layerOutput', { threads: 2, options: { layer: 'features' } });
    assert.deepStrictEqual(feats.shape, [10, 256]);
    // New weights must reach the workers' copies.
    const before = await runBatched(model, images, 'predict', { threads: 2 });
    model.setWeights(model.getWeights().map((w) => tf.mul(w, 0.5)));
    const after = await runBatched(model, images, 'predict', { threads: 2 });
    const here = model.predict(images) as tf.Tensor;
    assert.ok(maxDiff(after, here) < 1e-6, 'workers kept the old weights');
    assert.ok(maxDiff(before, after) > 1e-4, 'halving the weights changed nothing');
    tf.dispose([a, b, feats, before, after, here]);
  });

  it('featureVectors of a big set runs its rounds on the pool: same vectors, progress per round', async () => {
    const many = tf.randomUniform([POOL_MIN_IMAGES + 37, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const inline = await featureVectors(model, many, { threads: 1, batchSize: 200 });
    const seen: number[] = [];
    const pooled = await featureVectors(model, many, {
      threads: 2,
      batchSize: 200,
      onProgress: (p) => void seen.push(p.done),
    });
    assert.deepStrictEqual(pooled.shape, [POOL_MIN_IMAGES + 37, 256]);
    assert.ok(maxDiff(inline, pooled) < 1e-5, 'pooled feature vectors differ');
    // Rounds of 2 x 200 images.
    assert.deepStrictEqual(seen, [400, 800, POOL_MIN_IMAGES + 37]);
    tf.dispose([inline, pooled]);
    assert.strictEqual(tf.memory().numTensors, before, 'tensors left behind');
    many.dispose();
  });

  it('leaves no tensors behind in this thread', async () => {
    const first = await runBatched(model, images, 'inputGradient', { threads: 2, options: { target: 1 } });
    first.dispose();
    const count = tf.memory().numTensors;
    for (const threads of [1, 2]) {
      const g = await runBatched(model, images, 'inputGradient', { threads, options: { target: 1 } });
      g.dispose();
    }
    assert.strictEqual(tf.memory().numTensors, count);
  });

  it('reports bad input and bad tasks with the valid choices', async () => {
    await assert.rejects(
      runBatched(model, images.reshape([10, 784]) as unknown as tf.Tensor4D, 'predict'),
      /Tensor4D \[N, H, W, C\], got shape \[10,784\]/,
    );
    await assert.rejects(
      runBatched(model, images, 'saliency' as never, { threads: 2 }),
      /unknown task 'saliency'; built-in tasks: predict, inputGradient, layerOutput/,
    );
    await assert.rejects(
      runBatched(model, images, 'inputGradient', { threads: 2, options: { target: 12 } }),
      /target 12 out of range; the model has 10 classes/,
    );
    await assert.rejects(
      runBatched(model, images, 'layerOutput', { threads: 1, options: { layer: 'conv9' } }),
      /unknown layer 'conv9'; layers: conv1, pool1/,
    );
  });
});
