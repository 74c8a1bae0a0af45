import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { kernelShap, segments, slicSegments, gridSegments } from '../src/techniques';
import {
  assertNoLeak,
  linearModel,
  maxAbsDiff,
  randomImage,
  rejects,
  smallCnn,
  sum,
  useWasm,
} from './util/techniques_fixtures';

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Shapley values by the definition: every coalition, every order weight. */
function bruteForceShapley(
  model: tf.LayersModel,
  image: tf.Tensor3D,
  labels: Int32Array,
  M: number,
  target: number,
): number[] {
  const [h, w, c] = image.shape;
  const x = image.dataSync();
  const value = new Map<number, number>();
  const all: Float32Array[] = [];
  for (let s = 0; s < 1 << M; s++) {
    const img = new Float32Array(h * w * c);
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < c; k++) img[p * c + k] = (s >> labels[p]) & 1 ? x[p * c + k] : 0;
    all.push(img);
  }
  const probs = (
    model.predict(tf.tensor4d(Float32Array.from(all.flatMap((a) => Array.from(a))), [1 << M, h, w, c])) as tf.Tensor
  ).arraySync() as number[][];
  probs.forEach((p, s) => value.set(s, p[target]));
  const phi = new Array<number>(M).fill(0);
  for (let i = 0; i < M; i++) {
    for (let s = 0; s < 1 << M; s++) {
      if ((s >> i) & 1) continue;
      let size = 0;
      for (let j = 0; j < M; j++) size += (s >> j) & 1;
      const weight = (factorial(size) * factorial(M - size - 1)) / factorial(M);
      phi[i] += weight * (value.get(s | (1 << i))! - value.get(s)!);
    }
  }
  return phi;
}

describe('techniques: Kernel SHAP', function () {
  before(useWasm);

  it('gives exact Shapley values when every coalition fits the budget', async () => {
    const model = smallCnn({ seed: 8 });
    const image = randomImage(12, 12, 1, 5);
    const r = await kernelShap(model, image, { target: 2, segments: 'grid', nSegments: 6, details: true });
    const one = r.perImage[0];
    assert.strictEqual(one.segmentation.count, 6);
    assert.ok(one.exact);
    const expected = bruteForceShapley(model, image, one.segmentation.labels, 6, 2);
    assert.ok(maxAbsDiff(one.values, expected) < 1e-5, `${Array.from(one.values)} vs ${expected}`);
    // The map paints each pixel with its segment's value.
    const map = r.attributions.dataSync();
    one.segmentation.labels.forEach((l, p) => assert.strictEqual(map[p], one.values[l]));
    tf.dispose([r.attributions, image]);
  });

  it('adds up to f(image) - f(baseline) and recovers a linear model under sampling', async () => {
    const model = smallCnn({ seed: 9 });
    const image = randomImage(12, 12, 1, 6);
    const r = await kernelShap(model, image, {
      target: 1,
      nSegments: 36,
      samples: 300,
      baseline: 0.2,
      seed: 4,
      details: true,
    });
    const one = r.perImage[0];
    assert.strictEqual(one.exact, false);
    const fx = (model.predict(image.expandDims(0)) as tf.Tensor).dataSync()[1];
    const fb = (model.predict(tf.fill([1, 12, 12, 1], 0.2)) as tf.Tensor).dataSync()[1];
    assert.ok(Math.abs(one.scoreInput - fx) < 1e-6 && Math.abs(one.scoreBaseline - fb) < 1e-6);
    assert.ok(Math.abs(sum(one.values) - (fx - fb)) < 1e-5 * Math.max(1, Math.abs(fx - fb)));
    // A linear score: segment value = sum over its pixels of w * (x - baseline), whatever was sampled.
    const { model: lin, kernel } = linearModel(12, 12, 1, 2, 3, false);
    const l = await kernelShap(lin, image, {
      target: 0,
      nSegments: 36,
      samples: 200,
      output: 'logits',
      baseline: 0.2,
      seed: 1,
      details: true,
    });
    const seg = l.perImage[0].segmentation;
    const x = image.dataSync();
    const expected = new Array<number>(seg.count).fill(0);
    seg.labels.forEach((s, p) => (expected[s] += kernel[p * 2] * (x[p] - 0.2)));
    assert.ok(maxAbsDiff(l.perImage[0].values, expected) < 1e-3);
    const again = await kernelShap(model, image, {
      target: 1,
      nSegments: 36,
      samples: 300,
      baseline: 0.2,
      seed: 4,
      details: true,
    });
    assert.deepStrictEqual(Array.from(again.perImage[0].values), Array.from(one.values));
    tf.dispose([r.attributions, l.attributions, again.attributions, image]);
  });

  it('SLIC segments are connected, near the asked count, and follow edges', () => {
    const h = 24;
    const w = 24;
    const pixels = new Float32Array(h * w * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) pixels.set(x < 10 ? [0.9, 0.1, 0.1] : [0.1, 0.2, 0.8], (y * w + x) * 3);
    const seg = slicSegments(pixels, h, w, 3, 16);
    assert.ok(seg.count >= 8 && seg.count <= 32, `${seg.count} segments`);
    for (let s = 0; s < seg.count; s++) {
      const members: number[] = [];
      seg.labels.forEach((l, p) => l === s && members.push(p));
      assert.ok(members.length > 0);
      const sides = new Set(members.map((p) => (p % w < 10 ? 'red' : 'blue')));
      assert.strictEqual(sides.size, 1, `segment ${s} crosses the edge`);
      // Connected: a flood fill from one member reaches all of them.
      const inSeg = new Set(members);
      const seen = new Set([members[0]]);
      const stack = [members[0]];
      while (stack.length) {
        const p = stack.pop()!;
        for (const q of [p - w, p + w, p % w ? p - 1 : -1, (p + 1) % w ? p + 1 : -1])
          if (inSeg.has(q) && !seen.has(q)) {
            seen.add(q);
            stack.push(q);
          }
      }
      assert.strictEqual(seen.size, members.length, `segment ${s} is not connected`);
    }
    const grid = gridSegments(12, 12, 16);
    assert.strictEqual(grid.count, 16);
    assert.strictEqual(grid.labels[0], 0);
    assert.strictEqual(grid.labels[143], 15);
  });

  it('works with SLIC and custom labels, checks options, leaks nothing', async () => {
    const model = smallCnn();
    const image = randomImage(12, 12, 1, 2);
    const s = segments(image, { method: 'slic', nSegments: 9 });
    assert.ok(s.count >= 2);
    const labels = Int32Array.from({ length: 144 }, (_, p) => (p % 12 < 6 ? 7 : 3));
    const r = await kernelShap(model, image, { segments: labels, details: true });
    assert.strictEqual(r.perImage[0].segmentation.count, 2);
    assert.ok(r.perImage[0].exact);
    await rejects(
      () => kernelShap(model, image, { segments: new Int32Array(10) }),
      /10 labels; expected one per pixel \(12 x 12 = 144\)/,
    );
    await rejects(
      () => kernelShap(model, image, { segments: 'watershed' as never }),
      /unknown segments 'watershed'; valid choices: grid, slic/,
    );
    await rejects(() => kernelShap(model, image, { segments: new Int32Array(144) }), /at least 2/);
    const batch = tf.stack([image, image]);
    const b = await kernelShap(model, batch, { segments: 'slic', nSegments: 6, samples: 40 });
    assert.deepStrictEqual(b.shape, [2, 12, 12]);
    await assertNoLeak(() => kernelShap(model, image, { nSegments: 9, samples: 50, batchSize: 16 }));
    tf.dispose([image, batch, b, r.attributions]);
  });
});
