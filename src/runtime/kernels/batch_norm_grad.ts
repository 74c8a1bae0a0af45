import * as tf from '@tensorflow/tfjs';
import { addressOf, simdFor } from './simd';
import { WasmOps } from './wasm_ops';

/** The name of our kernel for the whole gradient of a batch norm in training (see gradients.ts). */
export const BN_TRAINING_GRAD_KERNEL = 'CnnvizBatchNormTrainingGrad';

/**
 * Gradient of y = (x - m) / sqrt(v + eps) * g + b where m and v are the per-channel mean and
 * (population) variance of x itself (batch norm in training), over N rows of c channels:
 *
 *   S1 = sum dy,  S2 = sum dy (x - m),  r = 1 / sqrt(v + eps)
 *   dx = g r dy - g r S1 / N - (x - m) g r^3 S2 / N,   dg = r S2,   db = S1
 *
 * One pass reads x and dy for the two sums, one more writes dx: tfjs differentiates the same
 * graph (moments, then batchNorm) in about fifteen full-size passes.
 * Inputs dy, x, mean, variance and optionally scale; outputs [dx, dScale, dOffset].
 */
export const batchNormTrainingGradConfig: tf.KernelConfig = {
  kernelName: BN_TRAINING_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance, scale } = inputs as {
      dy: tf.TensorInfo;
      x: tf.TensorInfo;
      mean: tf.TensorInfo;
      variance: tf.TensorInfo;
      scale?: tf.TensorInfo;
    };
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const ops = new WasmOps(backend as tf.KernelBackend);
    const c = x.shape[x.shape.length - 1];
    const size = tf.util.sizeFromShape(x.shape);
    const rows = size / c;
    const dx = ops.empty(x.shape, 'float32');
    const dScale = ops.empty([c], 'float32');
    const dOffset = ops.empty([c], 'float32');
    const fast = c % 4 === 0 ? simdFor(ops.backend) : undefined;
    let s1: Float64Array | Float32Array;
    let s2: Float64Array | Float32Array;
    let sums: tf.TensorInfo | undefined;
    if (fast) {
      sums = ops.empty([2 * c], 'float32');
      ops.view(sums).fill(0);
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.bnSums(at(x), at(dy), at(mean), at(sums), at(sums) + 4 * c, rows, c);
      const v = ops.view(sums);
      s1 = v.slice(0, c);
      s2 = v.slice(c, 2 * c);
    } else {
      const [xs, g, m] = [ops.view(x), ops.view(dy), ops.view(mean)];
      s1 = new Float64Array(c);
      s2 = new Float64Array(c);
      for (let p = 0; p < size; p += c) {
        for (let k = 0; k < c; k++) {
          s1[k] += g[p + k];
          s2[k] += g[p + k] * (xs[p + k] - m[k]);
        }
      }
    }
    const coef = ops.empty([3 * c], 'float32');
    {
      const [v, cf, ds, dof] = [ops.view(variance), ops.view(coef), ops.view(dScale), ops.view(dOffset)];
      const gs = scale ? ops.view(scale) : undefined;
      for (let k = 0; k < c; k++) {
        const r = 1 / Math.sqrt(v[k] + eps);
        const gr = (gs ? gs[k] : 1) * r;
        cf[k] = gr;
        cf[c + k] = (-gr * r * r * s2[k]) / rows;
        cf[2 * c + k] = (-gr * s1[k]) / rows;
        ds[k] = r * s2[k];
        dof[k] = s1[k];
      }
    }
    if (fast) {
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.bnDx(at(x), at(dy), at(mean), at(coef), at(dx), rows, c);
    } else {
      const [xs, g, m, cf, o] = [ops.view(x), ops.view(dy), ops.view(mean), ops.view(coef), ops.view(dx)];
      for (let p = 0; p < size; p += c) {
        for (let k = 0; k < c; k++) o[p + k] = g[p + k] * cf[k] + (xs[p + k] - m[k]) * cf[c + k] + cf[2 * c + k];
      }
    }
    ops.free(coef);
    if (sums) ops.free(sums);
    return [dx, dScale, dOffset];
  },
};

/** The name of our kernel for the population variance over all axes but the last, given the mean. */
export const CHANNEL_VARIANCE_KERNEL = 'CnnvizChannelVariance';

/**
 * mean over rows of (x - mean)^2 per channel, in one pass (the moments of a batch norm in
 * training): tfjs takes a squared-difference pass that writes a full-size tensor, then a mean.
 * Inputs x [..., c] and mean [c]; output [c].
 */
export const channelVarianceConfig: tf.KernelConfig = {
  kernelName: CHANNEL_VARIANCE_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { x, mean } = inputs as { x: tf.TensorInfo; mean: tf.TensorInfo };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const c = x.shape[x.shape.length - 1];
    const size = tf.util.sizeFromShape(x.shape);
    const rows = size / c;
    const out = ops.empty([c], 'float32');
    const fast = c % 4 === 0 ? simdFor(ops.backend) : undefined;
    if (fast) {
      ops.view(out).fill(0);
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.sqDev(at(x), at(mean), at(out), rows, c);
      const o = ops.view(out);
      for (let k = 0; k < c; k++) o[k] /= rows;
      return out;
    }
    const [xs, m, o] = [ops.view(x), ops.view(mean), ops.view(out)];
    const acc = new Float64Array(c);
    for (let p = 0; p < size; p += c) {
      for (let k = 0; k < c; k++) {
        const d = xs[p + k] - m[k];
        acc[k] += d * d;
      }
    }
    for (let k = 0; k < c; k++) o[k] = acc[k] / rows;
    return out;
  },
};
