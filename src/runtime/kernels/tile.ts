import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/**
 * Tile where the repeated axes come first and have size 1 in x (the batch-norm gradient tiles
 * a per-channel [1,1,1,C] vector to the whole activation): the output is x's data repeated,
 * written with doubling memory copies. The built-in kernel computes an index per element and
 * is about a hundred times slower there; other tilings go to it.
 */
export const tileConfig: tf.KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { reps } = attrs as unknown as { reps: number[] };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const firstKept = reps.findIndex((r) => r === 1);
    const lead = firstKept === -1 ? reps.length : firstKept;
    const simple =
      x.dtype !== 'string' &&
      x.dtype !== 'complex64' &&
      reps.length === x.shape.length &&
      reps.every((r, i) => (i < lead ? x.shape[i] === 1 : r === 1));
    if (!simple) return ops.run('Tile', { x }, { reps });
    const outInfo = ops.empty(
      x.shape.map((s, i) => s * reps[i]),
      x.dtype,
    );
    const src = ops.backend.typedArrayFromHeap(x);
    const out = ops.backend.typedArrayFromHeap(outInfo);
    const n = src.length;
    if (out.length === 0) return outInfo;
    out.set(src);
    for (let filled = n; filled < out.length; filled *= 2)
      out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
    return outInfo;
  },
};
