import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

type Info = tf.TensorInfo;

/**
 * B operands the built-in kernel has already packed: it caches one XNNPACK operator per B
 * tensor, so using the same B again costs no packing.
 */
const packed = new WeakSet<object>();

function lastTwoSwapped(ops: WasmOps, x: Info): Info {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return ops.transpose(x, perm);
}

/** Plain A[M,K] x B[K,N] on XNNPACK (the built-in's only fast case). */
function plain(ops: WasmOps, a: Info, b: Info): Info {
  packed.add(b.dataId);
  return ops.matMul(a, b, false, false);
}

/**
 * The built-in BatchMatMul takes XNNPACK's path only without transposes and with batch 1; with
 * transposeA or transposeB (every dense layer's gradient) it falls to a loop ten times slower.
 * XNNPACK also packs B (as weights) on first use, which costs more than the product when B is
 * the bigger operand, so for a fresh B we may compute C^T = B^T A^T instead and pack A.
 * Costs are counted in elements moved: a transpose is one pass, packing about two.
 */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    if (batchB !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return ops.run('BatchMatMul', { a, b }, { transposeA, transposeB });
    }
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
    const rows = batchA * m;
    // A's batches fold into its rows, which needs A row-major as [batch*M, K].
    const aMK = transposeA ? lastTwoSwapped(ops, a) : a;
    const a2 = ops.reshape(aMK, [rows, k]);
    const b2 = ops.reshape(b, transposeB ? [n, k] : [k, n]);
    const direct = (transposeB ? k * n : 0) + (packed.has(b.dataId) && !transposeB ? 0 : 2 * k * n);
    const flipped = (transposeB ? 0 : k * n) + rows * k + 2 * rows * k + rows * n;
    let out: Info;
    if (direct <= flipped || batchA !== 1) {
      const bKN = transposeB ? lastTwoSwapped(ops, b2) : b2;
      const c = plain(ops, a2, bKN);
      out = ops.reshape(c, outShape);
      ops.free(c);
      if (bKN !== b2) ops.free(bKN);
    } else {
      const bNK = transposeB ? b2 : lastTwoSwapped(ops, b2);
      const aKM = lastTwoSwapped(ops, a2);
      const ct = plain(ops, bNK, aKM);
      const c = lastTwoSwapped(ops, ct);
      out = ops.reshape(c, outShape);
      ops.free(ct, c, aKM);
      if (bNK !== b2) ops.free(bNK);
    }
    ops.free(a2, b2);
    if (aMK !== a) ops.free(aMK);
    return out;
  },
};
