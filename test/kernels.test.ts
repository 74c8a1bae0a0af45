import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { lectureCnn } from '../src/models/architectures';
import { setSimdEnabled, simdFor } from '../src/runtime/kernels/simd';
import { flippedFilterCount } from '../src/runtime/kernels/conv2d_backprop_input';

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  };
}

function data(n: number, seed: number, quantize = 0): Float32Array {
  const r = rng(seed);
  // Quantized values make ties, which decide where a max-pool gradient goes.
  return Float32Array.from({ length: n }, () => (quantize ? Math.round(r() * quantize) / quantize : r()));
}

/** Run `f` on a backend, returning plain arrays (and disposing every tensor it made). */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const vals = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return vals;
}

/** Max abs difference relative to the largest magnitude of the cpu result, per output. */
async function relErrors(f: () => tf.Tensor | tf.Tensor[]): Promise<number[]> {
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  return want.map((w, i) => {
    assert.strictEqual(got[i].length, w.length, `output ${i}: length ${got[i].length} != ${w.length}`);
    let scale = 0;
    let err = 0;
    for (let j = 0; j < w.length; j++) {
      const [g, r] = [got[i][j], w[j]];
      // Equal values (infinities, and NaN where the reference has NaN) match exactly.
      if (g === r || (Number.isNaN(g) && Number.isNaN(r))) continue;
      if (!Number.isFinite(g) || !Number.isFinite(r)) return Infinity;
      scale = Math.max(scale, Math.abs(r));
      err = Math.max(err, Math.abs(g - r));
    }
    for (const r of w) if (Number.isFinite(r)) scale = Math.max(scale, Math.abs(r));
    return scale === 0 ? err : err / scale;
  });
}

async function expectClose(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const errs = await relErrors(f);
  errs.forEach((e, i) => assert.ok(e <= tol, `${label}: output ${i} relative error ${e.toExponential(2)} > ${tol}`));
}

type Pad = 'same' | 'valid';

/** [k, k, c, m] -> [(k-1)d+1, (k-1)d+1, c, m] with zeros between the taps. */
function dilateFilter(w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [kh, kw, c, m] = w.shape;
  const v = w.arraySync();
  const out = tf.buffer([(kh - 1) * d + 1, (kw - 1) * d + 1, c, m]);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let a = 0; a < c; a++) for (let q = 0; q < m; q++) out.set(v[i][j][a][q], i * d, j * d, a, q);
  return out.toTensor() as tf.Tensor4D;
}
interface ConvCase {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: [number, number];
  s: number;
  pad: Pad;
}

