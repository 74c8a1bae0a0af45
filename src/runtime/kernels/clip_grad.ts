import * as tf from '@tensorflow/tfjs';
import { addressOf, simdFor } from './simd';
import { WasmOps } from './wasm_ops';

/** The name of our kernel for the gradient of tf.clipByValue (see gradients.ts). */
export const CLIP_GRAD_KERNEL = 'CnnvizClipByValueGrad';

/**
 * d/dx of clipByValue(x, min, max): dy where min <= x <= max, else 0 (NaN x: 0), as tfjs's own
 * gradient defines it. tfjs composes it from five kernels (two comparisons, a logical and, a
 * zeros tensor and a select): five passes over x for every ReLU6 of a MobileNet-style net.
 * Here it is one SIMD pass (scalar JavaScript when the SIMD loops are unavailable).
 */
export const clipGradConfig: tf.KernelConfig = {
  kernelName: CLIP_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as { clipValueMin: number; clipValueMax: number };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const n = tf.util.sizeFromShape(x.shape);
    const out = ops.empty(x.shape, 'float32');
    const fast = simdFor(ops.backend);
    if (fast) {
      const bounds = ops.empty([2], 'float32');
      ops.view(bounds).set([lo, hi]);
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.clipGrad(at(x), at(dy), at(out), n, at(bounds));
      ops.free(bounds);
      return out;
    }
    const xs = ops.view(x);
    const g = ops.view(dy);
    const o = ops.view(out);
    for (let i = 0; i < n; i++) o[i] = xs[i] >= lo && xs[i] <= hi ? g[i] : 0;
    return out;
  },
};

/** The name of our kernel for the gradient of tf.relu (see gradients.ts). */
export const RELU_GRAD_KERNEL = 'CnnvizReluGrad';

/**
 * d/dx of relu(x) as tfjs defines it, dy * step(x) (step: 1 above 0, 0 at or below, NaN for
 * NaN), in one pass instead of a Step kernel that writes a full-size mask and a Multiply.
 */
export const reluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const n = tf.util.sizeFromShape(x.shape);
    const out = ops.empty(x.shape, 'float32');
    const fast = simdFor(ops.backend);
    if (fast) {
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.reluGrad(at(x), at(dy), at(out), n);
      return out;
    }
    const xs = ops.view(x);
    const g = ops.view(dy);
    const o = ops.view(out);
    for (let i = 0; i < n; i++) o[i] = g[i] * (xs[i] > 0 ? 1 : xs[i] !== xs[i] ? NaN : 0);
    return out;
  },
};
