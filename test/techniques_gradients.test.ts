import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { saliency, guidedBackprop, deconvnet, gradCam, gradCamWeights, guidedGradCam } from '../src/techniques';
import {
  assertNoLeak,
  linearModel,
  maxAbsDiff,
  randn,
  randomImage,
  rejects,
  smallCnn,
  useWasm,
} from './util/techniques_fixtures';

/**
 * A model whose first non-linearity is a ReLU applied right to the input, in one of several styles, then linear
 * layers.
 */
function reluFirst(style: 'activation' | 'conv' | 'dense' | 'reluLayer' | 'relu6', seed: number): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 1] });
  let h: tf.SymbolicTensor;
  if (style === 'activation')
    h = tf.layers.activation({ activation: 'relu', name: 'r' }).apply(input) as tf.SymbolicTensor;
  else if (style === 'reluLayer') h = tf.layers.reLU({ name: 'r' }).apply(input) as tf.SymbolicTensor;
  else if (style === 'relu6')
    h = tf.layers.activation({ activation: 'relu6', name: 'r' }).apply(input) as tf.SymbolicTensor;
  else if (style === 'conv') {
    const conv = tf.layers.conv2d({
      filters: 1,
      kernelSize: 1,
      activation: 'relu',
      name: 'r',
      kernelInitializer: 'ones',
      biasInitializer: 'zeros',
    });
    h = conv.apply(input) as tf.SymbolicTensor;
  } else {
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const dense = tf.layers.dense({
      units: 36,
      activation: 'relu',
      name: 'r',
      kernelInitializer: 'identity',
      biasInitializer: 'zeros',
    });
    h = tf.layers.reshape({ targetShape: [6, 6, 1] }).apply(dense.apply(flat)) as tf.SymbolicTensor;
  }
  const conv = tf.layers.conv2d({
    filters: 3,
    kernelSize: 3,
    name: 'lin',
    kernelInitializer: tf.initializers.randomNormal({ seed, stddev: 1 }),
  });
  const flat = tf.layers.flatten().apply(conv.apply(h)) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, name: 'logits', kernelInitializer: tf.initializers.randomNormal({ seed: seed + 1, stddev: 1 }) })
    .apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('techniques: saliency', function () {
  before(useWasm);

  it('of a linear model equals its weights (before the softmax by default)', async () => {
    const { model, kernel } = linearModel(5, 4, 2, 3, 7);
    const image = randomImage(5, 4, 2, 3);
    for (const t of [0, 2]) {
      const g = await saliency(model, image, { target: t, reduce: 'none' });
      assert.deepStrictEqual(g.shape, [5, 4, 2]);
      const expected = Float32Array.from({ length: 40 }, (_, i) => kernel[i * 3 + t]);
      assert.ok(maxAbsDiff(g.dataSync(), expected) < 1e-5);
      const m = await saliency(model, image, { target: t });
      assert.deepStrictEqual(m.shape, [5, 4]);
      const maxAbs = Float32Array.from({ length: 20 }, (_, p) =>
        Math.max(Math.abs(expected[2 * p]), Math.abs(expected[2 * p + 1])),
      );
      assert.ok(maxAbsDiff(m.dataSync(), maxAbs) < 1e-5);
      tf.dispose([g, m]);
    }
    image.dispose();
  });

  it("with output 'probs' is the softmax gradient p_t (w_t - sum_j p_j w_j)", async () => {
    const { model, kernel } = linearModel(3, 3, 1, 3, 11);
    const image = randomImage(3, 3, 1, 5);
    const p = (model.predict(image.expandDims(0)) as tf.Tensor).dataSync();
    const g = await saliency(model, image, { target: 1, output: 'probs', reduce: 'none' });
    const expected = Float32Array.from({ length: 9 }, (_, i) => {
      let mix = 0;
      for (let j = 0; j < 3; j++) mix += p[j] * kernel[i * 3 + j];
      return p[1] * (kernel[i * 3 + 1] - mix);
    });
    assert.ok(maxAbsDiff(g.dataSync(), expected) < 1e-5);
    tf.dispose([g, image]);
  });

  it('takes class names, batches (one target or one per image) and defaults to the predicted class', async () => {
    const { model, kernel } = linearModel(2, 2, 1, 3, 2);
    model.setUserDefinedMetadata({ classNames: ['cat', 'dog', 'eel'] });
    const batch = tf.tensor4d(randn(8, 4), [2, 2, 2, 1]);
    const g = await saliency(model, batch, { target: ['eel', 0], reduce: 'sum' });
    assert.deepStrictEqual(g.shape, [2, 2, 2]);
    const v = g.dataSync();
    for (let i = 0; i < 4; i++) {
      assert.ok(Math.abs(v[i] - kernel[i * 3 + 2]) < 1e-5);
      assert.ok(Math.abs(v[4 + i] - kernel[i * 3]) < 1e-5);
    }
    const predicted = (model.predict(batch) as tf.Tensor).argMax(-1).dataSync();
    const d = await saliency(model, batch, { reduce: 'sum' });
    const dv = d.dataSync();
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(dv[n * 4 + i] - kernel[i * 3 + predicted[n]]) < 1e-5);
    tf.dispose([g, d, batch]);
  });

  it('explains a unit inside the network: layer + channel (+ position)', async () => {
    const model = smallCnn({ seed: 3 });
    const image = randomImage(12, 12, 1, 9);
    // conv1 unit (5, 7) sees a 3x3 neighbourhood: its gradient vanishes outside it.
    const g = await saliency(model, image, { layer: 'conv1', channel: 2, y: 5, x: 7, reduce: 'none' });
    const v = g.dataSync();
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++) {
        if (Math.abs(y - 5) > 1 || Math.abs(x - 7) > 1) assert.strictEqual(v[y * 12 + x], 0, `pixel (${y}, ${x})`);
      }
    tf.dispose([g, image]);
  });

  it('skips a softmax that is the activation of the last Dense layer', async () => {
    const m = tf.sequential();
    m.add(tf.layers.flatten({ inputShape: [3, 3, 1] }));
    m.add(
      tf.layers.dense({
        units: 4,
        activation: 'softmax',
        name: 'out',
        kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
      }),
    );
    const kernel = m.getLayer('out').getWeights()[0].dataSync();
    const image = randomImage(3, 3, 1, 2);
    const g = await saliency(m, image, { target: 2, reduce: 'none' });
    assert.ok(
      maxAbsDiff(
        g.dataSync(),
        Float32Array.from({ length: 9 }, (_, i) => kernel[i * 4 + 2]),
      ) < 1e-5,
    );
    const p = Array.from((m.predict(image.expandDims(0)) as tf.Tensor).dataSync());
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the model still ends in a softmax afterwards');
    tf.dispose([g, image]);
  });

  it('skips a final sigmoid too (binary models), and guided backprop accepts it', async () => {
    const m = tf.sequential();
    m.add(tf.layers.flatten({ inputShape: [2, 2, 1] }));
    m.add(tf.layers.dense({ units: 3, activation: 'relu', name: 'hidden' }));
    m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' }));
    m.getLayer('hidden').setWeights([tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], [4, 3]), tf.zeros([3])]);
    m.getLayer('out').setWeights([tf.tensor2d([2, -1, 0.5], [3, 1]), tf.zeros([1])]);
    const image = tf.tensor3d([0.5, 0.2, 0.1, 0.9], [2, 2, 1]);
    const logit = (await saliency(m, image, { target: 0, reduce: 'none' })).dataSync();
    assert.ok(maxAbsDiff(logit, [2, -1, 0.5, 0]) < 1e-6);
    const z = 2 * 0.5 - 0.2 + 0.05;
    const s = 1 / (1 + Math.exp(-z));
    const prob = (await saliency(m, image, { target: 0, reduce: 'none', output: 'probs' })).dataSync();
    assert.ok(
      maxAbsDiff(
        prob,
        [2, -1, 0.5, 0].map((w) => w * s * (1 - s)),
      ) < 1e-6,
    );
    const guided = (await guidedBackprop(m, image, { target: 0 })).dataSync();
    assert.ok(maxAbsDiff(guided, [2, 0, 0.5, 0]) < 1e-6);
    image.dispose();
  });

  it('rejects bad input with messages that say what is expected', async () => {
    const model = smallCnn();
    const image = randomImage(12, 12, 1, 1);
    const wrong = randomImage(10, 12, 3, 1);
    const rank5 = tf.zeros([1, 1, 12, 12, 1]);
    const nan = tf.tensor3d(
      Float32Array.from({ length: 144 }, (_, i) => (i === 50 ? NaN : 0.5)),
      [12, 12, 1],
    );
    // (another size alone is resized; three channels for a grey model are refused)
    await rejects(
      () => saliency(model, wrong),
      /shape \[10, 12, 3\].*expected an image \[12, 12, 1\] or a batch \[\?, 12, 12, 1\]/,
    );
    await rejects(() => saliency(model, rank5), /rank 5/);
    await rejects(() => saliency(model, nan), /NaN/);
    await rejects(() => saliency(model, image, { target: 4 }), /target 4 out of range.*4 classes \(0\.\.3\)/);
    await rejects(() => saliency(model, image, { target: 'zebra' }), /unknown class 'zebra'.*0, 1, 2, 3/);
    await rejects(
      () => saliency(model, image, { layer: 'conv9', channel: 0 }),
      /unknown layer 'conv9'.*conv1, pool1, conv2/,
    );
    await rejects(
      () => saliency(model, image, { layer: 'conv2', channel: 8 }),
      /channel 8 out of range.*8 channels \(0\.\.7\)/,
    );
    await rejects(
      () => saliency(model, image, { reduce: 'max' as never }),
      /unknown reduce 'max'.*maxAbs, l2, sum, none/,
    );
    tf.dispose([image, wrong, rank5, nan]);
  });

  it('leaks no tensors', async () => {
    const model = smallCnn();
    const image = randomImage(12, 12, 1, 1);
    await assertNoLeak(() => saliency(model, image));
    await assertNoLeak(() => saliency(model, image, { layer: 'conv2', channel: 1 }));
    image.dispose();
  });
});

