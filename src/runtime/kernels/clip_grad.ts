import * as tf from '@tensorflow/tfjs';
import { addressOf, SimdKernels, simdFor } from './simd';
import { WasmOps } from './wasm_ops';

/** The name of our kernel for the gradient of tf.clipByValue (see gradients.ts). */
export const CLIP_GRAD_KERNEL = 'CnnvizClipByValueGrad';

/**
 * A gradient kernel of one elementwise op: out = f(dy, x) over float32 tensors of one shape, by a
 * SIMD loop (given addresses and the count) or, without SIMD, a JavaScript loop over views.
 */
function elementwiseGrad(
  kernelName: string,
  simd: (
    fast: SimdKernels,
    ops: WasmOps,
    addr: { x: number; dy: number; out: number },
    n: number,
    attrs: Record<string, number>,
  ) => void,
  scalar: (dy: number, x: number, attrs: Record<string, number>) => number,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const a = (attrs ?? {}) as unknown as Record<string, number>;
      const ops = new WasmOps(backend as tf.KernelBackend);
      const n = tf.util.sizeFromShape(x.shape);
      const out = ops.empty(x.shape, 'float32');
      const fast = simdFor(ops.backend);
      if (fast) {
        const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
        simd(fast, ops, { x: at(x), dy: at(dy), out: at(out) }, n, a);
        return out;
      }
      const [xs, g, o] = [ops.view(x), ops.view(dy), ops.view(out)];
      for (let i = 0; i < n; i++) o[i] = scalar(g[i], xs[i], a);
      return out;
    },
  };
}

/**
 * d/dx of clipByValue(x, min, max): dy where min <= x <= max, else 0 (NaN x: 0), as tfjs's own
 * gradient defines it. tfjs composes it from five kernels (two comparisons, a logical and, a
 * zeros tensor and a select): five passes over x for every ReLU6 of a MobileNet-style net.
 * Here it is one SIMD pass (scalar JavaScript when the SIMD loops are unavailable).
 */
export const clipGradConfig = elementwiseGrad(
  CLIP_GRAD_KERNEL,
  (fast, ops, p, n, a) => {
    const bounds = ops.empty([2], 'float32');
    ops.view(bounds).set([a.clipValueMin, a.clipValueMax]);
    fast.clipGrad(p.x, p.dy, p.out, n, addressOf(ops.backend, bounds));
    ops.free(bounds);
  },
  (g, x, a) => (x >= a.clipValueMin && x <= a.clipValueMax ? g : 0),
);

/** The name of our kernel for the gradient of tf.relu (see gradients.ts). */
export const RELU_GRAD_KERNEL = 'CnnvizReluGrad';

/**
 * d/dx of relu(x) as tfjs defines it, dy * step(x) (step: 1 above 0, 0 at or below, NaN for
 * NaN), in one pass instead of a Step kernel that writes a full-size mask and a Multiply.
 */
export const reluGradConfig = elementwiseGrad(
  RELU_GRAD_KERNEL,
  (fast, _ops, p, n) => fast.reluGrad(p.x, p.dy, p.out, n),
  (g, x) => g * (x > 0 ? 1 : x !== x ? NaN : 0),
);