const convCases: ConvCase[] = [
  { b: 1, h: 7, w: 9, ci: 3, co: 5, k: [3, 3], s: 1, pad: 'same' },
  { b: 3, h: 8, w: 8, ci: 4, co: 6, k: [3, 3], s: 2, pad: 'same' },
  { b: 2, h: 9, w: 11, ci: 5, co: 7, k: [3, 3], s: 2, pad: 'valid' },
  { b: 2, h: 10, w: 10, ci: 2, co: 3, k: [3, 3], s: 2, pad: 'valid' },
  { b: 1, h: 11, w: 6, ci: 3, co: 8, k: [4, 2], s: 3, pad: 'same' },
  { b: 2, h: 13, w: 13, ci: 1, co: 9, k: [5, 5], s: 1, pad: 'same' },
  { b: 3, h: 6, w: 7, ci: 9, co: 4, k: [1, 1], s: 1, pad: 'valid' },
  { b: 2, h: 7, w: 7, ci: 6, co: 5, k: [1, 1], s: 2, pad: 'same' },
  { b: 1, h: 5, w: 5, ci: 16, co: 12, k: [5, 5], s: 1, pad: 'valid' },
  { b: 4, h: 12, w: 10, ci: 8, co: 16, k: [3, 3], s: 1, pad: 'valid' },
  // Stride 1, input channels a multiple of 4, output of 8: the SIMD filter gradient (blocks of rows
  // that split images, a 1x1 kernel, uneven kernels and the uneven padding of an even kernel).
  { b: 1, h: 9, w: 7, ci: 4, co: 8, k: [3, 3], s: 1, pad: 'same' },
  { b: 3, h: 5, w: 6, ci: 12, co: 24, k: [1, 1], s: 1, pad: 'same' },
  { b: 2, h: 8, w: 11, ci: 4, co: 16, k: [5, 3], s: 1, pad: 'same' },
  { b: 2, h: 7, w: 7, ci: 8, co: 8, k: [2, 2], s: 1, pad: 'same' },
  { b: 5, h: 40, w: 3, ci: 4, co: 8, k: [3, 3], s: 1, pad: 'same' },
  { b: 2, h: 33, w: 32, ci: 4, co: 8, k: [1, 1], s: 1, pad: 'valid' },
  // ... strided, and on 3 or 6 input channels padded up to 4 or 8.
  { b: 2, h: 9, w: 10, ci: 3, co: 8, k: [3, 3], s: 2, pad: 'same' },
  { b: 3, h: 11, w: 9, ci: 6, co: 16, k: [3, 3], s: 2, pad: 'valid' },
  { b: 1, h: 10, w: 7, ci: 4, co: 8, k: [4, 2], s: 3, pad: 'same' },
  { b: 2, h: 6, w: 5, ci: 3, co: 8, k: [3, 3], s: 1, pad: 'same' },
  // ... one input channel: four neighbouring taps as the lanes (5 taps padded to 8, 3 to 4, 4 as is).
  { b: 2, h: 13, w: 11, ci: 1, co: 8, k: [5, 5], s: 1, pad: 'same' },
  { b: 3, h: 9, w: 9, ci: 1, co: 16, k: [3, 3], s: 2, pad: 'valid' },
  { b: 1, h: 8, w: 12, ci: 1, co: 8, k: [2, 4], s: 1, pad: 'valid' },
];

