import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { featureVectors, firstLayerFilters, occlusion, pixelVectors, topActivatingPatches } from '../src/techniques';
import type { OcclusionOptions } from '../src/techniques';
import { assertNoLeak, maxAbsDiff, randomImage, rejects, smallCnn, uniform, useWasm } from './util/techniques_fixtures';

/** Reads only rows 2..4, columns 3..5 of a 10x10 image. */
function regionModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.cropping2D({
      inputShape: [10, 10, 1],
      cropping: [
        [2, 5],
        [3, 4],
      ],
    }),
  );
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }),
  );
  m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.randomNormal({ seed: 2 }) }));
  m.add(tf.layers.activation({ activation: 'softmax' }));
  return m;
}

const overlaps = (top: number, left: number, win: number) =>
  top <= 4 && top + win - 1 >= 2 && left <= 5 && left + win - 1 >= 3;

describe('techniques: occlusion', function () {
  before(useWasm);

  it('is flat (zero drop) wherever the patch misses the only region the model reads', async () => {
    const model = regionModel();
    const image = randomImage(10, 10, 1, 3);
    const r = await occlusion(model, image, {
      target: 1,
      window: 3,
      stride: 1,
      fill: 0.5,
      upsample: true,
      batchSize: 7,
      details: true,
    });
    assert.deepStrictEqual(r.map.shape, [8, 8]);
    assert.deepStrictEqual(Array.from(r.rows), [0, 1, 2, 3, 4, 5, 6, 7]);
    const drop = r.drop.dataSync();
    const map = r.map.dataSync();
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const d = drop[i * 8 + j];
        if (overlaps(i, j, 3)) assert.notStrictEqual(d, 0, `window at (${i}, ${j}) covers the region`);
        else {
          assert.strictEqual(d, 0, `window at (${i}, ${j}) misses the region`);
          assert.strictEqual(map[i * 8 + j], r.score[0]);
        }
      }
    }
    const pixel = r.pixelDrop!.dataSync();
    // Every window covering pixel (9, 0) misses the region.
    assert.strictEqual(pixel[9 * 10], 0);
    // The map entry is the probability of the manually occluded image.
    const manual = image.bufferSync();
    for (let y = 3; y < 6; y++) for (let x = 4; x < 7; x++) manual.set(0.5, y, x, 0);
    const p = (model.predict(manual.toTensor().expandDims(0)) as tf.Tensor).dataSync()[1];
    assert.ok(Math.abs(map[3 * 8 + 4] - p) < 1e-6);
    tf.dispose([r.map, r.drop, r.pixelDrop!, image]);
  });

  it('covers the edges, as Captum does: a last window flush with the bottom and right borders', async () => {
    // The model reads only the bottom-right pixel (9, 9); window 3 at stride 3 stops at 6..8 without the flush one.
    const m = tf.sequential();
    m.add(
      tf.layers.cropping2D({
        inputShape: [10, 10, 1],
        cropping: [
          [9, 0],
          [9, 0],
        ],
      }),
    );
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2, kernelInitializer: 'ones', biasInitializer: 'zeros' }));
    const image = tf.fill([10, 10, 1], 0.8) as tf.Tensor3D;
    const r = await occlusion(m, image, {
      target: 0,
      window: 3,
      stride: 3,
      fill: 0,
      output: 'logits',
      upsample: true,
      details: true,
    });
    assert.deepStrictEqual(Array.from(r.rows), [0, 3, 6, 7]);
    assert.deepStrictEqual(Array.from(r.cols), [0, 3, 6, 7]);
    const drop = r.drop.dataSync();
    const pixel = r.pixelDrop!.dataSync();
    // Only the flush window (7, 7) covers pixel (9, 9): its drop is the pixel's whole value, 0.8.
    for (let k = 0; k < 16; k++) assert.ok(Math.abs(drop[k] - (k === 15 ? 0.8 : 0)) < 1e-6, `window ${k}`);
    assert.ok(Math.abs(pixel[99] - 0.8) < 1e-6, 'the corner pixel is covered and carries the drop');
    // Every pixel is covered by some window: the pixel map is the mean drop of the windows over it, never "unseen".
    const all = await occlusion(m, image, { target: 0, window: 3, stride: 3, fill: 0, upsample: true, details: true });
    const count = new Uint8Array(100);
    for (const top of all.rows)
      for (const left of all.cols)
        for (let y = top; y < top + 3; y++) for (let x = left; x < left + 3; x++) count[y * 10 + x]++;
    assert.ok(
      count.every((c) => c > 0),
      'every pixel lies under at least one window',
    );
    // edges 'none' is Zeiler & Fergus' grid (the assignments'): no flush window, the corner pixel is never covered.
    const zf = await occlusion(m, image, {
      target: 0,
      window: 3,
      stride: 3,
      fill: 0,
      output: 'logits',
      edges: 'none',
      upsample: true,
      details: true,
    });
    assert.deepStrictEqual(Array.from(zf.rows), [0, 3, 6]);
    assert.deepStrictEqual(Array.from(zf.cols), [0, 3, 6]);
    assert.strictEqual(zf.pixelDrop!.dataSync()[99], 0, 'no window reaches the corner');
    await assert.rejects(
      occlusion(m, image, { target: 0, edges: 'flsh' as 'flush' }),
      /occlusion: unknown edges 'flsh'; valid choices: flush, none/,
    );
    tf.dispose([r.map, r.drop, r.pixelDrop!, all.map, all.drop, all.pixelDrop!, zf.map, zf.drop, zf.pixelDrop!, image]);
  });

  it('handles strides, batches, logits and fills; checks options; no leaks', async () => {
    const model = smallCnn();
    const batch = tf.stack([randomImage(12, 12, 1, 1), randomImage(12, 12, 1, 2)]);
    const o: OcclusionOptions = { target: [0, 3], window: [4, 2], stride: [3, 5], fill: 'blur', output: 'logits' };
    const r = await occlusion(model, batch, { ...o, details: true });
    // Rows: 0, 3, 6 leave rows 10-11 uncovered, so a last window sits flush with the bottom edge (8).
    assert.deepStrictEqual(r.map.shape, [2, 4, 3]);
    assert.deepStrictEqual(Array.from(r.rows), [0, 3, 6, 8]);
    assert.deepStrictEqual(Array.from(r.cols), [0, 5, 10]);
    assert.deepStrictEqual(Array.from(r.target), [0, 3]);
    assert.strictEqual(r.output, 'logits', 'the result says what its map holds (show.occlusion titles by it)');
    // Without details, the map alone: the same scores as the detailed result's map.
    const bare = await occlusion(model, batch, o);
    assert.ok(bare instanceof tf.Tensor);
    assert.deepStrictEqual(bare.shape, [2, 4, 3]);
    assert.deepStrictEqual(Array.from(bare.dataSync()), Array.from(r.map.dataSync()));
    const mean = await occlusion(model, batch, { window: 12 });
    assert.deepStrictEqual(mean.shape, [2, 1, 1]);
    await rejects(
      () => occlusion(model, batch, { window: 13 }),
      /window \[13, 13\] is larger than the image \[12, 12\]/,
    );
    await rejects(() => occlusion(model, batch, { fill: 'gray' as never }), /unknown fill 'gray'/);
    await rejects(() => occlusion(model, batch, { stride: 0 }), /stride must be a positive integer/);
    await rejects(
      () => occlusion(model, batch, { window: 3, upsample: true }),
      /occlusion: upsample adds pixelDrop to the detailed result; pass details: true with it/,
    );
    await rejects(
      () => occlusion(model, batch, { details: 'yes' as never }),
      /occlusion: details must be true or false, got yes/,
    );
    await assertNoLeak(() => occlusion(model, batch, { window: 3, stride: 2, upsample: true, details: true }));
    await assertNoLeak(() => occlusion(model, batch, { window: 3, stride: 2 }));
    tf.dispose([r.map, r.drop, bare, mean, batch]);
  });
});

