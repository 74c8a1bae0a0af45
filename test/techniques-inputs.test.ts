import * as tf from '@tensorflow/tfjs';
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
import { assertNoLeak, randomImage, rejects, smallCnn, useWasm } from './techniques_fixtures';

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
      const nan = tf.tensor3d(Float32Array.from({ length: 144 }, (_, i) => (i === 7 ? NaN : 0.1)), [12, 12, 1]);
      const inf = tf.tensor3d(Float32Array.from({ length: 144 }, (_, i) => (i === 9 ? Infinity : 0.1)), [12, 12, 1]);
      const vector = tf.zeros([144]);
      const expected = /expected an image \[12, 12, 1\] or a batch \[\?, 12, 12, 1\]/;
      // Another size is resized to the model's; colour into a grey model is refused with the expected shape.
      // (an attribution made for the small image no longer matches: the scores say so)
      if (name === 'deletionScore' || name === 'insertionScore') await rejects(() => run(model, small, {}), /attribution has shape \[8, 12\]; expected \[12, 12\]/);
      else await assertNoLeak(() => run(model, small, {}), 1);
      await rejects(() => run(model, rgb, {}), new RegExp(`^${name}: image has shape \\[12, 12, 3\\]; ${expected.source}`));
      await rejects(() => run(model, vector, {}), /image has rank 1 \[144\]/);
      await rejects(() => run(model, nan, {}), /image contains 1 NaN value \(first at flat index 7\)/);
      await rejects(() => run(model, inf, {}), /image contains 1 infinite value/);
      if (!['featureVectors', 'topActivatingPatches'].includes(name)) {
        await rejects(() => run(model, good, { target: 4 }), /target 4 out of range; this model has 4 classes \(0\.\.3\)/);
      }
      await assertNoLeak(() => run(model, good, {}), 2);
      tf.dispose([good, small, rgb, nan, inf, vector]);
    });
  }
});
