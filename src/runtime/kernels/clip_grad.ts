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