describe('techniques: first-layer filters', function () {
  before(useWasm);

  it('returns the conv kernels as [n, kh, kw, c] with the chosen normalisation', async () => {
    const model = smallCnn({ channels: 2 });
    const kernel = model.getLayer('conv1').getWeights()[0].arraySync() as number[][][][];
    const f = await firstLayerFilters(model);
    assert.deepStrictEqual(f.shape, [6, 3, 3, 2]);
    const fv = f.arraySync() as number[][][][];
    for (let i = 0; i < 6; i++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 3; x++) for (let c = 0; c < 2; c++) assert.strictEqual(fv[i][y][x][c], kernel[y][x][c][i]);
    const per = (await firstLayerFilters(model, { normalize: 'filter' })).arraySync() as number[][][][];
    for (const filter of per) {
      const v = filter.flat(2);
      assert.ok(Math.abs(Math.min(...v)) < 1e-6 && Math.abs(Math.max(...v) - 1) < 1e-6);
    }
    const shared = (await firstLayerFilters(model, { normalize: 'shared' })).dataSync();
    const raw = f.dataSync();
    const scale = Math.max(...Array.from(raw, Math.abs));
    assert.ok(
      maxAbsDiff(
        shared,
        raw.map((w) => 0.5 + w / (2 * scale)),
      ) < 1e-6,
    );
    const second = await firstLayerFilters(model, { layer: 'conv2' });
    assert.deepStrictEqual(second.shape, [8, 3, 3, 6]);
    await rejects(
      () => firstLayerFilters(model, { layer: 'pool1' }),
      /'pool1' \(MaxPooling2D\) has no convolution kernel; conv layers: conv1, conv2/,
    );
    await rejects(() => firstLayerFilters(model, { layer: 'nope' }), /unknown layer 'nope'/);
    await assertNoLeak(() => firstLayerFilters(model, { normalize: 'filter' }));
    tf.dispose([f, second]);
  });
});

