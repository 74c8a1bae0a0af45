import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

function swapLastTwo(ops: WasmOps, x: tf.TensorInfo): tf.TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return ops.transpose(x, perm);
}

/**
 * The built-in BatchMatMul takes XNNPACK's fast path only without transposes; with
 * transposeA or transposeB (every dense layer's gradient) it falls to a loop about ten times
 * slower. Transposing the operand first costs one pass over it.
 */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ops = new WasmOps(backend as tf.KernelBackend);
    if (!transposeA && !transposeB) return ops.matMul(a, b, false, false);
    const at = transposeA ? swapLastTwo(ops, a) : a;
    const bt = transposeB ? swapLastTwo(ops, b) : b;
    const out = ops.matMul(at, bt, false, false);
    if (at !== a) ops.free(at);
    if (bt !== b) ops.free(bt);
    return out;
  },
};
