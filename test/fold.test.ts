/**
 * runtime/fold: batch norm folded into the convolution before it and ReLU6 fused into it give the maps of the
 * unfolded network, forward and backward, for the methods that go through techniques/core.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setFolding } from '../src/runtime/fold';
import { gradCam, guidedBackprop, integratedGradients, occlusion, saliency, smoothGrad } from '../src/techniques';
import { explainedValues, inputGradient, Explained } from '../src/techniques/core/objective';
import { assertNoLeak, randn, randomImage, useWasm } from './util/techniques_fixtures';

/** A MobileNet-like net (conv, depthwise, pointwise; batch norm with real statistics; ReLU6) on 16x16x3. */
function mobileLike(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let seed = 1;
  const init = () => tf.initializers.randomNormal({ stddev: 0.5, seed: seed++ });
  const bnRelu = (x: tf.SymbolicTensor, name: string) => {
    const bn = tf.layers.batchNormalization({ name: `${name}_bn`, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: 'relu6', name: `${name}_relu` }).apply(bn) as tf.SymbolicTensor;
  };
  let x = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
      name: 'c1',
    })
    .apply(input) as tf.SymbolicTensor;
  x = bnRelu(x, 'c1');
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(), name: 'dw' })
    .apply(x) as tf.SymbolicTensor;
  x = bnRelu(x, 'dw');
  x = tf.layers
    .conv2d({ filters: 12, kernelSize: 1, useBias: true, kernelInitializer: init(), name: 'pw' })
    .apply(x) as tf.SymbolicTensor;
  x = bnRelu(x, 'pw');
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, kernelInitializer: init(), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.softmax().apply(out) as tf.SymbolicTensor });
  // Batch-norm statistics far from the identity, so a wrong fold shows.
  let s = 10;
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const n = layer.getWeights()[0].shape[0];
    const [gamma, beta, mean, variance] = [
      randn(n, s++, 0.5).map((v) => 1 + v),
      randn(n, s++, 0.3),
      randn(n, s++, 0.3),
      randn(n, s++, 0.5).map((v) => 0.2 + v * v),
    ];
    layer.setWeights([gamma, beta, mean, variance].map((a) => tf.tensor1d(a)));
  }
  return model;
}

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let d = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  return d / m;
}

async function both<T>(fn: () => Promise<T> | T): Promise<[T, T]> {
  const old = setFolding(false);
  try {
    const plain = await fn();
    setFolding(true);
    return [await fn(), plain];
  } finally {
    setFolding(old);
  }
}

describe('runtime/fold: batch norm folded, ReLU6 fused', function () {
  this.timeout(60000);
  before(useWasm);

  it('gives the unfolded scores and input gradients (1e-4 relative), and runs fewer kernels', async () => {
    const model = mobileLike();
    const x = tf.stack([randomImage(16, 16, 3, 1), randomImage(16, 16, 3, 2)]) as tf.Tensor4D;
    const e: Explained = { kind: 'class', targets: Int32Array.of(1, 3), output: 'logits' };
    const [v, v0] = await both(() => explainedValues(model, x, e));
    assert.ok(relDiff(v, v0) < 1e-4, `scores differ by ${relDiff(v, v0)}`);
    const [g, g0] = await both(() => inputGradient(model, x, e));
    assert.ok(relDiff(g, g0) < 1e-4, `input gradients differ by ${relDiff(g, g0)}`);
    assert.ok(g.abs().sum().dataSync()[0] > 0, 'the gradient is not zero');
    // Folded, the batch norms are gone from the pass: no FusedBatchNorm kernel runs.
    const kernels = async () => (await tf.profile(() => inputGradient(model, x, e))).kernels.map((k) => k.name);
    const [after, before] = await both(kernels);
    assert.ok(before.includes('FusedBatchNorm') && !after.includes('FusedBatchNorm'), after.join(' '));
    assert.ok(after.length < before.length, `${after.length} kernels folded, ${before.length} unfolded`);
    tf.dispose([v, v0, g, g0, x]);
  });

  it('keeps the maps of saliency, Grad-CAM, guided backprop, IG, SmoothGrad and occlusion', async () => {
    const model = mobileLike();
    const image = randomImage(16, 16, 3, 5);
    const methods: [string, () => Promise<tf.Tensor>][] = [
      ['saliency', () => saliency(model, image, { target: 2 })],
      ['gradCam on a ReLU6 layer', () => gradCam(model, image, { target: 2, layer: 'pw_relu' })],
      ['gradCam on a batch norm', () => gradCam(model, image, { target: 2, layer: 'dw_bn' })],
      ['guidedBackprop', () => guidedBackprop(model, image, { target: 2 })],
      ['integratedGradients', () => integratedGradients(model, image, { target: 2, steps: 16, tolerance: Infinity })],
      ['smoothGrad', () => smoothGrad(model, image, { target: 2, samples: 4 })],
      ['occlusion', () => occlusion(model, image, { target: 2, window: 4, stride: 3, output: 'logits' })],
      ['saliency of a unit before its ReLU6', () => saliency(model, image, { layer: 'dw_bn', channel: 3 })],
    ];
    for (const [name, fn] of methods) {
      const [a, b] = await both(fn);
      assert.ok(relDiff(a, b) < 1e-4, `${name}: folded and unfolded maps differ by ${relDiff(a, b)}`);
      tf.dispose([a, b]);
    }
    image.dispose();
  });

  it('refolds when the weights change (the randomization check), and leaks nothing', async () => {
    const model = mobileLike();
    const image = randomImage(16, 16, 3, 7);
    const first = await saliency(model, image, { target: 1 });
    const bn = model.getLayer('pw_bn');
    bn.setWeights(bn.getWeights().map((w, i) => (i === 3 ? tf.add(w, 1) : tf.mul(w, 0.5))));
    const [a, b] = await both(() => saliency(model, image, { target: 1 }));
    assert.ok(relDiff(a, b) < 1e-4, `after new weights: ${relDiff(a, b)}`);
    assert.ok(relDiff(a, first) > 1e-3, 'the new weights change the map');
    await assertNoLeak(() => saliency(model, image, { target: 1 }));
    await assertNoLeak(() => occlusion(model, image, { target: 1, window: 4, stride: 4 }));
    tf.dispose([first, a, b, image]);
  });
});
