import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/** Split n into a*b with b as close to sqrt(n) as a divisor allows (b = 1 for primes). */
function squarish(n: number): [number, number] {
  for (let b = Math.floor(Math.sqrt(n)); b > 1; b--) if (n % b === 0) return [n / b, b];
  return [n, 1];
}

/**
 * A sum over the leading axes (every bias gradient, every broadcast in a gradient) makes the
 * built-in kernel transpose the whole tensor first. XNNPACK's average pooling reduces leading
 * axes in one pass instead: view x as one image [1, a, b, rest] and pool the whole of it.
 * Other reductions go to the built-in kernel.
 */
export const sumConfig: tf.KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    const n = leading ? tf.util.sizeFromShape(x.shape.slice(0, axes.length)) : 0;
    if (!leading || x.dtype !== 'float32' || n < 2) return ops.run('Sum', { x }, { axis, keepDims });
    const rest = x.shape.slice(axes.length);
    const [a, b] = squarish(n);
    const img = ops.reshape(x, [1, a, b, tf.util.sizeFromShape(rest)]);
    const mean = ops.run('AvgPool', { x: img }, { filterSize: [a, b], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined });
    const scale = ops.run('Fill', {}, { shape: [], value: n, dtype: 'float32' });
    const total = ops.multiply(mean, scale);
    const outShape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
    const out = ops.reshape(total, outShape);
    ops.free(img, mean, scale, total);
    return out;
  },
};