/** Every kernel test, with our SIMD loops on, or off (their JavaScript fallbacks). */
function kernelSuite(simd: boolean): void {
  describe(`wasm gradient kernels match the cpu backend (${simd ? 'SIMD loops' : 'JS fallbacks'})`, function () {
    before(async () => {
      await setup({ backend: 'wasm', quiet: true });
      setSimdEnabled(simd);
    });
    after(async () => {
      setSimdEnabled(true);
      await tf.setBackend('wasm');
    });

    if (simd)
      it('builds its SIMD module on this engine', () =>
        assert.ok(simdFor(tf.backend()), 'no SIMD loops: the suite below tests only fallbacks'));

    for (const [i, c] of convCases.entries()) {
      const tag = `${c.b}x${c.h}x${c.w}x${c.ci} -> ${c.co}, k${c.k.join('x')} s${c.s} ${c.pad}`;
      it(`Conv2DBackpropInput and Conv2DBackpropFilter: ${tag}`, async () => {
        const xv = data(c.b * c.h * c.w * c.ci, 10 + i);
        const wv = data(c.k[0] * c.k[1] * c.ci * c.co, 20 + i);
        const x4 = (): tf.Tensor4D => tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]);
        const w4 = (): tf.Tensor4D => tf.tensor4d(wv, [c.k[0], c.k[1], c.ci, c.co]);
        await expectClose(tag, () => {
          const x = x4();
          const w = w4();
          const y = tf.conv2d(x, w, c.s, c.pad);
          const dy = tf.tensor4d(data(y.size, 30 + i), y.shape);
          return [
            tf.conv2dTranspose(dy, w, x.shape, c.s, c.pad),
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x, dy },
                { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: w.shape },
              ) as tf.Tensor,
          ];
        });
      });
    }

    it('Conv2D gradients with explicit padding', async () => {
      const pad: tf.backend_util.ExplicitPadding = [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ];
      const xv = data(2 * 6 * 7 * 3, 41);
      const wv = data(3 * 3 * 3 * 4, 42);
      await expectClose('explicit', () =>
        tf.grads((x: tf.Tensor, w: tf.Tensor) =>
          tf
            .conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, pad)
            .square()
            .sum(),
        )([tf.tensor4d(xv, [2, 6, 7, 3]), tf.tensor4d(wv, [3, 3, 3, 4])]),
      );
    });

    it('Conv2D gradients with different row and column strides (SIMD filter gradient and the conv route)', async () => {
      for (const [k, [ci, co, strides]] of (
        [
          [4, 8, [2, 1]],
          [3, 16, [1, 3]],
          [5, 6, [2, 3]],
        ] as Array<[number, number, [number, number]]>
      ).entries()) {
        const xv = data(2 * 9 * 10 * ci, 43 + k);
        const wv = data(3 * 3 * ci * co, 46 + k);
        await expectClose(`strides ${strides} on ${ci} -> ${co}`, () =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            tf
              .conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, 'same')
              .square()
              .sum(),
          )([tf.tensor4d(xv, [2, 9, 10, ci]), tf.tensor4d(wv, [3, 3, ci, co])]),
        );
      }
    });

    const dwCases: Array<{
      b: number;
      h: number;
      w: number;
      c: number;
      m: number;
      k: number;
      s: number;
      pad: Pad;
      d?: number;
    }> = [
      { b: 1, h: 7, w: 9, c: 3, m: 1, k: 3, s: 1, pad: 'same' },
      { b: 3, h: 8, w: 8, c: 4, m: 1, k: 3, s: 2, pad: 'same' },
      { b: 2, h: 9, w: 11, c: 5, m: 2, k: 3, s: 2, pad: 'valid' },
      { b: 2, h: 10, w: 7, c: 2, m: 3, k: 5, s: 1, pad: 'same' },
      { b: 1, h: 11, w: 11, c: 6, m: 1, k: 3, s: 1, pad: 'same', d: 2 },
      { b: 2, h: 6, w: 6, c: 8, m: 1, k: 1, s: 2, pad: 'valid' },
    ];
    for (const [i, c] of dwCases.entries()) {
      const tag = `${c.b}x${c.h}x${c.w}x${c.c} m${c.m} k${c.k} s${c.s} ${c.pad}${c.d ? ` dilation ${c.d}` : ''}`;
      it(`DepthwiseConv2dNativeBackpropInput and ...Filter: ${tag}`, async () => {
        const xv = data(c.b * c.h * c.w * c.c, 110 + i);
        const wv = data(c.k * c.k * c.c * c.m, 120 + i);
        await expectClose(tag, () => {
          const x = tf.tensor4d(xv, [c.b, c.h, c.w, c.c]);
          const w = tf.tensor4d(wv, [c.k, c.k, c.c, c.m]);
          const y = tf.depthwiseConv2d(x, w, c.s, c.pad, 'NHWC', c.d ?? 1);
          const dy = tf.tensor4d(data(y.size, 130 + i), y.shape);
          const attrs = { strides: c.s, pad: c.pad, dilations: c.d ?? 1 };
          // The cpu kernels ignore dilation; the reference is the undilated kernel with zeros
          // between the filter taps (and, for dW, only the taps the dilated filter has).
          const dxRef = c.d && tf.getBackend() === 'cpu';
          const wIn = dxRef ? dilateFilter(w, c.d!) : w;
          return [
            tf
              .engine()
              .runKernel(
                'DepthwiseConv2dNativeBackpropInput',
                { dy, filter: wIn },
                { ...attrs, dilations: dxRef ? 1 : attrs.dilations, inputShape: x.shape },
              ) as tf.Tensor,
            dxRef
              ? (
                  tf
                    .engine()
                    .runKernel(
                      'DepthwiseConv2dNativeBackpropFilter',
                      { x, dy },
                      { ...attrs, dilations: 1, filterShape: wIn.shape },
                    ) as tf.Tensor
                ).stridedSlice([0, 0, 0, 0], wIn.shape, [c.d!, c.d!, 1, 1])
              : (tf
                  .engine()
                  .runKernel(
                    'DepthwiseConv2dNativeBackpropFilter',
                    { x, dy },
                    { ...attrs, filterShape: w.shape },
                  ) as tf.Tensor),
          ];
        });
      });
    }

    it('Tile, leading repeats (fast path) and others', async () => {
      const v = data(2 * 3 * 4, 150);
      await expectClose(
        'tile',
        () => {
          const c = tf.tensor4d(v.slice(0, 4), [1, 1, 1, 4]);
          const x = tf.tensor3d(v, [2, 3, 4]);
          return [
            tf.tile(c, [5, 3, 7, 1]),
            tf.tile(c, [1, 1, 1, 3]),
            tf.tile(x, [2, 1, 3]),
            tf.tile(x.slice([0], [1]), [3, 1, 1]),
            tf.tile(tf.tensor1d([1, 2, 3], 'int32'), [4]).cast('float32'),
          ];
        },
        0,
      );
    });

    it('comparisons, logical and/or, select (NaN and infinities included) and the ReLU6 gradient', async () => {
      const v = data(70 * 70, 160);
      v[3] = NaN;
      v[5] = Infinity;
      v[7] = -Infinity;
      v[11] = 0.5;
      const w = data(70 * 70, 161);
      w[11] = 0.5;
      await expectClose(
        'compare',
        () => {
          const a = tf.tensor2d(v, [70, 70]);
          const b = tf.tensor2d(w, [70, 70]);
          const s = tf.scalar(0.25);
          const bools = [
            tf.greater(a, b),
            tf.greaterEqual(a, s),
            tf.less(s, a),
            tf.lessEqual(a, b),
            tf.equal(a, b),
            tf.notEqual(a, s),
          ];
          const out = bools.map((t) => t.cast('float32'));
          out.push(tf.logicalAnd(bools[0], bools[1]).cast('float32'), tf.logicalOr(bools[2], bools[4]).cast('float32'));
          // NaN and infinities as finite codes, so that the comparison of results can see them.
          const sel = tf.where(bools[3], a, b);
          const code = tf.where(
            tf.isNaN(sel),
            tf.fill([70, 70], 1234),
            tf.where(tf.isInf(sel), tf.sign(sel).mul(4321), sel),
          );
          out.push(code, tf.isNaN(sel).cast('float32'));
          out.push(
            tf.grad((x: tf.Tensor) => tf.relu6(x).mul(b).sum())(a.mul(10)),
            tf.grad((x: tf.Tensor) => tf.clipByValue(x, -0.5, 0.5).mul(b).sum())(a),
          );
          return out;
        },
        0,
      );
    });

    it('UnsortedSegmentSum (float and int, ids out of range dropped) and the gradient of gather', async () => {
      const xv = data(6 * 4 * 3, 140);
      const ids = [2, 0, 2, 5, -1, 1];
      await expectClose(
        'segments',
        () => [
          tf.unsortedSegmentSum(tf.tensor3d(xv, [6, 4, 3]), tf.tensor1d(ids, 'int32'), 4),
          tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32'), tf.tensor1d(ids, 'int32'), 3).cast('float32'),
          tf.grad((t: tf.Tensor) =>
            t
              .gather(tf.tensor1d([3, 1, 3, 0], 'int32'), 1)
              .square()
              .sum(),
          )(tf.tensor2d(xv.slice(0, 20), [4, 5])),
        ],
        1e-6,
      );
    });

    const poolCases: Array<{ b: number; h: number; w: number; c: number; f: number; s: number; pad: Pad; q: number }> =
      [
        { b: 2, h: 8, w: 8, c: 3, f: 2, s: 2, pad: 'valid', q: 0 },
        { b: 1, h: 9, w: 7, c: 5, f: 3, s: 2, pad: 'same', q: 0 },
        { b: 3, h: 7, w: 7, c: 4, f: 3, s: 1, pad: 'same', q: 3 },
        { b: 2, h: 11, w: 10, c: 2, f: 2, s: 2, pad: 'same', q: 2 },
        { b: 1, h: 6, w: 6, c: 8, f: 3, s: 3, pad: 'valid', q: 1 },
      ];
    for (const [i, p] of poolCases.entries()) {
      const tag = `${p.b}x${p.h}x${p.w}x${p.c} f${p.f} s${p.s} ${p.pad}${p.q ? ' with ties' : ''}`;
      it(`MaxPoolGrad: ${tag}`, async () => {
        const xv = data(p.b * p.h * p.w * p.c, 50 + i, p.q);
        await expectClose(
          tag,
          () => {
            const x = tf.tensor4d(xv, [p.b, p.h, p.w, p.c]);
            return tf.grad((a: tf.Tensor) => {
              const y = tf.maxPool(a as tf.Tensor4D, p.f, p.s, p.pad);
              return y.mul(tf.tensor(data(y.size, 60 + i), y.shape)).sum();
            })(x);
            // Summation order may differ where windows overlap; a misrouted gradient would be O(1).
          },
          1e-6,
        );
      });
    }

    it('BatchMatMul with every transpose combination and broadcast batches', async () => {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const [m, k, n] = [7, 13, 5];
        const av = data(3 * m * k, 70);
        const bv = data(k * n, 71);
        await expectClose(`tA=${ta} tB=${tb}`, () => {
          const a = tf.tensor3d(av, ta ? [3, k, m] : [3, m, k]);
          const b = tf.tensor3d(bv, tb ? [1, n, k] : [1, k, n]);
          const b4 = b.reshape([1, 1, ...b.shape.slice(1)]);
          const wide = tf.tensor2d(data(k * 300, 72), tb ? [300, k] : [k, 300]);
          return [
            tf.matMul(a, b, ta, tb),
            tf.matMul(a.slice([1], [1]).squeeze([0]), b.squeeze([0]), ta, tb),
            tf.matMul(a, b4 as tf.Tensor3D, ta, tb),
            tf.matMul(a.slice([1], [1]).squeeze([0]), wide, ta, tb),
            tf.matMul(a, tf.tile(b, [3, 1, 1]), ta, tb),
          ];
        });
      }
    });

    it('Sum and Mean over leading, trailing and mixed axes', async () => {
      const v = data(5 * 6 * 7 * 3, 80);
      for (const [axis, keep] of [
        [[0, 1, 2], false],
        [[0], true],
        [[0, 1], false],
        [[3], false],
        [[1, 3], true],
        [[0, 1, 2, 3], false],
      ] as const) {
        await expectClose(`sum/mean ${axis} keepDims=${keep}`, () => [
          tf.sum(tf.tensor4d(v, [5, 6, 7, 3]), axis as unknown as number[], keep),
          tf.mean(tf.tensor4d(v, [5, 6, 7, 3]), axis as unknown as number[], keep),
        ]);
      }
      const big = data(64 * 28 * 28 * 4, 81);
      await expectClose('bias-sized sum', () => tf.sum(tf.tensor4d(big, [64, 28, 28, 4]), [0, 1, 2]));
    });

    // The whole model is slow on cpu and its kernels are covered above in both modes.
    if (simd)
      it('tf.grad of the lecture CNN (input and every weight) is the same on wasm and cpu', async () => {
        const xv = data(4 * 28 * 28, 90).map((v) => (v + 1) / 2);
        const weights = await (async () => {
          await tf.setBackend('cpu');
          const m = lectureCnn({ seed: 3 });
          const w = m.getWeights().map((t) => ({ shape: t.shape, values: t.dataSync().slice() }));
          m.dispose();
          return w;
        })();
        const f = (): tf.Tensor[] => {
          const model = lectureCnn({ seed: 3 });
          model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
          const x = tf.tensor4d(xv, [4, 28, 28, 1]);
          const labels = tf.oneHot(tf.tensor1d([1, 7, 3, 0], 'int32'), 10);
          const loss = (): tf.Scalar =>
            tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const { grads } = tf.variableGrads(loss, vars);
          const dx = tf.grad((inp: tf.Tensor) =>
            (model.apply(inp) as tf.Tensor).gather(tf.tensor1d([0, 1, 2, 3], 'int32'), 1).sum(),
          )(x);
          const out = [dx, ...vars.map((v) => grads[v.name])];
          model.dispose();
          return out;
        };
        await expectClose('lectureCnn', f);
      });

    it('FusedBatchNorm: channel statistics with/without offset and scale; [1,1,C], full-shape statistics', async () => {
      const shape: [number, number, number, number] = [3, 5, 7, 6];
      const x = (): tf.Tensor4D => tf.tensor4d(data(3 * 5 * 7 * 6, 71), shape);
      const vec = (seed: number, lo = 0): tf.Tensor1D =>
        tf.tensor1d(Array.from(data(6, seed), (v) => lo + Math.abs(v)));
      await expectClose(
        'batchNorm',
        () => [
          tf.batchNorm(x(), vec(72, -0.5), vec(73, 0.1), vec(74), vec(75), 1e-3),
          tf.batchNorm(x(), vec(72, -0.5), vec(73, 0.1), undefined, undefined, 1e-3),
          tf.batchNorm(x(), vec(72, -0.5), vec(73, 0.1), undefined, vec(75), 0.5),
          tf.batchNorm(
            x(),
            vec(72).reshape([1, 1, 6]) as tf.Tensor3D,
            vec(73, 0.1).reshape([1, 1, 6]) as tf.Tensor3D,
            vec(74).reshape([1, 1, 6]) as tf.Tensor3D,
            vec(75).reshape([1, 1, 6]) as tf.Tensor3D,
            1e-3,
          ),
          tf.batchNorm(
            x(),
            tf.tensor4d(data(3 * 5 * 7 * 6, 76), shape),
            tf.tensor4d(
              Array.from(data(3 * 5 * 7 * 6, 77), (v) => 0.1 + Math.abs(v)),
              shape,
            ),
            tf.tensor4d(data(3 * 5 * 7 * 6, 78), shape),
            tf.tensor4d(data(3 * 5 * 7 * 6, 79), shape),
            1e-3,
          ),
        ],
        1e-5,
      );
    });

    it('Conv2DBackpropInput reuses the flipped filter of a live filter, frees it once the filter is gone', async () => {
      await tf.setBackend('wasm');
      const shape: [number, number, number, number] = [2, 9, 9, 16];
      const dy = tf.tensor4d(data(2 * 9 * 9 * 12, 51), [2, 9, 9, 12]);
      const dx = (w: tf.Tensor4D): Float32Array => {
        const t = tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter: w },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: shape },
          ) as tf.Tensor;
        const v = t.dataSync() as Float32Array;
        t.dispose();
        return v;
      };
      const w1 = tf.tensor4d(data(3 * 3 * 16 * 12, 52), [3, 3, 16, 12]);
      const first = dx(w1);
      // Entries of filters other tests still hold may be there too; w1 adds one.
      const withW1 = flippedFilterCount();
      assert.deepStrictEqual(dx(w1), first, 'a second call with the same filter gives another result');
      assert.strictEqual(flippedFilterCount(), withW1, 'the same filter was flipped twice');
      // The cached flip is of w1 and no other: a filter with other values gives its own gradient.
      const w2 = tf.neg(w1) as tf.Tensor4D;
      const second = dx(w2);
      assert.strictEqual(flippedFilterCount(), withW1 + 1);
      assert.ok(
        second.every((v, i) => Math.abs(v + first[i]) <= 1e-5 * (1 + Math.abs(v))),
        "w2 = -w1 did not give -dX: w1's flipped filter was reused",
      );
      w1.dispose();
      w2.dispose();
      // Training replaces the weights every step: the flips of disposed filters are freed (the
      // last one on the next call).
      for (let i = 0; i < 6; i++) {
        const w = tf.tensor4d(data(3 * 3 * 16 * 12, 60 + i), [3, 3, 16, 12]);
        dx(w);
        w.dispose();
      }
      assert.ok(
        flippedFilterCount() <= withW1,
        `${flippedFilterCount()} flipped filters kept, ${withW1} before: those of disposed filters were not freed`,
      );
      dy.dispose();
    });

    it('leaves no tensors behind', async () => {
      await tf.setBackend('wasm');
      const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
      const step = (): void => {
        tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf
              .maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').relu() as tf.Tensor4D, 2, 2, 'same')
              .sum(),
          )([x, w]);
          g.forEach((t) => t.dataSync());
        });
      };
      step();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) step();
      assert.strictEqual(tf.memory().numTensors, before);
      tf.dispose([x, w]);
    });
  });
}

kernelSuite(true);
kernelSuite(false);
