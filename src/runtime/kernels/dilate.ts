import * as tf from '@tensorflow/tfjs';
import { Pads2D, WasmOps } from './wasm_ops';

/**
 * Prepare an NHWC gradient dY for the transposed conv: put s-1 zeros between its rows and
 * columns (stride s of the forward pass), then pad so that a stride-1 conv with a k-tap filter
 * gives `outH` x `outW`. `before` is k-1 minus the forward pass's leading padding.
 * Returns the tensor (dy itself when nothing changed: free it only if it differs) and the
 * padding still to apply inside the conv (all >= 0).
 */
export function dilateAndPad(
  ops: WasmOps,
  dy: tf.TensorInfo,
  strides: [number, number],
  before: [number, number],
  kernel: [number, number],
  out: [number, number],
): { x: tf.TensorInfo; pads: Pads2D } {
  const [b, ho, wo, c] = dy.shape;
  const [sh, sw] = strides;
  let x = dy;
  if (sh > 1 || sw > 1) {
    const r = ops.reshape(dy, [b, ho, 1, wo, 1, c]);
    const p = ops.pad(r, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    x = ops.reshape(p, [b, ho * sh, wo * sw, c]);
    ops.free(r, p);
  }
  // A stride-1 conv with k taps maps length L + before + after to L + before + after - k + 1.
  const afterH = out[0] + kernel[0] - 1 - before[0] - ho * sh;
  const afterW = out[1] + kernel[1] - 1 - before[1] - wo * sw;
  const pads: Pads2D = [
    [before[0], afterH],
    [before[1], afterW],
  ];
  if (pads.every(([l, r]) => l >= 0 && r >= 0)) return { x, pads };
  const fixed = ops.padOrCrop(x, [[0, 0], pads[0], pads[1], [0, 0]]);
  if (x !== dy) ops.free(x);
  return {
    x: fixed,
    pads: [
      [0, 0],
      [0, 0],
    ],
  };
}
