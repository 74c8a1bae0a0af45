import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { WasmOps } from '../src/runtime/kernels/wasm_ops';
import {
  pointwise,
  gemmCalls,
  gemmInUse,
  GemmFlavour,
  packedWeightCount,
  relaxedSimdAvailable,
  setGemmFlavour,
} from '../src/runtime/kernels/gemm';

/** Deterministic numbers in [-1, 1) (an LCG; the values only need to differ). */
function data(n: number, seed: number): Float32Array {
  let s = seed * 7919 + 1;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const vals = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return vals;
}

/** Max |wasm - cpu| over the largest |cpu|, per output. */
async function relErrors(f: () => tf.Tensor[]): Promise<number[]> {
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  return want.map((w, i) => {
    assert.strictEqual(got[i].length, w.length);
    let scale = 0;
    let err = 0;
    for (let j = 0; j < w.length; j++) {
      scale = Math.max(scale, Math.abs(w[j]));
      err = Math.max(err, Math.abs(got[i][j] - w[j]));
    }
    return err / Math.max(scale, 1e-12);
  });
}

interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
}

// Rows (b*h*w) that leave 1, 2, 3 and 0 rows after the tiles of 4; channel counts of MobileNet's shape.
const cases: Case[] = [
  { b: 1, h: 3, w: 3, ci: 8, co: 16 },
  { b: 2, h: 5, w: 3, ci: 16, co: 8 },
  { b: 3, h: 7, w: 5, ci: 24, co: 48 },
  { b: 2, h: 4, w: 4, ci: 40, co: 24 },
  { b: 1, h: 1, w: 1, ci: 96, co: 1000 },
];