describe('techniques: feature vectors', function () {
  before(useWasm);

  it('are the flattened layer output, whatever the batch size; default layer', async () => {
    const model = smallCnn();
    const images = tf.tensor4d(uniform(5 * 144, 3), [5, 12, 12, 1]);
    const direct = (
      tf
        .model({ inputs: model.inputs, outputs: model.getLayer('features').output as tf.SymbolicTensor })
        .predict(images) as tf.Tensor
    ).dataSync();
    const progress: number[] = [];
    const v = await featureVectors(model, images, { batchSize: 2, onProgress: (p) => void progress.push(p.done) });
    assert.deepStrictEqual(v.shape, [5, 16]);
    assert.ok(maxAbsDiff(v.dataSync(), direct) < 1e-6);
    assert.deepStrictEqual(progress, [2, 4, 5]);
    const pool = await featureVectors(model, images, { layer: 'pool1' });
    assert.deepStrictEqual(pool.shape, [5, 6 * 6 * 6]);
    const px = pixelVectors(images);
    assert.deepStrictEqual(px.shape, [5, 144]);
    // Without a 'features' layer: what feeds the last Dense layer.
    const plain = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [12, 12, 1], name: 'flat' }),
        tf.layers.dense({ units: 7, name: 'hid' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    const h = await featureVectors(plain, images);
    assert.deepStrictEqual(h.shape, [5, 7]);
    await rejects(
      () => featureVectors(model, images, { layer: 'fc9' }),
      /unknown layer 'fc9'; layers of this model: conv1/,
    );
    await assertNoLeak(() => featureVectors(model, images, { batchSize: 3 }));
    tf.dispose([images, v, pool, px, h]);
  });
});

