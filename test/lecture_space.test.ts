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
import {
  datasets,
  featureVectors,
  gridLayout,
  knnAccuracy,
  models,
  nearestNeighbors,
  pca,
  pixelVectors,
  setup,
  show,
  tf,
  trustworthiness,
  tsne,
  Figure,
} from '../src';

/** What `fn` prints with console.log (console.table prints through it), and its result. */
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

/** The largest absolute difference of two equally long arrays (fails when the lengths differ). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Small t-SNE options for a hundred points (the lecture's are 30 and 1,000 steps). */
const SMALL_TSNE = { perplexity: 10, iterations: 300, exaggerationIterations: 100 };

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

  it('show.scatter(net, data, pca): pca() of the feature vectors, the variance share printed', async () => {
    const cifar = await datasets.load('cifar-10', { limit: 300 });
    const model = await models.load('cifar-cnn');
    const f = await featureVectors(model, cifar.images, { layer: 'features' });
    const want = pca(f, { dims: 2 });
    const before = tf.memory().numTensors;
    const r = await printed(() => show.scatter('cifar-cnn', 'cifar-10', { method: 'pca', limit: 300 }));
    assert.strictEqual(tf.memory().numTensors, before);
    assert.ok(r.value instanceof Figure);
    assert.strictEqual(r.value.n, 300);
    assert.ok(maxDiff(r.value.points, want.points) < 1e-4, 'the same points as pca()');
    assert.match(r.text, /^300 CIFAR-10 test images, cifar-cnn features 256 values each, placed by PCA$/m);
    const ratio = 100 * (want.explainedVarianceRatio[0] + want.explainedVarianceRatio[1]);
    assert.match(r.text, new RegExp(`the two components explain ${ratio.toFixed(1)}% of the variance`));
    tf.dispose([f, cifar.images]);
  });

  it('show.scatter(net, data, tsne of pixels): tsne() of pixelVectors, its 5-NN line, cached, every', async () => {
    const cifar = await datasets.load('cifar-10', { limit: 120 });
    const X = pixelVectors(cifar.images);
    const want = await tsne(X, { ...SMALL_TSNE, seed: 0 });
    const run = (every?: number) =>
      show.scatter('cifar-cnn', 'cifar-10', { space: 'pixels', limit: 120, options: SMALL_TSNE, every });
    const first = await printed(() => run());
    assert.match(first.text, /cifar-pixels-tsne: computed/);
    assert.ok(maxDiff(first.value.points, want.points) < 1e-6, 'the same points as tsne()');
    assert.match(first.text, /120 CIFAR-10 test images, raw pixels 3072 values each, placed by t-SNE/);
    const acc = knnAccuracy(want, cifar.labels, { k: 5 });
    const counts = new Array(10).fill(0);
    for (const l of cifar.labels) counts[l]++;
    assert.match(
      first.text,
      new RegExp(
        `CIFAR-10 test images, class by 5-NN vote in 2-D: t-SNE ${acc.toFixed(3)}; ` +
          `largest class ${(Math.max(...counts) / 120).toFixed(3)}`,
      ),
    );
    const again = await printed(() => run(7));
    assert.match(again.text, /cifar-pixels-tsne: loaded from the cache/);
    assert.deepStrictEqual(Array.from(again.value.points), Array.from(first.value.points));
    assert.match(again.value.text, /scatter: 18 points/);
    const two = await show.scatter('cifar-cnn', 'cifar-10', {
      space: 'pixels',
      limit: 120,
      options: SMALL_TSNE,
      every: 2,
    });
    assert.match(JSON.stringify(two.plotly), /every 2nd image: hover a dot/);
    tf.dispose([X, cifar.images]);
  });

  it('show.mapQuality(net, data): the table holds trustworthiness() and knnAccuracy() of both maps', async () => {
    const cifar = await datasets.load('cifar-10', { limit: 120 });
    const model = await models.load('cifar-cnn');
    const f = await featureVectors(model, cifar.images, { layer: 'features' });
    const X = pixelVectors(cifar.images);
    const opts = { limit: 120, options: SMALL_TSNE };
    const own = await show.scatter('cifar-cnn', 'cifar-10', opts);
    const pix = await show.scatter('cifar-cnn', 'cifar-10', { ...opts, space: 'pixels' });
    const r = await printed(() => show.mapQuality('cifar-cnn', 'cifar-10', opts));
    const row = (map: string, trust: number, knn: number) =>
      assert.match(r.text, new RegExp(`'t-SNE of ${map}'\\s+│ '${trust.toFixed(3)}'\\s+│ '${knn.toFixed(3)}'`));
    row('cifar-cnn features', trustworthiness(f, own, { k: 10 }), knnAccuracy(own, cifar.labels, { k: 5 }));
    row('pixels', trustworthiness(X, pix, { k: 10 }), knnAccuracy(pix, cifar.labels, { k: 5 }));
    assert.strictEqual(r.value, undefined, 'nothing returned: a cell shows the table alone');
    tf.dispose([f, X, cifar.images]);
  });

  it('show.confusions(net, data): the pairs are the k-NN vote of nearestNeighbors, first pair drawn', async () => {
    const cifar = await datasets.load('cifar-10', { limit: 300 });
    const model = await models.load('cifar-cnn');
    const f = await featureVectors(model, cifar.images, { layer: 'features' });
    const nn = nearestNeighbors(f, f, { k: 10, excludeSelf: true }).indices;
    let away = 0;
    for (let i = 0; i < 300; i++) {
      const votes = new Array(10).fill(0);
      for (let j = 0; j < 10; j++) votes[cifar.labels[nn[i * 10 + j]]]++;
      if (votes.indexOf(Math.max(...votes)) !== cifar.labels[i]) away++;
    }
    const before = tf.memory().numTensors;
    const r = await printed(() => show.confusions('cifar-cnn', 'cifar-10', { limit: 300, count: 4 }));
    assert.strictEqual(tf.memory().numTensors, before);
    assert.ok(r.value instanceof Figure);
    const pairs = r.value.pairs;
    assert.strictEqual(
      pairs.reduce((s, p) => s + p.images.length, 0),
      away,
    );
    assert.ok(pairs.every((p, i) => i === 0 || p.images.length <= pairs[i - 1].images.length));
    assert.match(r.text, new RegExp(`most confused pairs: ${pairs[0].classes}`));
    assert.match(r.text, new RegExp(`'${pairs[0].classes}'\\s+│ ${pairs[0].images.length}`));
    assert.match(r.value.text, /images: 4 at/);
    tf.dispose([f, cifar.images]);
  });

  it('show.imageMap(net, data): images at the map points, or on a grid with its printed shares', async () => {
    const opts = { limit: 120, options: SMALL_TSNE };
    const map = await show.scatter('cifar-cnn', 'cifar-10', opts);
    const before = tf.memory().numTensors;
    const spread = await printed(() => show.imageMap('cifar-cnn', 'cifar-10', { ...opts, every: 2 }));
    assert.match(spread.value.text, /^imageScatter: 60 thumbnails/);
    const r = await printed(() => show.imageMap('cifar-cnn', 'cifar-10', { ...opts, grid: [10, 12] }));
    assert.strictEqual(tf.memory().numTensors, before);
    assert.match(r.value.text, /^imageGrid: 10x12 cells/);
    const flipped = Float32Array.from(map.points, (v, i) => (i % 2 ? -v : v));
    const grid = await gridLayout({ points: flipped, n: 120 }, { rows: 10, cols: 12 });
    const cifar = await datasets.load('cifar-10', { limit: 120 });
    const at = new Map(Array.from(grid.cells, (cell, i) => [cell, i]));
    let pairs = 0;
    let same = 0;
    for (let cell = 0; cell < 120; cell++) {
      const right = cell % 12 < 11 ? cell + 1 : -1;
      for (const other of [right, cell + 12 < 120 ? cell + 12 : -1]) {
        if (other < 0) continue;
        pairs++;
        if (cifar.labels[at.get(cell)!] === cifar.labels[at.get(other)!]) same++;
      }
    }
    assert.match(r.text, new RegExp(`features grid: ${((100 * same) / pairs).toFixed(1)}% of adjacent images share`));
    assert.match(r.text, /features grid, the most frequent neighbours of two classes: \w+ \/ \w+ \(\d+\)/);
    cifar.images.dispose();
  });

  it('show.scatter / show.imageMap errors name the function, the option and the valid choices', async () => {
    await assert.rejects(show.scatter('cifar-cnn', 'cifar-10', { method: 'tsn' as never }), {
      message: "show.scatter: unknown method 'tsn'; valid choices: pca, kpca, tsne, umap",
    });
    await assert.rejects(show.scatter('cifar-cnn', 'cifar-10', { space: 'pixel' as never }), {
      message: "show.scatter: unknown space 'pixel'; valid choices: features, pixels",
    });
    await assert.rejects(
      show.scatter('cifar-cnn', 'cifar-10', { limit: 50, layer: 'featurs' }),
      /^Error: show\.scatter: .*'featurs'.*features/,
    );
    await assert.rejects(show.scatter('cifar-cnn', 'cifar-10', { every: 0 }), {
      message: 'show.scatter: every must be a positive integer, got 0',
    });
    await assert.rejects(show.imageMap('cifar-cnn', 'cifar-10', { limit: 50, grid: [0, 4] }), {
      message: 'show.imageMap: grid must be true, a side (32) or [rows, cols], each an integer in [1, 200], got [0,4]',
    });
    await assert.rejects(show.imageMap('cifar-cnn', 'cifar-10', { method: 'PCA' as never }), {
      message: "show.imageMap: unknown method 'PCA'; valid choices: pca, kpca, tsne, umap",
    });
    await assert.rejects(show.confusions('cifar-cnn', 'cifar-10', { limit: 50, k: 0 }), {
      message: 'show.confusions: k must be a positive integer at most 100, got 0',
    });
    await assert.rejects(
      show.mapQuality('cifar-cnn', 'cifar-10', { compare: ['mobilnet'] }),
      /^Error: show\.mapQuality: unknown model/,
    );
    // the widget's call is unchanged
    const fig = show.scatter({ points: new Float32Array([0, 0, 1, 1, 2, 0]), n: 3 }, { labels: [0, 1, 0] });
    assert.match(fig.text, /scatter: 3 points in 2 classes/);
  });
});
