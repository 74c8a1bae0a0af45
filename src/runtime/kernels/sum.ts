import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/** Split n into a*b with b as close to sqrt(n) as a divisor allows (b = 1 for primes). */
function squarish(n: number): [number, number] {
  for (let b = Math.floor(Math.sqrt(n)); b > 1; b--) if (n % b === 0) return [n / b, b];
  return [n, 1];
}

/**
 * Sum or Mean over the leading axes of a float32 tensor (every bias gradient, every broadcast
 * in a gradient, batch-norm moments) through XNNPACK's average pooling, viewing x as one image
 * [1, a, b, rest]; undefined for other reductions, which the built-in kernel does well.
 * The built-in kernel transposes the whole tensor first.
 */
function reduceLeading(
  ops: WasmOps,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  total: boolean,
): tf.TensorInfo | undefined {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const n = leading ? tf.util.sizeFromShape(x.shape.slice(0, axes.length)) : 0;
  if (!leading || x.dtype !== 'float32' || n < 2) return undefined;
  const rest = x.shape.slice(axes.length);
  const [a, b] = squarish(n);
  const img = ops.reshape(x, [1, a, b, tf.util.sizeFromShape(rest)]);
  const mean = ops.run(
    'AvgPool',
    { x: img },
    { filterSize: [a, b], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined },
  );
  let result = mean;
  if (total) {
    const scale = ops.run('Fill', {}, { shape: [], value: n, dtype: 'float32' });
    result = ops.multiply(mean, scale);
    ops.free(scale, mean);
  }
  const out = ops.reshape(result, keepDims ? [...axes.map(() => 1), ...rest] : rest);
  ops.free(img, result);
  return out;
}

function leadingReduction(name: 'Sum' | 'Mean'): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const ops = new WasmOps(backend as tf.KernelBackend);
      return reduceLeading(ops, x, axis, keepDims, name === 'Sum') ?? ops.run(name, { x }, { axis, keepDims });
    },
  };
}

export const sumConfig = leadingReduction('Sum');
export const meanConfig = leadingReduction('Mean');
