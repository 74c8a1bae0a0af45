import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { integratedGradients, quadrature, saliency, smoothGrad, INTEGRATION_METHODS } from '../src/techniques';
import {
  assertNoLeak,
  linearModel,
  maxAbsDiff,
  randomImage,
  rejects,
  smallCnn,
  sum,
  useWasm,
} from './util/techniques_fixtures';

/** Class 0 score = relu(x[0,0] - 0.5); class 1 score = 0. Its gradient in pixel (0,0) is a step. */
function stepModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [2, 2, 1] }));
  m.add(tf.layers.dense({ units: 1, activation: 'relu', name: 'hinge' }));
  m.add(tf.layers.dense({ units: 2, name: 'logits' }));
  m.getLayer('hinge').setWeights([tf.tensor2d([1, 0, 0, 0], [4, 1]), tf.tensor1d([-0.5])]);
  m.getLayer('logits').setWeights([tf.tensor2d([1, 0], [1, 2]), tf.tensor1d([0, 0])]);
  return m;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf), independent of the code under test. */
function phi(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

describe('techniques: SmoothGrad', function () {
  before(useWasm);

  it('is the expected gradient under Gaussian noise (step function: Phi)', async () => {
    const model = stepModel();
    const image = tf.tensor3d([0.6, 0, 1, 0], [2, 2, 1]); // value range 1, so sigma = noiseLevel
    const opts = { target: 0, noiseLevel: 0.1, samples: 2000, batchSize: 500, reduce: 'none' as const, seed: 3 };
    const mean = (await smoothGrad(model, image, opts)).dataSync();
    const p = phi(1);
    assert.ok(Math.abs(mean[0] - p) < 0.03, `mean ${mean[0]} vs ${p}`);
    assert.deepStrictEqual(Array.from(mean.slice(1)), [0, 0, 0]);
    const squared = (await smoothGrad(model, image, { ...opts, variant: 'squared' })).dataSync();
    assert.ok(Math.abs(squared[0] - p) < 0.03);
    const variance = (await smoothGrad(model, image, { ...opts, variant: 'variance' })).dataSync();
    assert.ok(Math.abs(variance[0] - p * (1 - p)) < 0.02, `variance ${variance[0]}`);
    // Without noise it is the plain gradient, a step: 1.
    const still = (await smoothGrad(model, image, { ...opts, noiseLevel: 0, samples: 3 })).dataSync();
    assert.strictEqual(still[0], 1);
    image.dispose();
  });

  it('equals saliency without noise and the weights on a linear model; seeded', async () => {
    const model = smallCnn({ seed: 4 });
    const image = randomImage(12, 12, 1, 8);
    const plain = await saliency(model, image, { target: 2 });
    const quiet = await smoothGrad(model, image, { target: 2, noiseLevel: 0, samples: 4 });
    assert.ok(maxAbsDiff(plain.dataSync(), quiet.dataSync()) < 1e-6);
    const a = (await smoothGrad(model, image, { target: 2, seed: 1, samples: 8 })).dataSync();
    const b = (await smoothGrad(model, image, { target: 2, seed: 1, samples: 8, batchSize: 3 })).dataSync();
    const c = (await smoothGrad(model, image, { target: 2, seed: 2, samples: 8 })).dataSync();
    assert.ok(maxAbsDiff(a, b) < 1e-6, 'same seed, same map whatever the batch size');
    assert.ok(maxAbsDiff(a, c) > 1e-4, 'another seed, another map');
    const { model: lin, kernel } = linearModel(3, 3, 1, 2, 5);
    const x = randomImage(3, 3, 1, 2);
    const g = (await smoothGrad(lin, x, { target: 1, noiseLevel: 0.5, samples: 10, reduce: 'none' })).dataSync();
    assert.ok(
      maxAbsDiff(
        g,
        Float32Array.from({ length: 9 }, (_, i) => kernel[i * 2 + 1]),
      ) < 1e-5,
    );
    const v = (await smoothGrad(lin, x, { target: 1, noiseLevel: 0.5, samples: 10, variant: 'variance' })).dataSync();
    assert.ok(v.every((e) => Math.abs(e) < 1e-6));
    tf.dispose([plain, quiet, image, x]);
  });

  it('checks options and leaks nothing', async () => {
    const model = smallCnn();
    const image = randomImage(12, 12, 1, 1);
    await rejects(
      () => smoothGrad(model, image, { variant: 'median' as never }),
      /unknown variant 'median'.*mean, squared, variance/,
    );
    await rejects(
      () => smoothGrad(model, image, { samples: 0 }),
      /samples must be a positive integer at most 10000, got 0/,
    );
    await rejects(
      () => smoothGrad(model, image, { noiseLevel: -1 }),
      /noiseLevel must be a finite number >= 0, got -1/,
    );
    const batch = tf.stack([image, image]);
    const g = await smoothGrad(model, batch, { samples: 4, gradient: 'guided' });
    assert.deepStrictEqual(g.shape, [2, 12, 12]);
    await assertNoLeak(() => smoothGrad(model, image, { samples: 5, batchSize: 2 }));
    tf.dispose([image, batch, g]);
  });
});

describe('techniques: Integrated Gradients', function () {
  before(useWasm);

  it('quadrature weights sum to 1; Gauss-Legendre integrates polynomials of degree 2n-1 exactly', () => {
    for (const method of INTEGRATION_METHODS) {
      for (const steps of [1, 2, 7, 50]) {
        const { alphas, weights } = quadrature(method, steps);
        assert.ok(Math.abs(sum(weights) - 1) < 1e-12, `${method} ${steps}`);
        assert.ok(alphas.every((a) => a >= 0 && a <= 1));
      }
    }
    for (const n of [3, 8, 20]) {
      const { alphas, weights } = quadrature('gaussLegendre', n);
      for (let k = 0; k < 2 * n; k++) {
        let integral = 0;
        for (let i = 0; i < n; i++) integral += weights[i] * alphas[i] ** k;
        assert.ok(Math.abs(integral - 1 / (k + 1)) < 1e-9, `n ${n}, x^${k}: ${integral}`);
      }
    }
  });

  it('satisfies completeness within 1% (several baselines and images)', async () => {
    const model = smallCnn({ seed: 6 });
    const batch = tf.stack([
      randomImage(12, 12, 1, 1),
      randomImage(12, 12, 1, 2),
      randomImage(12, 12, 1, 3),
    ]) as tf.Tensor4D;
    for (const baseline of ['black', 'mean', 'blur', 0.5] as const) {
      const r = await integratedGradients(model, batch, { baseline, details: true });
      assert.deepStrictEqual(r.attributions.shape, [3, 12, 12, 1]);
      const a = r.attributions.dataSync();
      for (let i = 0; i < 3; i++) {
        const total = sum(a.slice(i * 144, (i + 1) * 144));
        const change = r.scoreInput[i] - r.scoreBaseline[i];
        assert.ok(Math.abs(total - change) <= 0.01 * Math.abs(change), `${baseline} image ${i}: ${total} vs ${change}`);
        assert.ok(r.relativeError[i] < 0.01);
      }
      r.attributions.dispose();
    }
    batch.dispose();
  });

  it('is (x - baseline) * w on a linear model, and integrates a hinge correctly', async () => {
    const { model, kernel } = linearModel(3, 2, 1, 3, 8);
    const x = randomImage(3, 2, 1, 4);
    const ig = (await integratedGradients(model, x, { target: 2, baseline: 0.25, steps: 3 })).dataSync();
    const xv = x.dataSync();
    assert.ok(
      maxAbsDiff(
        ig,
        Float32Array.from({ length: 6 }, (_, i) => (xv[i] - 0.25) * kernel[i * 3 + 2]),
      ) < 1e-5,
    );
    // f = relu(x0 - 0.5) from 0 to 1: the attribution is f(1) - f(0) = 0.5, where gradient x input says 1.
    const hinge = tf.tensor3d([1, 0, 0, 0], [2, 2, 1]);
    const r = await integratedGradients(stepModel(), hinge, { target: 0, steps: 200, details: true });
    assert.ok(Math.abs(r.attributions.dataSync()[0] - 0.5) < 0.01, `${r.attributions.dataSync()[0]}`);
    tf.dispose([x, hinge, r.attributions]);
  });

  it('rejects bad baselines and leaks nothing', async () => {
    const model = smallCnn();
    const image = randomImage(12, 12, 1, 1);
    const wrong = tf.zeros([5, 5, 1]);
    await rejects(
      () => integratedGradients(model, image, { baseline: wrong }),
      /baseline has shape \[5, 5, 1\]; expected \[12, 12, 1\]/,
    );
    await rejects(() => integratedGradients(model, image, { baseline: 'gray' as never }), /unknown baseline 'gray'/);
    await rejects(
      () => integratedGradients(model, image, { method: 'simpson' as never }),
      /unknown method 'simpson'.*gaussLegendre/,
    );
    await assertNoLeak(() => integratedGradients(model, image, { steps: 8, batchSize: 3 }));
    await assertNoLeak(() => integratedGradients(model, image, { steps: 4, baseline: 'blur', details: true }));
    tf.dispose([image, wrong]);
  });
});
