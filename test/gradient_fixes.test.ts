import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { installGradientFixes, uninstallGradientFixes } from '../src/runtime/kernels';
import { mobileNetStyle } from '../bench/_engine_nets';
import { setSimdEnabled } from '../src/runtime/kernels/simd';

/** Max abs difference over max magnitude. */
function relErr(a: Float32Array | number[], b: Float32Array | number[]): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}

/** Values of `f` with tfjs's own gradients, then with cnnviz's fixes installed. */
function both(f: () => tf.Tensor[]): { stock: Float32Array[]; fixed: Float32Array[] } {
  const run = (): Float32Array[] => {
    const out = tf.tidy(f);
    const v = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return v;
  };
  uninstallGradientFixes();
  try {
    const stock = run();
    installGradientFixes();
    return { stock, fixed: run() };
  } finally {
    installGradientFixes();
  }
}

function kernelsRun(f: () => void): string[] {
  const names: string[] = [];
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const original = engine.runKernel;
  engine.runKernel = function (name: string, ...rest: unknown[]) {
    names.push(name);
    return original.call(this, name, ...rest);
  };
  try {
    f();
  } finally {
    engine.runKernel = original;
  }
  return names;
}

/** What a batch-norm layer does in training: moments over all axes but the channels, then batchNorm of x by them. */
function normalizeByOwnMoments(a: tf.Tensor, scale: tf.Tensor | null, offset: tf.Tensor | null): tf.Tensor {
  const { mean, variance } = tf.moments(
    a,
    a.shape.slice(0, -1).map((_, i) => i),
  );
  const [m, v, o, s] = [mean, variance, offset ?? undefined, scale ?? undefined] as Array<tf.Tensor1D | undefined>;
  return a.rank === 4
    ? tf.batchNorm4d(a as tf.Tensor4D, m!, v!, o, s, 1e-3)
    : tf.batchNorm2d(a as tf.Tensor2D, m!, v!, o, s, 1e-3);
}

/** The test name's suffix: which wasm loops ran (nothing on cpu). */
const simdNote = (backend: string, simd: boolean): string =>
  backend === 'wasm' ? (simd ? ' (SIMD)' : ' (JavaScript fallback)') : '';

