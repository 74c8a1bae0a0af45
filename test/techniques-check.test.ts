import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { check } from '../src/techniques';
import { useWasm } from './techniques_fixtures';

/** Score before the softmax, written the way a student would: a sub-model up to 'logits'. */
function logitsOf(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor });
  return sub.apply(x) as tf.Tensor;
}

/** Student solutions, written independently of the reference code. */
const solutions = {
  saliency: (model: tf.LayersModel, image: tf.Tensor3D, target: number) =>
    tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) => logitsOf(model, x).slice([0, target], [1, 1]).sum())(image.expandDims(0));
      return g.abs().max(-1).squeeze([0]);
    }),
  occlusion: (model: tf.LayersModel, image: tf.Tensor3D, target: number, o: { window: number; stride: number; fill: number }) =>
    tf.tidy(() => {
      const n = Math.floor((28 - o.window) / o.stride) + 1;
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const b = image.bufferSync();
          for (let y = i * o.stride; y < i * o.stride + o.window; y++) for (let x = j * o.stride; x < j * o.stride + o.window; x++) b.set(o.fill, y, x, 0);
          out.push((model.predict(b.toTensor().expandDims(0)) as tf.Tensor).dataSync()[target]);
        }
      }
      return tf.tensor2d(out, [n, n]);
    }),
  step: (model: tf.LayersModel, image: tf.Tensor3D, target: number, lr: number) =>
    tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) => logitsOf(model, x.expandDims(0)).slice([0, target], [1, 1]).sum())(image);
      return image.add(g.mul(lr));
    }),
  visualize: (model: tf.LayersModel, target: number, o: { steps: number; learningRate: number }) => {
    let x = tf.zeros([1, 28, 28, 1]);
    for (let s = 0; s < o.steps; s++) {
      const next = tf.tidy(() => {
        const g = tf.grad((v: tf.Tensor) => logitsOf(model, v).slice([0, target], [1, 1]).sum())(x);
        return x.add(g.div(g.norm().add(1e-8)).mul(o.learningRate * 28)).clipByValue(0, 1);
      });
      x.dispose();
      x = next;
    }
    const out = x.squeeze([0]);
    x.dispose();
    return out;
  },
};

describe('techniques: check helpers for assignments', function () {
  before(useWasm);

  it('pass correct student solutions', async () => {
    for (const r of [
      await check.saliency(solutions.saliency, { quiet: true }),
      await check.occlusion(solutions.occlusion, { quiet: true }),
      await check.gradientAscentStep(solutions.step, { quiet: true }),
      await check.classVisualization(solutions.visualize, { quiet: true }),
    ]) {
      assert.ok(r.passed, r.message);
      assert.match(r.message, /^✓ .*matches the reference on \d hidden cases/);
    }
    // The raw gradient [28, 28, 1] is accepted too.
    const raw = (m: tf.LayersModel, img: tf.Tensor3D, t: number) =>
      tf.tidy(() => tf.grad((x: tf.Tensor) => logitsOf(m, x).slice([0, t], [1, 1]).sum())(img.expandDims(0)).squeeze([0]));
    assert.ok((await check.saliency(raw, { quiet: true })).passed);
  });

  it('explain the usual mistakes instead of crashing', async () => {
    const cases: [Promise<check.CheckResult>, RegExp][] = [
      [check.saliency(() => { throw new Error('TODO: compute the saliency map'); }, { quiet: true }), /threw an error: TODO: compute the saliency map/],
      [check.saliency((() => undefined) as never, { quiet: true }), /returned nothing; it should return a tf.Tensor of shape \[28, 28\] or \[28, 28, 1\]/],
      [check.saliency((m, img, t) => tf.tidy(() => solutions.saliency(m, img, t).expandDims(0)), { quiet: true }), /shape \[1, 28, 28\].*batch axis of 1 is left/],
      [check.saliency((m, img, t) => tf.tidy(() => tf.grad((x: tf.Tensor) => (m.predict(x) as tf.Tensor).slice([0, t], [1, 1]).sum())(img.expandDims(0)).abs().max(-1).squeeze([0])), { quiet: true }), /gradient of the probability/],
      [check.saliency((m, img, t) => tf.tidy(() => tf.grad((x: tf.Tensor) => logitsOf(m, x).slice([0, t], [1, 1]).sum())(img.expandDims(0)).sum(-1).squeeze([0])), { quiet: true }), /signed gradient: take the absolute value/],
      [check.saliency((m, img, t) => tf.tidy(() => solutions.saliency(m, img, t).mul(3)), { quiet: true }), /right pattern but is 3\.00 times the reference/],
      [check.occlusion((m, img, t, o) => tf.tidy(() => solutions.occlusion(m, img, t, o).neg().add((m.predict(img.expandDims(0)) as tf.Tensor).dataSync()[t])), { quiet: true }), /drop in probability/],
      [check.gradientAscentStep((m, img, t, lr) => solutions.step(m, img, t, -lr), { quiet: true }), /step downhill/],
      [check.classVisualization(() => tf.zeros([28, 28, 1]), { quiet: true }), /target score went from .* to only/],
    ];
    for (const [promise, pattern] of cases) {
      const r = await promise;
      assert.strictEqual(r.passed, false);
      assert.match(r.message, /^✗ /);
      assert.match(r.message, pattern);
    }
  });

  it('prints its verdict and leaks no tensors', async () => {
    const logs: string[] = [];
    const original = console.log;
    console.log = (...a: unknown[]) => void logs.push(a.join(' '));
    try {
      await check.gradientAscentStep(solutions.step);
    } finally {
      console.log = original;
    }
    assert.strictEqual(logs.length, 1);
    assert.match(logs[0], /✓ gradient ascent step/);
    const before = tf.memory().numTensors;
    await check.saliency(solutions.saliency, { quiet: true });
    await check.saliency(() => { throw new Error('TODO'); }, { quiet: true });
    assert.strictEqual(tf.memory().numTensors, before);
  });
});