describe('pointwise convolutions on our matrix-product loop (kernels/gemm)', function () {
  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
  });
  after(async () => {
    setGemmFlavour('auto');
    await tf.setBackend('wasm');
  });

  it('compiles both loops on this engine; setup() turns relaxed SIMD on where V8 has it behind a flag', () => {
    setGemmFlavour('plain');
    assert.strictEqual(gemmInUse(), 'plain');
    setGemmFlavour('auto');
    // Node 20's V8 (11.3) has relaxed SIMD behind --experimental-wasm-relaxed-simd, which setup() sets.
    assert.ok(relaxedSimdAvailable(), 'relaxed SIMD is still off after setup()');
    assert.strictEqual(gemmInUse(), 'fma');
  });

  it('rejects an unknown flavour by name', () => {
    assert.throws(() => setGemmFlavour('fast' as GemmFlavour), /flavour must be one of auto, plain, off; got fast/);
    assert.strictEqual(gemmInUse(), 'fma');
  });

  it('names a bad CNNVIZ_GEMM and its choices (read where setGemmFlavour has not chosen)', () => {
    const { spawnSync } = require('child_process') as typeof import('child_process');
    const script = [
      'const g = require(process.argv[1]);',
      "try { g.gemmInUse(); console.log('no error'); } catch (e) { console.log(e.message); }",
    ].join(' ');
    const r = spawnSync(process.execPath, ['-e', script, require.resolve('../src/runtime/kernels/gemm')], {
      env: { ...process.env, CNNVIZ_GEMM: 'fastest' },
      encoding: 'utf8',
    });
    assert.match(r.stdout, /CNNVIZ_GEMM must be one of auto, plain, off; got 'fastest'/);
  });

  for (const flavour of ['auto', 'plain', 'off'] as GemmFlavour[]) {
    for (const [i, c] of cases.entries()) {
      const tag = `${flavour}: ${c.b}x${c.h}x${c.w}x${c.ci} -> ${c.co}`;
      it(`conv, conv + bias + linear/ReLU/ReLU6 and the input gradient match the cpu backend (${tag})`, async () => {
        setGemmFlavour(flavour);
        const xv = data(c.b * c.h * c.w * c.ci, 1 + i);
        const wv = data(c.ci * c.co, 2 + i);
        // A bias big enough that ReLU6 clips at both ends.
        const bv = data(c.co, 3 + i).map((v) => v * 8);
        const live = tf.tensor4d(wv, [1, 1, c.ci, c.co]);
        await tf.setBackend('wasm');
        const errs = await relErrors(() => {
          const x = tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]);
          const w = tf.tensor4d(wv, [1, 1, c.ci, c.co]);
          const bias = tf.tensor1d(bv);
          const fused = (activation: 'linear' | 'relu' | 'relu6'): tf.Tensor =>
            tf.fused.conv2d({ x, filter: w, bias, activation, strides: 1, pad: 'same' });
          const dy = tf.tensor4d(data(c.b * c.h * c.w * c.co, 4 + i), [c.b, c.h, c.w, c.co]);
          const dx = tf.conv2dTranspose(dy, w, x.shape, 1, 'valid');
          const viaGrad = tf.grad((a: tf.Tensor) =>
            tf
              .conv2d(a as tf.Tensor4D, w, 1, 'valid')
              .mul(dy)
              .sum(),
          )(x);
          return [tf.conv2d(x, w, 1, 'valid'), fused('linear'), fused('relu'), fused('relu6'), dx, viaGrad];
        });
        errs.forEach((e, k) => assert.ok(e <= 1e-5, `${tag}: output ${k} relative error ${e.toExponential(2)}`));
        // The route is ours exactly where the loop is on and takes the shape (8 | the product's columns).
        await tf.setBackend('wasm');
        const callsBefore = gemmCalls();
        const y = tf.conv2d(tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]), live, 1, 'same');
        const g = tf.conv2dTranspose(y, live, [c.b, c.h, c.w, c.ci], 1, 'same');
        const ran = gemmCalls() - callsBefore;
        // The input gradient's product has the input channels as its columns.
        const want = flavour === 'off' ? 0 : 1 + (c.ci % 8 === 0 ? 1 : 0);
        assert.strictEqual(ran, want, `${tag}: ${ran} products on our loop, expected ${want}`);
        tf.dispose(g);
        tf.dispose([y, live]);
      });
    }
  }

  it('leaves shapes it does not take to the built-in: 12 output channels, explicit padding, stride 2', async () => {
    setGemmFlavour('auto');
    for (const [k, geometry] of [
      { co: 12, pad: 'same' as const, s: 1 },
      {
        co: 16,
        pad: [
          [0, 0],
          [1, 0],
          [0, 1],
          [0, 0],
        ] as tf.backend_util.ExplicitPadding,
        s: 1,
      },
      { co: 16, pad: 'same' as const, s: 2 },
    ].entries()) {
      const errs = await relErrors(() => {
        const x = tf.tensor4d(data(2 * 6 * 6 * 8, 40 + k), [2, 6, 6, 8]);
        const w = tf.tensor4d(data(8 * geometry.co, 50 + k), [1, 1, 8, geometry.co]);
        const bias = tf.tensor1d(data(geometry.co, 60 + k));
        return [
          tf.conv2d(x, w, geometry.s, geometry.pad),
          tf.fused.conv2d({ x, filter: w, bias, activation: 'relu6', strides: geometry.s, pad: geometry.pad }),
          tf.grad((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, w, geometry.s, geometry.pad).sum())(x),
        ];
      });
      errs.forEach((e, i) => assert.ok(e <= 1e-5, `case ${k}, output ${i}: relative error ${e.toExponential(2)}`));
    }
    await tf.setBackend('wasm');
    const callsBefore = gemmCalls();
    tf.tidy(() => tf.conv2d(tf.zeros([1, 4, 4, 8]) as tf.Tensor4D, tf.zeros([1, 1, 8, 12]) as tf.Tensor4D, 1, 'same'));
    assert.strictEqual(gemmCalls(), callsBefore, '12 output channels went to our loop');
  });

  it('declines (the built-in runs) on a heap it cannot import: a shared memory of a threaded build', () => {
    setGemmFlavour('auto');
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const ops = new WasmOps({ wasm: { asm: { memory } } } as unknown as tf.KernelBackend);
    const info = (shape: number[]): tf.TensorInfo => ({ dataId: {}, shape, dtype: 'float32' });
    assert.strictEqual(pointwise(ops, info([1, 2, 2, 8]), info([1, 1, 8, 8])), undefined);
  });

  it('packs a live filter once, and frees the packing of disposed filters', async () => {
    setGemmFlavour('auto');
    await tf.setBackend('wasm');
    const x = tf.tensor4d(data(2 * 4 * 4 * 16, 70), [2, 4, 4, 16]);
    const run = (w: tf.Tensor4D): Float32Array => tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array);
    const w1 = tf.tensor4d(data(16 * 8, 71), [1, 1, 16, 8]);
    const first = run(w1);
    const withW1 = packedWeightCount();
    assert.deepStrictEqual(run(w1), first);
    assert.strictEqual(packedWeightCount(), withW1, 'the same filter was packed twice');
    // Another filter gets its own packing (-w1 gives -y, not w1's y).
    const w2 = tf.neg(w1) as tf.Tensor4D;
    const second = run(w2);
    assert.ok(
      second.every((v, i) => Math.abs(v + first[i]) <= 1e-6 * (1 + Math.abs(v))),
      "w1's packing was reused",
    );
    tf.dispose([w1, w2]);
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const w = tf.tensor4d(data(16 * 8, 80 + i), [1, 1, 16, 8]);
      run(w);
      w.dispose();
    }
    assert.ok(packedWeightCount() <= withW1, `${packedWeightCount()} packings kept, ${withW1} before`);
    assert.strictEqual(tf.memory().numTensors, tensors, 'tensors left behind');
    x.dispose();
  });
});
