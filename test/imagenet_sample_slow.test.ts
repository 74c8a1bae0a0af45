/**
 * 'imagenet-sample', slow (a forward pass of all 1,000 photos): MobileNet's accuracy on them and how often feature
 * space's neighbours share a WordNet group, against pixel space's; the shipped results agree with a fresh pass.
 */
import * as assert from 'assert';
import { datasets, models, nearestNeighbors, sampleActivations, setup, strongestActivations, tf } from '../src';

function groupRate(X: tf.Tensor2D, groupOf: string[], k = 5): number {
  const r = nearestNeighbors(X, X, { k: k, method: 'brute' });
  let same = 0;
  for (let i = 0; i < groupOf.length; i++)
    for (let j = 0; j < k; j++) same += groupOf[r.indices[i * k + j]] === groupOf[i] ? 1 : 0;
  return same / (k * groupOf.length);
}

describe('imagenet-sample (slow): MobileNet on all 1,000 photos', function () {
  this.timeout(1800000);
  before(() => setup());

  it('top-1 above 0.8; WordNet-group neighbours: features above pixels; shipped results agree', async () => {
    const net = await models.load('mobilenet');
    const before = tf.memory().numTensors;
    const range = (s: number, k: number) => Array.from({ length: k }, (_, i) => s + i);
    const r = await strongestActivations(
      net,
      {
        count: 1000,
        slice: async (s: number, k: number) =>
          (await datasets.load('imagenet-sample', { classes: range(s, k) })).images,
      },
      { layers: ['global_average_pooling2d_1', 'probs'] },
    );
    const probs = r.probs.values;
    let right = 0;
    const top1 = new Int32Array(1000);
    for (let i = 0; i < 1000; i++) {
      const row = probs.subarray(i * 1000, (i + 1) * 1000);
      top1[i] = row.indexOf(Math.max(...row));
      if (top1[i] === i) right++;
    }
    console.log(`      MobileNet top-1 accuracy on the 1,000 photos: ${(right / 1000).toFixed(3)}`);
    assert.ok(right / 1000 > 0.8, `accuracy ${right / 1000}`);

    const groupOf = datasets.imagenetClasses().map((c) => c.group);
    const features = tf.tensor2d(r.global_average_pooling2d_1.values, [1000, 768]);
    const small = await datasets.load('imagenet-sample', { size: 56 });
    const pixels = small.images.reshape([1000, -1]) as tf.Tensor2D;
    const rate = { features: groupRate(features, groupOf), pixels: groupRate(pixels, groupOf) };
    console.log(
      `      5 nearest neighbours in the query's WordNet group: MobileNet features ` +
        `${(100 * rate.features).toFixed(1)}%, pixels ${(100 * rate.pixels).toFixed(1)}%`,
    );
    assert.ok(rate.features > 0.3 && rate.features > 3 * rate.pixels, JSON.stringify(rate));
    tf.dispose([features, small.images, pixels]);

    // The shipped results (notebooks/results) are what this pass gives.
    const shipped = await sampleActivations(net, { quiet: true });
    const agree = shipped.top5.filter((_, i) => i % 5 === 0).filter((t, i) => t === top1[i]).length;
    assert.ok(agree >= 995, `shipped top-1 agrees on ${agree} of 1000`);
    let worst = 0;
    const f = r.global_average_pooling2d_1.values;
    for (let i = 0; i < f.length; i++) worst = Math.max(worst, Math.abs(f[i] - shipped.features[i]));
    assert.ok(worst < 0.05, `shipped features within a byte step, worst ${worst}`);
    assert.strictEqual(tf.memory().numTensors, before);
  });
});