describe('techniques: guided backprop and deconvnet', function () {
  before(useWasm);
  const styles = ['activation', 'conv', 'dense', 'reluLayer', 'relu6'] as const;

  for (const style of styles) {
    it(`never passes a negative gradient through a ReLU (${style})`, async () => {
      const model = reluFirst(style, 5);
      const x = tf.tensor3d(randn(36, 8), [6, 6, 1]);
      const xv = x.dataSync();
      for (const target of [0, 1, 2, 3]) {
        const plain = (await saliency(model, x, { target, reduce: 'none' })).dataSync();
        const guided = (await guidedBackprop(model, x, { target })).dataSync();
        // One ReLU, then linear layers: guided = positive part of the plain gradient.
        assert.ok(
          maxAbsDiff(
            guided,
            plain.map((g) => Math.max(g, 0)),
          ) < 1e-5,
        );
        assert.ok(guided.every((g, i) => g >= 0 && (xv[i] > 0 || g === 0)));
        const deconv = (await deconvnet(model, x, { target })).dataSync();
        assert.ok(deconv.every((g) => g >= 0));
      }
      // The plain gradient does go negative, and deconvnet passes gradient where x <= 0: the checks above can fail.
      const plain = (await saliency(model, x, { target: 0, reduce: 'none' })).dataSync();
      assert.ok(plain.some((g) => g < 0));
      let deconvAtNegative = false;
      for (const target of [0, 1, 2, 3]) {
        const deconv = (await deconvnet(model, x, { target })).dataSync();
        if (deconv.some((g, i) => xv[i] <= 0 && (style !== 'relu6' || xv[i] < 6) && g > 0)) deconvAtNegative = true;
      }
      assert.ok(deconvAtNegative);
      x.dispose();
    });
  }

  it('restores the model afterwards, works for units, and leaks nothing', async () => {
    const model = smallCnn({ seed: 2 });
    const image = randomImage(12, 12, 1, 4);
    const before = (await saliency(model, image, { target: 1, reduce: 'none' })).dataSync();
    const g = await guidedBackprop(model, image, { layer: 'conv2', channel: 3 });
    assert.deepStrictEqual(g.shape, [12, 12, 1]);
    const after = (await saliency(model, image, { target: 1, reduce: 'none' })).dataSync();
    assert.deepStrictEqual(Array.from(after), Array.from(before));
    const conv1 = model.getLayer('conv1') as unknown as { activation: { getClassName(): string } };
    assert.strictEqual(conv1.activation.getClassName(), 'relu');
    assert.strictEqual(Object.prototype.hasOwnProperty.call(model.getLayer('probs'), 'call'), false);
    await assertNoLeak(() => guidedBackprop(model, image, { target: 2 }));
    await assertNoLeak(() => deconvnet(model, image, { layer: 'features', channel: 0 }));
    tf.dispose([g, image]);
  });

  it('reaches ReLUs inside a model used as a layer', async () => {
    const flat = smallCnn({ seed: 6 });
    const base = tf.sequential({ layers: flat.layers.slice(0, 5) as tf.layers.Layer[] });
    const nested = tf.sequential({ layers: [base, ...flat.layers.slice(5)] as tf.layers.Layer[] });
    const image = randomImage(12, 12, 1, 3);
    const a = await guidedBackprop(flat, image, { target: 1 });
    const b = await guidedBackprop(nested, image, { target: 1 });
    const plain = await saliency(nested, image, { target: 1, reduce: 'none' });
    assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) < 1e-6);
    assert.ok(maxAbsDiff(a.dataSync(), plain.dataSync()) > 1e-4, 'guided differs from the plain gradient');
    tf.dispose([a, b, plain, image]);
  });

  it('refuses non-ReLU models, naming the layer and activation', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ name: 'c1', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'tanh' }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 3, activation: 'relu' }));
    const x = randomImage(6, 6, 1, 1);
    await rejects(() => guidedBackprop(m, x, { target: 0 }), /needs a ReLU network.*'c1' \(activation 'tanh'\)/);
    const lin = linearModel(6, 6, 1, 3, 1).model;
    await rejects(() => deconvnet(lin, x, { target: 0 }), /needs ReLU activations; this model has none/);
    x.dispose();
  });
});

