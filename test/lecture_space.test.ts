/**
 * The short forms of notebooks 02-04 (src/lecture/space): show.neighbors(net, queries, data) and
 * show.invariance(net, data) on cifar-cnn and a few hundred CIFAR-10 images: what they print, the figure they
 * return, no tensor left behind, the widget's own show.neighbors call unchanged, and errors that name the public
 * function and the valid choices.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { datasets, nearestNeighbors, pixelVectors, setup, show, tf, Figure } from '../src';

/** What `fn` prints with console.log, and its result. */
async function printed<T>(fn: () => Promise<T>): Promise<{ text: string; value: T }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
  try {
    const value = await fn();
    return { text: lines.join('\n'), value };
  } finally {
    console.log = log;
  }
}

describe('lecture short forms: feature space (notebooks 02-04)', function () {
  this.timeout(120_000);
  const saved = process.env.CNNVIZ_CACHE;
  before(async () => {
    process.env.CNNVIZ_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-space-'));
    await setup({ backend: 'wasm' });
  });
  after(() => {
    if (saved === undefined) delete process.env.CNNVIZ_CACHE;
    else process.env.CNNVIZ_CACHE = saved;
  });

  it('show.neighbors(net, queries, data): prints counts and share, draws both spaces, leaks nothing', async () => {
    const run = () => show.neighbors('cifar-cnn', [3, 'cat', 'dog'], 'cifar-10', { limit: 300, k: 4 });
    const first = await printed(run);
    assert.ok(first.value instanceof Figure);
    assert.match(first.value.text, /neighbors: 3 queries x 4 in cifar-cnn features, 4 in pixel space/);
    const t = first.text;
    assert.match(t, /database: 300 CIFAR-10 test images of 10 classes/);
    assert.match(t, /cifar-cnn features 300 x 256, pixels 300 x 3072/);
    assert.match(t, /image #3 \(airplane\): \d of 4 feature-space neighbours of its class, \d of 4 pixel-space/);
    // 'cat' is a class of CIFAR-10 (its first image); 'dog' here too: a class name wins over the sample photo
    assert.match(t, /\ncat \(cat\): \d of 4 feature-space neighbours of its class/);
    assert.match(t, /\ndog \(dog\): \d of 4/);
    const [pixels, features] = (t.match(/pixel space (\d+\.\d)%, cifar-cnn features (\d+\.\d)% \(chance/) ?? [])
      .slice(1)
      .map(Number);
    assert.ok(features > pixels && pixels > 0, `features ${features}% above pixels ${pixels}%`);
    const before = tf.memory().numTensors;
    const again = await printed(run);
    assert.strictEqual(again.text.replace(/cifar-features: [^\n]*\n/, ''), t.replace(/cifar-features: [^\n]*\n/, ''));
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('show.neighbors(net, ...): a photo from elsewhere gets the best class; compare none: one space', async () => {
    const r = await printed(() =>
      show.neighbors('cifar-cnn', ['giraffe'], 'cifar-10', { limit: 100, k: 3, compare: 'none', share: false }),
    );
    assert.match(r.value.text, /neighbors: 1 queries x 3 in cifar-cnn features$/);
    assert.match(r.text, /the photo 'giraffe': cifar-cnn's best class: \w+/);
    assert.match(r.text, /photo 'giraffe' \(\w+\): \d of 3 feature-space neighbours of its class\n?$/);
    assert.doesNotMatch(r.text, /same class among/);
  });

  it("show.neighbors(database, result, options): the widget's call is unchanged", () => {
    const images = tf.randomUniform([6, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const X = pixelVectors(images);
    const fig = show.neighbors(images, nearestNeighbors(X, X, { k: 2 }), { labels: [0, 1, 0, 1, 0, 1] });
    assert.ok(fig instanceof Figure);
    tf.dispose([images, X]);
    assert.throws(
      () => show.neighbors(images, { indices: [1, 2] } as never),
      /^Error: show\.neighbors: section 'neighbours': flat indices need k/,
    );
  });

  it('show.neighbors(net, ...) errors name the function and the choices', async () => {
    await assert.rejects(
      show.neighbors('cifar-cnn', ['kat'], 'cifar-10', { limit: 50 }),
      new RegExp(
        /^Error: show\.neighbors: unknown query 'kat': not a class of the CIFAR-10 test images /.source +
          /\(closest: 'cat'.*a sample photo \(.*dog/.source,
      ),
    );
    await assert.rejects(
      show.neighbors('cifar-cnn', [50], 'cifar-10', { limit: 50 }),
      /^Error: show\.neighbors: query index must be an integer in \[0, 49\]/,
    );
    await assert.rejects(
      show.neighbors('cifar-cnn', [0], 'cifar10x'),
      /^Error: show\.neighbors: unknown dataset 'cifar10x'; known: mnist, fashion-mnist, cifar-10, imagenet-sample/,
    );
    await assert.rejects(
      show.neighbors('cifar-cnn', [0], 'cifar-10', { limit: 50, layer: 'featurs' }),
      /^Error: show\.neighbors: .*'featurs'.*features/,
    );
    await assert.rejects(show.neighbors('cifar-cnn', [0], 'cifar-10', { limit: 50, compare: 'pixel' as never }), {
      message: `show.neighbors: compare must be 'pixels' or 'none', got "pixel"`,
    });
    await assert.rejects(show.neighbors('cifar-cnnn', [0], 'cifar-10'), /^Error: show\.neighbors: unknown model/);
  });

  it('show.invariance(net, data): prints the five changes, draws them, leaks nothing', async () => {
    const run = () => show.invariance('cifar-cnn', 'cifar-10', { limit: 200, count: 10, shown: 2 });
    const first = await printed(run);
    assert.ok(first.value instanceof Figure);
    assert.match(first.value.text, /images: 12 at/);
    const changes = ['flipped', 'shifted 4 px', 'shifted 8 px', 'cropped 24x24', 'covered 12x12'];
    for (const c of changes) {
      assert.match(
        first.text,
        new RegExp(`${c}: original found: pixels \\d+%, cifar-cnn \\d+%; same class: pixels \\d+%, cifar-cnn \\d+%`),
      );
    }
    // the copy that changes nothing but a gray square is found in pixel space
    assert.match(first.text, /covered 12x12: original found: pixels (100|90)%/);
    const before = tf.memory().numTensors;
    await printed(run);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(show.invariance('cifar-cnn', 'cifar-10', { limit: 200, count: 0 }), {
      message: 'show.invariance: count must be an integer in [1, 200], got 0',
    });
    const cifar = await datasets.load('cifar-10', { limit: 40 });
    const own = await printed(() => show.invariance('cifar-cnn', cifar, { count: 4, shown: 1 }));
    assert.match(own.text, /over 4 images/);
    cifar.images.dispose();
  });
});
