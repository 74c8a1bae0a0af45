/** The widgets draw what the techniques give on a 224x224 photo through MobileNet and on cifar-cnn. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  datasets,
  firstLayerFilters,
  gradCam,
  guidedBackprop,
  images,
  models,
  occlusion,
  saliency,
  setup,
  show,
  topActivatingPatches,
} from '../src';

function pngOf(fig: { png: Buffer }): Buffer {
  const png = fig.png;
  assert.ok(Buffer.isBuffer(png) && png.subarray(1, 4).toString() === 'PNG', 'a PNG');
  return png;
}

describe('real networks: widgets on photos and colour models', function () {
  this.timeout(600000);
  before(() => setup({ quiet: true }));

  it('heat maps, guided backprop, occlusion, filters and patches of MobileNet and cifar-cnn render', async () => {
    const mobilenet = await models.load('mobilenet');
    const dog = await images.sample('dog', { size: 224, fit: 'fill' });
    const sal = await saliency(mobilenet, dog, { target: 'malamute' });
    const cam = await gradCam(mobilenet, dog, { target: 'mountain bike' });
    const gb = await guidedBackprop(mobilenet, dog, { target: 'malamute' });
    const occ = await occlusion(mobilenet, dog, { target: 'malamute', window: 56, stride: 56, details: true });
    pngOf(show.heatmap(sal, dog, { title: 'saliency: malamute' }));
    pngOf(show.heatmap(cam, dog, { title: 'Grad-CAM: mountain bike' }));
    pngOf(show.images(tf.abs(gb).div(tf.abs(gb).max()).expandDims(0) as tf.Tensor4D));
    pngOf(show.occlusion(occ, dog));
    pngOf(show.filters(await firstLayerFilters(mobilenet)));
    const cifarModel = await models.load('cifar-cnn');
    const filters = await firstLayerFilters(cifarModel);
    assert.deepStrictEqual(filters.shape, [32, 5, 5, 3]);
    pngOf(show.filters(filters));
    const cifar = await datasets.load('cifar-10', { split: 'test', limit: 200 });
    const top = await topActivatingPatches(cifarModel, cifar.images, { layer: 'conv2', channel: 3, k: 6 });
    assert.strictEqual(top.length, 6);
    pngOf(show.patches(cifar.images, top));
    tf.dispose([dog, sal, cam, gb, occ.map, occ.drop, filters, cifar.images]);
    mobilenet.dispose();
    cifarModel.dispose();
  });
});