describe('techniques: Grad-CAM', function () {
  before(useWasm);

  /** conv(relu) -> global average pool -> dense with identity weights: class c's Grad-CAM is channel c / (h*w). */
  function camModel(): tf.LayersModel {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({
        name: 'conv',
        inputShape: [8, 8, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.randomNormal({ seed: 4 }),
      }),
    );
    m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
    m.add(tf.layers.dense({ name: 'logits', units: 3, kernelInitializer: 'identity', biasInitializer: 'zeros' }));
    m.add(tf.layers.activation({ name: 'probs', activation: 'softmax' }));
    return m;
  }

  /** The 'conv' layer's output for one image, flat. */
  function convActivations(model: tf.LayersModel, image: tf.Tensor3D): Float32Array {
    const conv = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv').output as tf.SymbolicTensor });
    return (conv.predict(image.expandDims(0)) as tf.Tensor).dataSync() as Float32Array;
  }

  it('equals CAM on a global-average-pooling model', async () => {
    const model = camModel();
    const image = randomImage(8, 8, 1, 2);
    const acts = convActivations(model, image);
    for (const c of [0, 1, 2]) {
      const cam = await gradCam(model, image, { target: c, upsample: false });
      assert.deepStrictEqual(cam.shape, [6, 6]);
      const expected = Float32Array.from({ length: 36 }, (_, i) => acts[i * 3 + c] / 36);
      assert.ok(maxAbsDiff(cam.dataSync(), expected) < 1e-6);
      cam.dispose();
    }
    const up = await gradCam(model, image, { target: 0 });
    assert.deepStrictEqual(up.shape, [8, 8]);
    tf.dispose([up, image]);
  });

  it('takes its channel weighting as a function (the part a CAM variant changes)', async () => {
    const model = camModel();
    const image = randomImage(8, 8, 1, 2);
    const acts = convActivations(model, image);
    const plain = await gradCam(model, image, { target: 1, upsample: false });
    const named = await gradCam(model, image, { target: 1, upsample: false, weighting: gradCamWeights });
    assert.deepStrictEqual(Array.from(named.dataSync()), Array.from(plain.dataSync()));
    // weights 1, 0, 2 for the three channels, whatever the gradient: the map is act0 + 2 act2
    const fixed = await gradCam(model, image, {
      target: 1,
      upsample: false,
      relu: false,
      weighting: (g) => tf.reshape(tf.tile(tf.tensor1d([1, 0, 2]), [g.shape[0]]), [g.shape[0], 1, 1, 3]) as tf.Tensor4D,
    });
    const expected = Float32Array.from({ length: 36 }, (_, i) => acts[i * 3] + 2 * acts[i * 3 + 2]);
    assert.ok(maxAbsDiff(fixed.dataSync(), expected) < 1e-5);
    tf.dispose([plain, named, fixed, image]);
  });

  it('defaults to the last conv layer, checks the layer, batches, guided Grad-CAM, no leaks', async () => {
    const model = smallCnn({ seed: 5 });
    const batch = tf.stack([randomImage(12, 12, 1, 1), randomImage(12, 12, 1, 2)]) as tf.Tensor4D;
    const a = await gradCam(model, batch, { target: 1, upsample: false });
    const b = await gradCam(model, batch, { target: 1, layer: 'conv2', upsample: false });
    assert.deepStrictEqual(a.shape, [2, 6, 6]);
    assert.deepStrictEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    assert.ok(a.dataSync().every((v) => v >= 0));
    await rejects(
      () => gradCam(model, batch, { layer: 'features' }),
      /'features' \(Dense\) has no spatial map; layers with one: conv1, pool1, conv2/,
    );
    const gg = await guidedGradCam(model, batch, { target: 1 });
    assert.deepStrictEqual(gg.shape, [2, 12, 12, 1]);
    const cam = (await gradCam(model, batch, { target: 1 })).dataSync();
    gg.dataSync().forEach((v, i) => cam[i] === 0 && assert.strictEqual(v, 0));
    await assertNoLeak(() => gradCam(model, batch));
    await assertNoLeak(() => guidedGradCam(model, batch, { target: 0 }));
    tf.dispose([a, b, gg, batch]);
  });
});
