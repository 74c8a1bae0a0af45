import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  classVisualization,
  firstLayerFilters,
  gradCam,
  guidedBackprop,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  topActivatingPatches,
} from '../src/techniques';
import { assertNoLeak, uniform, useWasm } from './util/techniques_fixtures';

/** MobileNet-style: strided stem, batch norm, ReLU6 layers, depthwise + pointwise, global pooling, softmax Dense. */
function mobileNetStyle(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.heNormal({ seed });
  const input = tf.input({ shape: [32, 32, 3] });
  let h = tf.layers
    .conv2d({
      name: 'stem',
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(1),
    })
    .apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn1' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ name: 'relu1', maxValue: 6 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(2) })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn2' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ name: 'relu2', maxValue: 6 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .conv2d({ name: 'pw', filters: 16, kernelSize: 1, activation: 'relu6', kernelInitializer: init(3) })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ name: 'logits', units: 5, activation: 'softmax', kernelInitializer: init(4) })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** VGG-style: two 3x3 convs per block, max pooling, dropout, two Dense layers. */
function vggStyle(): tf.Sequential {
  const init = (seed: number) => tf.initializers.heNormal({ seed });
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      name: 'b1c1',
      inputShape: [32, 32, 3],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  m.add(
    tf.layers.conv2d({
      name: 'b1c2',
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(2),
    }),
  );
  m.add(tf.layers.maxPooling2d({ name: 'b1p', poolSize: 2 }));
  m.add(
    tf.layers.conv2d({
      name: 'b2c1',
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(3),
    }),
  );
  m.add(
    tf.layers.conv2d({
      name: 'b2c2',
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(4),
    }),
  );
  m.add(tf.layers.maxPooling2d({ name: 'b2p', poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ name: 'fc', units: 32, activation: 'relu', kernelInitializer: init(5) }));
  m.add(tf.layers.dropout({ rate: 0.5 }));
  m.add(tf.layers.dense({ name: 'logits', units: 6, kernelInitializer: init(6) }));
  m.add(tf.layers.softmax({ name: 'probs' }));
  return m;
}

describe('techniques: VGG- and MobileNet-style networks', function () {
  before(useWasm);

  for (const [name, build, inner] of [
    ['MobileNet-style', mobileNetStyle, 'dw'],
    ['VGG-style', vggStyle, 'b2c1'],
  ] as const) {
    it(`${name}: every technique runs, with the right shapes, complete IG, boxes that hold the gradient`, async () => {
      const model = build();
      const image = tf.tensor3d(uniform(32 * 32 * 3, 5), [32, 32, 3]);
      const s = await saliency(model, image, { target: 1 });
      assert.deepStrictEqual(s.shape, [32, 32]);
      assert.ok(s.dataSync().some((v) => v > 0));
      const g = await guidedBackprop(model, image, { target: 1 });
      assert.deepStrictEqual(g.shape, [32, 32, 3]);
      const cam = await gradCam(model, image, { target: 1 });
      assert.deepStrictEqual(cam.shape, [32, 32]);
      const ig = await integratedGradients(model, image, { target: 1, details: true });
      assert.ok(ig.relativeError[0] < 0.01, `IG completeness ${ig.relativeError[0]}`);
      const occ = await occlusion(model, image, { target: 1 });
      assert.deepStrictEqual(occ.shape, [28, 28]);
      const shap = await kernelShap(model, image, { target: 1, segments: 'slic', samples: 200, details: true });
      assert.ok(Math.abs(shap.perImage[0].delta) < 1e-5);
      const vis = await classVisualization(model, { target: 1, steps: 10 });
      assert.deepStrictEqual(vis.shape, [32, 32, 3]);
      const filters = await firstLayerFilters(model);
      assert.strictEqual(filters.shape[3], 3);
      const top = await topActivatingPatches(model, image, { layer: inner, channel: 2, k: 1 });
      const { y, x, box } = top[0];
      const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(inner).output as tf.SymbolicTensor });
      const grad = tf
        .grad((input: tf.Tensor) => (sub.apply(input) as tf.Tensor).slice([0, y, x, 2], [1, 1, 1, 1]).sum())(
          image.expandDims(0),
        )
        .dataSync();
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const moves = [0, 1, 2].some((k) => grad[(r * 32 + c) * 3 + k] !== 0);
          if (moves)
            assert.ok(
              r >= box.top && r < box.bottom && c >= box.left && c < box.right,
              `pixel (${r}, ${c}) outside ${JSON.stringify(box)}`,
            );
        }
      }
      await assertNoLeak(() => guidedBackprop(model, image, { target: 2 }), 2);
      await assertNoLeak(() => gradCam(model, image, { target: 2 }), 2);
      tf.dispose([s, g, cam, ig.attributions, occ, shap.attributions, vis, filters, image]);
    });
  }
});
