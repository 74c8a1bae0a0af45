/** Gaussian blur of image batches, shared by class visualization and blurred baselines. */
import * as tf from '@tensorflow/tfjs';

/** 1-D Gaussian weights of radius ceil(3 sigma), summing to 1. */
export function gaussianKernel1d(sigma: number, maxRadius = Infinity): Float32Array {
  const radius = Math.max(0, Math.min(Math.ceil(3 * sigma), maxRadius));
  const k = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) total += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= total;
  return k;
}

/**
 * Blur each channel of [N, H, W, C] with a Gaussian of standard deviation `sigma` pixels,
 * reflecting at the border so edges keep their brightness. sigma <= 0 returns a copy.
 */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    if (!(sigma > 0)) return tf.clone(x);
    const [, h, w, c] = x.shape;
    // Reflection needs the pad to be smaller than the side.
    const k = gaussianKernel1d(sigma, Math.max(0, Math.min(h, w) - 1));
    const r = (k.length - 1) / 2;
    if (r === 0) return tf.clone(x);
    const tile = (shape: [number, number]) => tf.tile(tf.tensor4d(k, [...shape, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const padded = tf.mirrorPad(
      x,
      [
        [0, 0],
        [r, r],
        [r, r],
        [0, 0],
      ],
      'reflect',
    );
    const rows = tf.depthwiseConv2d(padded, tile([k.length, 1]), 1, 'valid');
    return tf.depthwiseConv2d(rows, tile([1, k.length]), 1, 'valid');
  });
}
