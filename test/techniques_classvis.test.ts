import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { classVisualization, gaussianBlur, REGULARIZER_PRESETS, ClassVisualizationStep } from '../src/techniques';
import { assertNoLeak, maxAbsDiff, rejects, smallCnn, useWasm } from './util/techniques_fixtures';

function score(model: tf.LayersModel, image: tf.Tensor3D, target: number): number {
  return tf.tidy(() => {
    const logits = tf
      .model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor })
      .predict(image.expandDims(0)) as tf.Tensor;
    return logits.dataSync()[target];
  });
}

describe('techniques: class visualization', function () {
  before(useWasm);

  it('raises the target score, reporting it every step', async () => {
    const model = smallCnn({ seed: 11 });
    for (const target of [0, 3]) {
      const start = await classVisualization(model, { target, steps: 0, seed: 5, recipe: 'simonyan' });
      const steps: ClassVisualizationStep[] = [];
      const img = await classVisualization(model, {
        target,
        steps: 40,
        seed: 5,
        recipe: 'simonyan',
        onStep: (s) => void steps.push(s),
      });
      assert.strictEqual(steps.length, 40);
      assert.deepStrictEqual(
        steps.map((s) => s.step),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.ok(Math.abs(steps[0].score - score(model, start, target)) < 1e-4, 'step 1 reports the starting score');
      assert.ok(
        score(model, img, target) > score(model, start, target) + 1,
        `${score(model, start, target)} -> ${score(model, img, target)}`,
      );
      assert.ok(steps[39].score > steps[0].score);
      assert.deepStrictEqual(
        steps.filter((s) => s.image).map((s) => s.step),
        [10, 20, 30, 40],
      );
      assert.ok(maxAbsDiff(steps[39].image!, img.dataSync()) === 0);
      const v = img.dataSync();
      assert.ok(v.every((p) => p >= 0 && p <= 1));
      tf.dispose([start, img]);
    }
  });

  it('raises the score under every preset of Yosinski et al. Table 1, and for a unit', async () => {
    const model = smallCnn({ seed: 12 });
    const start = await classVisualization(model, { target: 1, steps: 0, recipe: 'simonyan' });
    for (const preset of Object.keys(REGULARIZER_PRESETS) as (keyof typeof REGULARIZER_PRESETS)[]) {
      const img = await classVisualization(model, {
        target: 1,
        steps: 30,
        preset,
        learningRate: preset === 'yosinski2' ? 0.3 : 0.1,
      });
      assert.ok(score(model, img, 1) > score(model, start, 1), preset);
      img.dispose();
    }
    const unit = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv2').output as tf.SymbolicTensor });
    const act = (img: tf.Tensor3D) =>
      tf.tidy(() => (unit.predict(img.expandDims(0)) as tf.Tensor).slice([0, 2, 3, 4], [1, 1, 1, 1]).dataSync()[0]);
    // This unit is silent on the start image: the ascent uses its pre-activation, so it still moves.
    assert.strictEqual(act(start), 0);
    const u = await classVisualization(model, { layer: 'conv2', channel: 4, y: 2, x: 3, steps: 30 });
    assert.ok(act(u) > 0.5, `${act(u)}`);
    const jittered = await classVisualization(model, { target: 1, steps: 30, jitter: 1 });
    assert.ok(score(model, jittered, 1) > score(model, start, 1));
    tf.dispose([start, u, jittered]);
  });

  it('applies each regularizer as defined', async () => {
    const model = smallCnn({ seed: 13 });
    const init = tf.tensor3d(
      Float32Array.from({ length: 144 }, (_, i) => ((i * 37) % 100) / 100),
      [12, 12, 1],
    );
    // L2 decay alone (no gradient step): x_k = center + (1 - decay)^k (x_0 - center).
    const decayed = await classVisualization(model, {
      target: 0,
      init,
      steps: 5,
      learningRate: 0,
      l2Decay: 0.1,
      center: 0.2,
    });
    const expected = init.dataSync().map((v) => 0.2 + 0.9 ** 5 * (v - 0.2));
    assert.ok(maxAbsDiff(decayed.dataSync(), expected) < 1e-5);
    // Blur alone: one step is one Gaussian blur of the start.
    const blurred = await classVisualization(model, {
      target: 0,
      init,
      steps: 1,
      learningRate: 0,
      blurEvery: 1,
      blurSigma: 1,
    });
    const direct = gaussianBlur(init.expandDims(0) as tf.Tensor4D, 1);
    assert.ok(maxAbsDiff(blurred.dataSync(), direct.dataSync()) < 1e-6);
    // Clipping: at least that share of pixels sits at the center value after every step.
    const normClipped = await classVisualization(model, { target: 0, steps: 10, clipNormPercentile: 50 });
    assert.ok(normClipped.dataSync().filter((v) => v === 0).length >= 72);
    const contribClipped = await classVisualization(model, { target: 0, steps: 10, clipContributionPercentile: 90 });
    assert.ok(contribClipped.dataSync().filter((v) => v === 0).length >= 129);
    tf.dispose([init, decayed, blurred, direct, normClipped, contribClipped]);
  });

  it('is seeded, checks its options, and leaks nothing', async () => {
    const model = smallCnn({ seed: 14 });
    const a = await classVisualization(model, { target: 2, steps: 5, seed: 1, jitter: 2 });
    const b = await classVisualization(model, { target: 2, steps: 5, seed: 1, jitter: 2 });
    const c = await classVisualization(model, { target: 2, steps: 5, seed: 2, jitter: 2 });
    assert.deepStrictEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    assert.ok(maxAbsDiff(a.dataSync(), c.dataSync()) > 0);
    await rejects(() => classVisualization(model, {}), /give target \(a class index or name\) or layer \+ channel/);
    await rejects(() => classVisualization(model, { target: 9 }), /target 9 out of range; this model has 4 classes/);
    await rejects(
      () => classVisualization(model, { target: 0, preset: 'yosinski5' as never }),
      /unknown preset 'yosinski5'; valid choices: none, yosinski1/,
    );
    await rejects(
      () => classVisualization(model, { target: 0, clipNormPercentile: 150 }),
      /clipNormPercentile must be a finite number in \[0, 100\], got 150/,
    );
    await rejects(
      () => classVisualization(model, { layer: 'conv2', channel: 99 }),
      /channel 99 out of range; layer 'conv2' has 8 channels/,
    );
    await rejects(
      () => classVisualization(model, { target: 0, init: tf.zeros([3, 3, 1]) }),
      /init has shape \[3, 3, 1\]; expected \[12, 12, 1\]/,
    );
    await assertNoLeak(() => classVisualization(model, { target: 1, steps: 6, preset: 'yosinski4', jitter: 1 }));
    await assertNoLeak(() =>
      classVisualization(model, { target: 1, steps: 6, preset: 'yosinski1', onStep: () => undefined }),
    );
    tf.dispose([a, b, c]);
  });
});

describe('techniques: gaussian blur', function () {
  before(useWasm);

  it('keeps constants, spreads an impulse as the separable Gaussian, leaks nothing', () => {
    const flat = tf.fill([1, 9, 9, 2], 0.3) as tf.Tensor4D;
    const f = gaussianBlur(flat, 1.5);
    assert.ok(f.dataSync().every((v) => Math.abs(v - 0.3) < 1e-6));
    const impulse = tf.buffer([1, 15, 15, 1]);
    impulse.set(1, 0, 7, 7, 0);
    const out = gaussianBlur(impulse.toTensor() as tf.Tensor4D, 1).dataSync();
    const g = (d: number) => Math.exp(-(d * d) / 2);
    let norm = 0;
    for (let d = -3; d <= 3; d++) norm += g(d);
    for (const [y, x] of [
      [7, 7],
      [7, 8],
      [6, 8],
      [9, 7],
    ]) {
      assert.ok(Math.abs(out[y * 15 + x] - (g(y - 7) * g(x - 7)) / (norm * norm)) < 1e-6, `(${y}, ${x})`);
    }
    const before = tf.memory().numTensors;
    gaussianBlur(flat, 2).dispose();
    assert.strictEqual(tf.memory().numTensors, before);
    tf.dispose([flat, f]);
  });
});
