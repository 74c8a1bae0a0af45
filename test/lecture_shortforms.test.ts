/**
 * The lecture's short forms (src/lecture): what they take (a model or its name, a sample, path, URL or tensor, a
 * class by name or index) and the errors a misspelt model, sample or class gets: the public name and the choices.
 * Each short form's own test (what it prints and draws) is in this file too.
 */
import * as assert from 'assert';
import { setup, tf } from '../src';
import { classOf, imageOf, netOf } from '../src/lecture/resolve';

describe('lecture short forms: what they take', function () {
  this.timeout(120_000);
  before(async () => {
    await setup({ backend: 'wasm' });
  });

  it('loads a model by name once and passes a model through', async () => {
    const a = await netOf('cifar-cnn', 'show.x');
    const b = await netOf('cifar-cnn', 'show.x');
    assert.strictEqual(a, b);
    assert.strictEqual(await netOf(a, 'show.x'), a);
  });

  it('names the short form and the models on a misspelt model', async () => {
    await assert.rejects(
      netOf('mobilnet', 'show.gradCam'),
      /^Error: show\.gradCam: unknown model 'mobilnet'; models: .*mobilenet/,
    );
    await assert.rejects(netOf(42 as never, 'show.gradCam'), /^Error: show\.gradCam: expected a model or a model name/);
  });

  it('reads a sample at the model input size, clones a tensor, and lists the samples on a misspelt one', async () => {
    const net = await netOf('cifar-cnn', 'show.x');
    const before = tf.memory().numTensors;
    const dog = await imageOf(net, 'dog', 'show.x');
    assert.deepStrictEqual(dog.shape, [32, 32, 3]);
    const copy = await imageOf(net, dog, 'show.x');
    assert.notStrictEqual(copy, dog);
    tf.dispose([dog, copy]);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      imageOf(net, 'dgo', 'show.saliency'),
      /^Error: show\.saliency: unknown image 'dgo': not a sample \(.*dog.*\)/,
    );
    const bad = tf.zeros([2, 32, 32, 3]);
    await assert.rejects(
      imageOf(net, bad as never, 'show.saliency'),
      /expected an image \[H, W, C\], got a tensor of shape \[2, 32, 32, 3\]/,
    );
    bad.dispose();
  });

  it('finds a class by name or index and names the closest on a misspelt one', async () => {
    const net = await netOf('cifar-cnn', 'show.x');
    assert.strictEqual(classOf(net, 'cat', 'show.x'), 3);
    assert.strictEqual(classOf(net, 7, 'show.x'), 7);
    assert.throws(
      () => classOf(net, 'caat', 'show.gradCam'),
      /^Error: show\.gradCam: unknown class 'caat'; closest: 'cat' \(3\)/,
    );
    assert.throws(() => classOf(net, 10, 'show.gradCam'), /class index must be an integer in \[0, 9\], got 10/);
  });
});
