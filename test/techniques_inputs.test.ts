import * as tf from '@tensorflow/tfjs';
import * as assert from 'assert';
import {
  deconvnet,
  deletionScore,
  featureVectors,
  gradCam,
  guidedBackprop,
  guidedGradCam,
  insertionScore,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  smoothGrad,
  topActivatingPatches,
} from '../src/techniques';
import { assertNoLeak, randomImage, rejects, smallCnn, useWasm } from './util/techniques_fixtures';

type Technique = (model: tf.LayersModel, image: tf.Tensor, extra: { target?: number }) => Promise<unknown>;

/** A uniform attribution map shaped like the image's pixels, disposed after use. */
async function withMap<T>(x: tf.Tensor, fn: (map: tf.Tensor) => Promise<T>): Promise<T> {
  const map = tf.ones(x.shape.slice(0, -1));
  try {
    return await fn(map);
  } finally {
    map.dispose();
  }
}

const techniques: Record<string, Technique> = {
  saliency: (m, x, o) => saliency(m, x, o),
  guidedBackprop: (m, x, o) => guidedBackprop(m, x, o),
  deconvnet: (m, x, o) => deconvnet(m, x, o),
  gradCam: (m, x, o) => gradCam(m, x, o),
  guidedGradCam: (m, x, o) => guidedGradCam(m, x, o),
  smoothGrad: (m, x, o) => smoothGrad(m, x, { ...o, samples: 3 }),
  integratedGradients: (m, x, o) => integratedGradients(m, x, { ...o, steps: 4, tolerance: Infinity }),
  occlusion: (m, x, o) => occlusion(m, x, { ...o, window: 4, stride: 4 }),
  kernelShap: (m, x, o) => kernelShap(m, x, { ...o, nSegments: 4 }),
  deletionScore: (m, x, o) => withMap(x, (map) => deletionScore(m, x, map, { ...o, steps: 4 })),
  insertionScore: (m, x, o) => withMap(x, (map) => insertionScore(m, x, map, { ...o, steps: 4 })),
  featureVectors: (m, x) => featureVectors(m, x),
  topActivatingPatches: (m, x) => topActivatingPatches(m, x, { layer: 'conv1', channel: 0, k: 1 }),
};

describe('techniques: every technique checks its image and leaks nothing', function () {
  before(useWasm);
  const model = smallCnn();

  for (const [name, run] of Object.entries(techniques)) {
    it(name, async () => {
      const good = randomImage(12, 12, 1, 3);
      const small = randomImage(8, 12, 1, 3);
      const rgb = randomImage(12, 12, 3, 3);
      const nan = tf.tensor3d(
        Float32Array.from({ length: 144 }, (_, i) => (i === 7 ? NaN : 0.1)),
        [12, 12, 1],
      );
      const inf = tf.tensor3d(
        Float32Array.from({ length: 144 }, (_, i) => (i === 9 ? Infinity : 0.1)),
        [12, 12, 1],
      );
      const vector = tf.zeros([144]);
      const expected = /expected an image \[12, 12, 1\] or a batch \[\?, 12, 12, 1\]/;
      // Another size is resized to the model's; colour into a grey model is refused with the expected shape.
      // (an attribution made for the small image no longer matches: the scores say so)
      if (name === 'deletionScore' || name === 'insertionScore')
        await rejects(() => run(model, small, {}), /attribution has shape \[8, 12\]; expected \[12, 12\]/);
      else await assertNoLeak(() => run(model, small, {}), 1);
      await rejects(
        () => run(model, rgb, {}),
        new RegExp(`^${name}: image has shape \\[12, 12, 3\\]; ${expected.source}`),
      );
      await rejects(() => run(model, vector, {}), /image has rank 1 \[144\]/);
      await rejects(() => run(model, nan, {}), /image contains 1 NaN value \(first at flat index 7\)/);
      await rejects(() => run(model, inf, {}), /image contains 1 infinite value/);
      if (!['featureVectors', 'topActivatingPatches'].includes(name)) {
        await rejects(
          () => run(model, good, { target: 4 }),
          /target 4 out of range; this model has 4 classes \(0\.\.3\)/,
        );
      }
      await assertNoLeak(() => run(model, good, {}), 2);
      tf.dispose([good, small, rgb, nan, inf, vector]);
    });
  }
});

describe('techniques: many small grey images for a big colour model are converted a slice at a time', function () {
  before(useWasm);
  it('featureVectors and topActivatingPatches give what converting everything first gives', async () => {
    const input = tf.input({ shape: [64, 64, 3] });
    const conv = tf.layers
      .conv2d({
        name: 'conv1',
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      })
      .apply(input) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ name: 'logits', units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })
      .apply(gap) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    // 1,400 grey 32x32 images: 17.2M values once colour and 64x64, above the lazy threshold.
    const grey = tf.randomUniform([1400, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const converted = tf.tidy(() => tf.image.resizeBilinear(tf.tile(grey, [1, 1, 1, 3]), [64, 64], false, true));
    // Warm-up (sub-models and kernels made once), then nothing may be left behind.
    tf.dispose([await featureVectors(model, grey.slice(0, 2), { threads: 1 })]);
    await topActivatingPatches(model, grey.slice(0, 2), { layer: 'conv1', channel: 1, k: 1 });
    const before = tf.memory().numTensors;
    const lazy = await featureVectors(model, grey, { threads: 1 });
    const eager = await featureVectors(model, converted, { threads: 1 });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(lazy, eager))).dataSync()[0]);
    assert.ok(diff < 1e-5, `max difference ${diff}`);
    const p1 = await topActivatingPatches(model, grey, { layer: 'conv1', channel: 1, k: 3 });
    const p2 = await topActivatingPatches(model, converted, { layer: 'conv1', channel: 1, k: 3 });
    assert.deepStrictEqual(
      p1.map((p) => p.index),
      p2.map((p) => p.index),
    );
    tf.dispose([lazy, eager]);
    assert.strictEqual(tf.memory().numTensors, before);
    tf.dispose([grey, converted]);
    model.dispose();
  });
});