describe('techniques: top activating patches', function () {
  before(useWasm);

  it('finds the k largest activations (one per image by default), as a brute-force search does', async () => {
    const model = smallCnn({ seed: 7 });
    const images = tf.tensor4d(uniform(40 * 144, 9), [40, 12, 12, 1]);
    const acts = tf
      .model({ inputs: model.inputs, outputs: model.getLayer('conv2').output as tf.SymbolicTensor })
      .predict(images) as tf.Tensor4D;
    const a = acts.arraySync();
    const perImage = a.map((img, index) => {
      let best = { activation: -Infinity, index, y: 0, x: 0 };
      img.forEach((row, y) =>
        row.forEach((v, x) => v[5] > best.activation && (best = { activation: v[5], index, y, x })),
      );
      return best;
    });
    perImage.sort((p, q) => q.activation - p.activation || p.index - q.index);
    const top = await topActivatingPatches(model, images, { layer: 'conv2', channel: 5, k: 6, batchSize: 16 });
    assert.deepStrictEqual(
      top.map((t) => [t.index, t.y, t.x]),
      perImage.slice(0, 6).map((t) => [t.index, t.y, t.x]),
    );
    assert.ok(
      maxAbsDiff(
        top.map((t) => t.activation),
        perImage.slice(0, 6).map((t) => t.activation),
      ) < 1e-6,
    );
    const many = await topActivatingPatches(model, images, { layer: 'conv2', channel: 5, k: 12, perImage: 3 });
    const counts = new Map<number, number>();
    many.forEach((t) => counts.set(t.index, (counts.get(t.index) ?? 0) + 1));
    assert.ok([...counts.values()].every((c) => c <= 3));
    assert.ok(many.every((t, i) => i === 0 || many[i - 1].activation >= t.activation));
    const dense = await topActivatingPatches(model, images, { layer: 'features', channel: 0, k: 2 });
    assert.deepStrictEqual(dense[0].box, {
      top: 0,
      left: 0,
      bottom: 12,
      right: 12,
      padding: { top: 0, left: 0, bottom: 0, right: 0 },
    });
    await rejects(
      () => topActivatingPatches(model, images, { layer: 'conv2', channel: 8 }),
      /channel 8 out of range; layer 'conv2' has 8 channels \(0\.\.7\)/,
    );
    await rejects(() => topActivatingPatches(model, images, { layer: 'conv7', channel: 0 }), /unknown layer 'conv7'/);
    await assertNoLeak(() => topActivatingPatches(model, images, { layer: 'conv1', channel: 0, batchSize: 16 }));
    tf.dispose([images, acts]);
  });

  /** Pixels where the gradient of unit (y, x, channel) of `layer` is non-zero, computed directly with tf.grad. */
  function gradientSupport(
    model: tf.LayersModel,
    layer: string,
    image: tf.Tensor3D,
    y: number,
    x: number,
    channel: number,
  ): Set<string> {
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
    const g = tf.grad((input: tf.Tensor) => {
      const out = sub.apply(input) as tf.Tensor4D;
      return tf.slice(out, [0, y, x, channel], [1, 1, 1, 1]).sum();
    })(image.expandDims(0));
    const [h, w] = image.shape;
    const v = g.dataSync();
    const support = new Set<string>();
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) if (v[r * w + c] !== 0) support.add(`${r},${c}`);
    g.dispose();
    return support;
  }

  it('gives boxes holding exactly the pixels that move the activation (linear net), none outside (ReLU)', async () => {
    const linear = tf.sequential();
    const positive = (seed: number) => tf.initializers.randomUniform({ minval: 0.1, maxval: 1, seed });
    linear.add(
      tf.layers.conv2d({
        name: 'c1',
        inputShape: [16, 16, 1],
        filters: 2,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: positive(1),
      }),
    );
    linear.add(tf.layers.averagePooling2d({ name: 'p1', poolSize: 2 }));
    linear.add(
      tf.layers.conv2d({ name: 'c2', filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: positive(2) }),
    );
    linear.add(tf.layers.flatten());
    linear.add(tf.layers.dense({ units: 2 }));
    const images = tf.tensor4d(uniform(20 * 256, 5, 0.1, 1), [20, 16, 16, 1]);
    const top = await topActivatingPatches(linear, images, { layer: 'c2', channel: 1, k: 20 });
    const seen = new Set(top.map((t) => `${t.y},${t.x}`));
    assert.ok(seen.size > 1);
    for (const t of top) {
      const img = images.slice([t.index, 0, 0, 0], [1, 16, 16, 1]).reshape([16, 16, 1]) as tf.Tensor3D;
      const support = gradientSupport(linear, 'c2', img, t.y, t.x, 1);
      const inBox = new Set<string>();
      for (let r = t.box.top; r < t.box.bottom; r++)
        for (let c = t.box.left; c < t.box.right; c++) inBox.add(`${r},${c}`);
      assert.deepStrictEqual([...support].sort(), [...inBox].sort(), `unit (${t.y}, ${t.x})`);
      img.dispose();
    }
    // Units at the border report the part of the field that fell outside the image.
    const corner = top.find((t) => t.y === 0 || t.x === 0);
    if (corner) assert.ok(corner.box.padding.top + corner.box.padding.left > 0);
    const relu = smallCnn({ size: 16, seed: 2 });
    for (const t of await topActivatingPatches(relu, images, { layer: 'conv2', channel: 3, k: 5 })) {
      const img = images.slice([t.index, 0, 0, 0], [1, 16, 16, 1]).reshape([16, 16, 1]) as tf.Tensor3D;
      for (const key of gradientSupport(relu, 'conv2', img, t.y, t.x, 3)) {
        const [r, c] = key.split(',').map(Number);
        assert.ok(
          r >= t.box.top && r < t.box.bottom && c >= t.box.left && c < t.box.right,
          `pixel ${key} outside the box`,
        );
      }
      img.dispose();
    }
    images.dispose();
  });
});