describe('gradient fixes: unfused linear convs and a lazy batch-norm gradient give the same gradients', function () {
  for (const backend of ['cpu', 'wasm']) {
    describe(`on ${backend}`, () => {
      before(async () => {
        await setup({ backend: 'wasm', quiet: true });
        await tf.setBackend(backend);
      });
      after(async () => {
        await tf.setBackend('wasm');
      });

      it('fused conv2d and depthwise with bias, linear activation: every input gradient', () => {
        const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 1);
        const w = tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 2);
        const dw = tf.randomNormal([3, 3, 3, 2], 0, 1, 'float32', 3);
        const b5 = tf.randomNormal([5], 0, 1, 'float32', 4);
        const b6 = tf.randomNormal([6], 0, 1, 'float32', 5);
        const { stock, fixed } = both(() => [
          ...tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.fused
              .conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 2, pad: 'same', bias: bb })
              .square()
              .sum(),
          )([x, w, b5]),
          ...tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.fused
              .depthwiseConv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 1, pad: 'valid', bias: bb })
              .square()
              .sum(),
          )([x, dw, b6]),
        ]);
        assert.strictEqual(fixed.length, 6);
        stock.forEach((s, i) =>
          assert.ok(relErr(fixed[i], s) < 1e-5, `gradient ${i}: relative error ${relErr(fixed[i], s)}`),
        );
        tf.dispose([x, w, dw, b5, b6]);
      });

      it('d/dx of a linear fused conv no longer computes the filter gradient', () => {
        const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 1);
        const w = tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 2);
        const f = (): void =>
          tf.tidy(
            () =>
              void tf
                .grad((xx: tf.Tensor) =>
                  tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same' }).sum(),
                )(x)
                .dataSync(),
          );
        uninstallGradientFixes();
        const stockKernels = kernelsRun(f);
        installGradientFixes();
        const fixedKernels = kernelsRun(f);
        // The check can fail: tfjs's own fused gradient does run the filter gradient.
        assert.ok(stockKernels.includes('Conv2DBackpropFilter'), `stock kernels: ${stockKernels.join(', ')}`);
        assert.ok(!fixedKernels.includes('Conv2DBackpropFilter'), `fixed kernels: ${fixedKernels.join(', ')}`);
        assert.ok(fixedKernels.includes('Conv2DBackpropInput'));
        tf.dispose([x, w]);
      });

      it('FusedBatchNorm: gradients of x, mean, variance, scale and offset (channel vectors and full shapes)', () => {
        const x = tf.randomNormal([3, 5, 4, 6], 2, 3, 'float32', 11);
        const mean = tf.randomNormal([6], 2, 1, 'float32', 12);
        const variance = tf.randomUniform([6], 0.5, 4, 'float32', 13);
        const scale = tf.randomNormal([6], 1, 0.5, 'float32', 14);
        const offset = tf.randomNormal([6], 0, 1, 'float32', 15);
        const weight = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 16);
        const fullMean = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 17);
        const fullVar = tf.randomUniform([3, 5, 4, 6], 0.5, 2, 'float32', 18);
        const fullScale = tf.randomNormal([3, 5, 4, 6], 1, 0.5, 'float32', 19);
        const fullOffset = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 20);
        const { stock, fixed } = both(() => [
          ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) =>
            tf
              .batchNorm4d(
                a as tf.Tensor4D,
                b as tf.Tensor1D,
                c as tf.Tensor1D,
                e as tf.Tensor1D,
                d as tf.Tensor1D,
                1e-3,
              )
              .mul(weight)
              .sum(),
          )([x, mean, variance, scale, offset]),
          // Statistics, scale and offset as full tensors (tfjs's own gradient needs equal ranks,
          // and fails under tf.grads when scale or offset is absent).
          ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) =>
            tf.batchNorm(a, b, c, e, d, 1e-3).mul(weight).sum(),
          )([x, fullMean, fullVar, fullScale, fullOffset]),
        ]);
        assert.strictEqual(fixed.length, 10);
        stock.forEach((s, i) =>
          assert.ok(relErr(fixed[i], s) < 1e-5, `gradient ${i}: relative error ${relErr(fixed[i], s)}`),
        );
        tf.dispose([x, mean, variance, scale, offset, weight, fullMean, fullVar, fullScale, fullOffset]);
      });

      it('moments: gradients through mean and variance (several axes, keepDims or not)', () => {
        const recorded: Float32Array[] = [];
        // c = 6: JavaScript loops; c = 8 with a large mean: the SIMD variance (x - mean first).
        const xs = [
          tf.randomNormal([3, 5, 4, 6], 2, 3, 'float32', 31),
          tf.randomNormal([2, 5, 3, 8], 100, 0.5, 'float32', 32),
        ];
        const cases: Array<[number[] | number | null, boolean]> = [
          [[0, 1, 2], false],
          [[0, 1, 2], true],
          [[1, 2], false],
          [3, true],
          [null, false],
        ];
        const { stock, fixed } = both(() =>
          xs.flatMap((x) =>
            cases.flatMap(([axis, keep], i) => {
              const f = (a: tf.Tensor): tf.Scalar => {
                const { mean, variance } = tf.moments(a, axis ?? undefined, keep);
                const w1 = tf.randomNormal(mean.shape, 0, 1, 'float32', 40 + i);
                const w2 = tf.randomNormal(variance.shape, 0, 1, 'float32', 50 + i);
                return tf.add(tf.sum(tf.mul(mean, w1)), tf.sum(tf.mul(tf.sqrt(variance), w2))) as tf.Scalar;
              };
              const { mean, variance } = tf.moments(x, axis ?? undefined, keep);
              // The statistics as the gradient pass computes them (under a tape), and its gradient.
              const taped = tf.grad((a: tf.Tensor) => {
                const m = tf.moments(a, axis ?? undefined, keep);
                recorded.push(m.mean.dataSync().slice() as Float32Array, m.variance.dataSync().slice() as Float32Array);
                return f(a);
              })(x);
              return [taped, mean, variance];
            }),
          ),
        );
        assert.strictEqual(fixed.length, 30);
        // A mean of 100 against a spread of 0.5 costs float32 digits in either form of the gradient.
        stock.forEach((s, i) =>
          assert.ok(relErr(fixed[i], s) < (i < 15 ? 1e-5 : 5e-5), `output ${i}: relative error ${relErr(fixed[i], s)}`),
        );
        // recorded: 20 stock then 20 fixed statistics computed under the tape
        assert.strictEqual(recorded.length, 40);
        for (let i = 0; i < 20; i++)
          assert.ok(
            relErr(recorded[20 + i], recorded[i]) < 1e-5,
            `taped statistic ${i}: relative error ${relErr(recorded[20 + i], recorded[i])}`,
          );
        tf.dispose(xs);
      });

      for (const simd of backend === 'wasm' ? [true, false] : [true]) {
        const title = 'clipByValue (ReLU6): gradients and a gradient of the gradient, bounds, NaN, odd sizes';
        it(title + simdNote(backend, simd), () => {
          setSimdEnabled(simd);
          try {
            // Values on the bounds, NaN, and sizes that are not a multiple of the SIMD width.
            const special = [0, 6, -0, 6.000001, -1e-7, NaN, 3, 7];
            const xs = [7, 13, 40, 1029].map((n, k) =>
              tf.tensor1d(
                Float32Array.from({ length: n }, (_, i) =>
                  i < special.length ? special[i] : Math.sin(7 * i + k) * 5 + 2.5,
                ),
              ),
            );
            const { stock, fixed } = both(() =>
              xs.flatMap((x, k) => {
                const w = tf.randomNormal(x.shape, 0, 1, 'float32', 60 + k);
                const f = (a: tf.Tensor, v: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.clipByValue(a, 0, 6), v));
                // A gradient of the clip's gradient (with respect to the weights, as tfjs's own
                // allows: its mask, a logical and, has no gradient itself).
                const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((a: tf.Tensor) => f(a, v))(x))))(w);
                return [tf.grad((a: tf.Tensor) => f(a, w))(x), g2];
              }),
            );
            assert.strictEqual(fixed.length, 8);
            stock.forEach((s, i) =>
              assert.deepStrictEqual(Array.from(fixed[i]), Array.from(s), `output ${i} differs from tfjs's own`),
            );
            tf.dispose(xs);
          } finally {
            setSimdEnabled(true);
          }
        });
      }

      for (const simd of backend === 'wasm' ? [true, false] : [true]) {
        const title =
          'batch norm in training mode (its own statistics): gradients of x, gamma, beta and of the ' +
          'gradient; ranks 2 and 4';
        it(title + simdNote(backend, simd), () => {
          setSimdEnabled(simd);
          try {
            // c = 8 takes the SIMD loops, c = 6 and 3 the JavaScript ones; a large mean tests the
            // (x - mean) form; rank 2 is batchNorm2d (a batch norm after a dense layer).
            const shapes: Array<[number[], number]> = [
              [[4, 5, 6, 8], 0],
              [[3, 7, 5, 6], 50],
              [[2, 3, 3, 3], -2],
              [[16, 12], 3],
              [[1, 3, 2, 8], 0],
            ];
            const { stock, fixed } = both(() =>
              shapes.flatMap(([shape, shift], k) => {
                const c = shape[shape.length - 1];
                const x = tf.add(tf.randomNormal(shape, 0, 2, 'float32', 100 + k), shift);
                const gamma = tf.variable(tf.randomNormal([c], 1, 0.5, 'float32', 90 + k));
                const beta = tf.variable(tf.randomNormal([c], 0, 1, 'float32', 80 + k));
                const w = tf.randomNormal(shape, 0, 1, 'float32', 110 + k);
                const loss = (a: tf.Tensor): tf.Scalar =>
                  tf.sum(tf.mul(tf.square(normalizeByOwnMoments(a, gamma, beta)), w));
                const dx = tf.grad(loss)(x);
                const { grads } = tf.variableGrads(() => loss(x), [gamma, beta]);
                // A gradient of the gradient (two tapes): tfjs's own differentiable form.
                const g2 = tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.grad(loss)(a))))(x);
                const out = [dx, g2, grads[gamma.name], grads[beta.name]];
                tf.dispose([gamma, beta]);
                return out;
              }),
            );
            assert.strictEqual(fixed.length, 20);
            stock.forEach((s, i) =>
              assert.ok(relErr(fixed[i], s) < 2e-5, `output ${i}: relative error ${relErr(fixed[i], s)}`),
            );
          } finally {
            setSimdEnabled(true);
          }
        });
      }

      // tfjs's own gradient fails without scale or offset (an undefined input on the tape), so
      // ours is checked against scale ones and offset zeros, which the test above checks.
      if (backend === 'wasm')
        it('batch norm in training mode without scale or offset: as with ones and zeros', () => {
          const x = tf.randomNormal([3, 4, 4, 8], 2, 3, 'float32', 130);
          const w = tf.randomNormal(x.shape, 0, 1, 'float32', 131);
          const ones = tf.ones([8]);
          const zeros = tf.zeros([8]);
          for (const [useScale, useOffset] of [
            [false, false],
            [true, false],
            [false, true],
          ]) {
            const g = tf.variable(tf.randomNormal([8], 1, 0.3, 'float32', 132));
            const b = tf.variable(tf.randomNormal([8], 0, 1, 'float32', 133));
            const grads = (scale: tf.Tensor | null, offset: tf.Tensor | null, vars: tf.Variable[]): Float32Array[] =>
              tf.tidy(() => {
                const loss = (a: tf.Tensor): tf.Scalar =>
                  tf.sum(tf.mul(tf.square(normalizeByOwnMoments(a, scale, offset)), w));
                const r = vars.length ? tf.variableGrads(() => loss(x), vars).grads : {};
                return [tf.grad(loss)(x), ...vars.map((v) => r[v.name])].map((t) => t.dataSync() as Float32Array);
              });
            const vars = [...(useScale ? [g] : []), ...(useOffset ? [b] : [])];
            const got = grads(useScale ? g : null, useOffset ? b : null, vars);
            const want = grads(useScale ? g : ones, useOffset ? b : zeros, vars);
            assert.strictEqual(got.length, 1 + vars.length);
            want.forEach((v, i) =>
              assert.ok(
                relErr(got[i], v) < 1e-6,
                `scale ${useScale} offset ${useOffset}, output ${i}: ${relErr(got[i], v)}`,
              ),
            );
            tf.dispose([g, b]);
          }
          tf.dispose([x, w, ones, zeros]);
        });

      if (backend === 'wasm')
        it('a batch norm in training mode differentiates in one kernel on wasm, not through Mean, Sub, Square', () => {
          const layer = tf.layers.batchNormalization({});
          const x = tf.randomNormal([2, 6, 6, 16], 1, 2, 'float32', 120);
          layer.build(x.shape);
          const names = kernelsRun(() =>
            tf.tidy(
              () =>
                void tf
                  .grad((a: tf.Tensor) => tf.sum(tf.square(layer.apply(a, { training: true }) as tf.Tensor)))(x)
                  .dataSync(),
            ),
          );
          // The tape runs the loss's gradient, then the batch norm's: nothing may follow ours (tfjs's
          // own form would go on through the moments' Mean, Sub and Square).
          const at = names.indexOf('CnnvizBatchNormTrainingGrad');
          assert.ok(at >= 0, `kernels run: ${names.join(', ')}`);
          assert.deepStrictEqual(names.slice(at + 1), [], `kernels after ours: ${names.join(', ')}`);
          x.dispose();
        });

      for (const simd of backend === 'wasm' ? [true, false] : [true]) {
        const title =
          "relu: gradient bit for bit as tfjs's own (0, -0, NaN, infinities, negative dy), odd sizes, " +
          'and a gradient of the gradient';
        it(title + simdNote(backend, simd), () => {
          setSimdEnabled(simd);
          try {
            const special = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 2];
            const dySpecial = [-1, 3, 2, -Infinity, Infinity, -2, 5, NaN];
            const xs = [7, 13, 40, 1029].map((n, k) =>
              tf.tensor1d(
                Float32Array.from({ length: n }, (_, i) => (i < special.length ? special[i] : Math.sin(5 * i + k) * 3)),
              ),
            );
            const dys = [7, 13, 40, 1029].map((n, k) =>
              tf.tensor1d(
                Float32Array.from({ length: n }, (_, i) =>
                  i < dySpecial.length ? dySpecial[i] : Math.cos(3 * i + k) * 2,
                ),
              ),
            );
            const { stock, fixed } = both(() =>
              xs.flatMap((x, k) => {
                const w = dys[k];
                const f = (a: tf.Tensor, v: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.relu(a), v));
                // dy = w exactly (d sum(relu(a) * w) / d relu(a)), then d/dw of the gradient's square.
                const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((a: tf.Tensor) => f(a, v))(x))))(w);
                return [tf.grad((a: tf.Tensor) => f(a, w))(x), g2];
              }),
            );
            assert.strictEqual(fixed.length, 8);
            stock.forEach((s, i) =>
              assert.deepStrictEqual(Array.from(fixed[i]), Array.from(s), `output ${i} differs from tfjs's own`),
            );
            // -0 where dy < 0 and x <= 0, as tfjs's multiply gives: deepStrictEqual tells 0 from -0.
            assert.ok(Object.is(fixed[0][0], -0), `d relu at x = 0 with dy = -1: ${fixed[0][0]}`);
            tf.dispose([...xs, ...dys]);
          } finally {
            setSimdEnabled(true);
          }
        });
      }

      if (backend === 'wasm')
        it('the relu gradient on wasm is one kernel, not Step then Multiply', () => {
          const x = tf.randomNormal([2, 9, 9, 8], 0, 1, 'float32', 71);
          const names = kernelsRun(() =>
            tf.tidy(
              () =>
                void tf
                  .grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(x)
                  .dataSync(),
            ),
          );
          assert.ok(names.includes('CnnvizReluGrad'), `kernels run: ${names.join(', ')}`);
          assert.ok(!names.includes('Step'), `Step ran: ${names.join(', ')}`);
          x.dispose();
        });

      if (backend === 'wasm')
        it('the clip gradient on wasm is one kernel, not five', () => {
          const x = tf.randomNormal([2, 9, 9, 8], 3, 4, 'float32', 70);
          const names = kernelsRun(() =>
            tf.tidy(
              () =>
                void tf
                  .grad((a: tf.Tensor) => tf.sum(tf.clipByValue(a, 0, 6)))(x)
                  .dataSync(),
            ),
          );
          assert.ok(names.includes('CnnvizClipByValueGrad'), `kernels run: ${names.join(', ')}`);
          for (const k of ['Select', 'LogicalAnd', 'GreaterEqual', 'LessEqual'])
            assert.ok(!names.includes(k), `${k} ran: ${names.join(', ')}`);
          x.dispose();
        });

      // A whole net on the cpu backend takes over a minute: wasm only (the ops are covered above on both).
      if (backend === 'wasm')
        it('a MobileNet-style net (batch norm, linear convs): input, weight gradients when training, no leaks', () => {
          const model = mobileNetStyle(2);
          const x = tf.randomUniform([1, 96, 96, 3], 0, 1, 'float32', 21);
          const y = tf.oneHot(tf.tensor1d([3], 'int32'), 10);
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          // Training mode moves the batch-norm statistics: start each run from the same weights.
          const initial = model.getWeights().map((w) => w.clone());
          const f = (): tf.Tensor[] => {
            model.setWeights(initial);
            const { grads } = tf.variableGrads(
              () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
              vars,
            );
            const dx = tf.grad((a: tf.Tensor) => (model.apply(a) as tf.Tensor).slice([0, 2], [-1, 1]).sum())(x);
            const dxTrain = tf.grad((a: tf.Tensor) =>
              (model.apply(a, { training: true }) as tf.Tensor).slice([0, 2], [-1, 1]).sum(),
            )(x);
            return [dx, dxTrain, ...vars.map((v) => grads[v.name])];
          };
          const before = tf.memory().numTensors;
          const { stock, fixed } = both(f);
          assert.strictEqual(tf.memory().numTensors, before, 'tensors left behind');
          stock.forEach((s, i) =>
            assert.ok(relErr(fixed[i], s) < 1e-4, `gradient ${i}: relative error ${relErr(fixed[i], s)}`),
          );
          model.dispose();
          tf.dispose([x, y, ...initial]);
        });
    });
  }
});
