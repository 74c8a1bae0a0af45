import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

type Info = tf.TensorInfo;

/**
 * y = (x - mean) * scale / sqrt(variance + eps) + offset with per-channel statistics (the
 * vectors of a batch-norm layer): folded into one scale s and shift b per channel, then
 * y = x * s + b in two broadcast passes on XNNPACK. The built-in kernel indexes every element
 * with divisions, slower than the 1x1 conv before it (figures: bench/KERNELS.md). Other shapes (full-size statistics)
 * go to the built-in kernel.
 */
export const fusedBatchNormConfig: tf.KernelConfig = {
  kernelName: 'FusedBatchNorm',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs as {
      x: Info;
      mean: Info;
      variance: Info;
      offset?: Info | null;
      scale?: Info | null;
    };
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const ops = new WasmOps(backend as tf.KernelBackend);
    const c = x.shape[x.shape.length - 1] ?? 1;
    const perChannel = (t: Info | null | undefined): boolean =>
      t == null ||
      (t.dtype === 'float32' &&
        tf.util.sizeFromShape(t.shape) === c &&
        (t.shape.length === 0 ? c === 1 : t.shape[t.shape.length - 1] === c));
    const size = tf.util.sizeFromShape(x.shape);
    if (
      x.dtype !== 'float32' ||
      x.shape.length === 0 ||
      size === 0 ||
      ![mean, variance, offset, scale].every(perChannel)
    ) {
      return ops.run(
        'FusedBatchNorm',
        { x, mean, variance, ...(offset ? { offset } : {}), ...(scale ? { scale } : {}) },
        attrs as Record<string, unknown>,
      );
    }
    // Statistics first (views are taken after the last allocation: see WasmOps.view).
    const m = ops.view(mean);
    const v = ops.view(variance);
    const g = scale ? ops.view(scale) : undefined;
    const o = offset ? ops.view(offset) : undefined;
    const s = new Float32Array(c);
    const b = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      s[k] = (g ? g[k] : 1) / Math.sqrt(v[k] + eps);
      b[k] = (o ? o[k] : 0) - m[k] * s[k];
    }
    // y = x * s + b as two broadcast passes on XNNPACK (a JavaScript loop is slower here).
    const sInfo = ops.empty([c], 'float32');
    const bInfo = ops.empty([c], 'float32');
    ops.view(sInfo).set(s);
    ops.view(bInfo).set(b);
    const scaled = ops.multiply(x, sInfo);
    const out = ops.add(scaled, bInfo);
    ops.free(sInfo, bInfo, scaled);
    return out;
  },
};
