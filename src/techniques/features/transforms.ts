/**
 * Transformation robustness (Olah et al. 2017; Lucid's `standard_transforms`): each step the network sees
 * the image padded, jittered, scaled and rotated at random, so the optimiser cannot win with a pattern
 * that works at one exact pixel position only (that pattern is the high-frequency noise of plain ascent).
 *
 * All four are one affine map, drawn by bilinear sampling. tfjs has no differentiable image warp, so the
 * map is done in two passes (Catmull & Smith): a resampling of every row, then of every column, each a
 * batched matrix product with small interpolation matrices. The gradient flows through the products.
 */
import * as tf from '@tensorflow/tfjs';

export interface RobustnessOptions {
  /** Border of constant grey around the image, in pixels at 128 px (Lucid: 12). */
  pad?: number;
  /** Largest random shift, pixels at 128 px (Lucid: 8 before scaling and rotating, then 4). */
  jitter?: number;
  /** Largest relative scale change (Lucid: 0.1, scales 0.9 ... 1.1). */
  scale?: number;
  /** Largest rotation in degrees (Lucid: 10). */
  rotate?: number;
}

export const LUCID_TRANSFORMS: Required<RobustnessOptions> = { pad: 12, jitter: 12, scale: 0.1, rotate: 10 };
export const NO_TRANSFORMS: Required<RobustnessOptions> = { pad: 0, jitter: 0, scale: 0, rotate: 0 };

/** One draw of the random map: where output pixel (X, Y) samples the input. */
export interface AffineDraw {
  /** Scale factor and rotation (radians). */
  scale: number;
  angle: number;
  /** Shift in input pixels. */
  dy: number;
  dx: number;
}

export function drawTransform(t: Required<RobustnessOptions>, size: number, rand: () => number): AffineDraw {
  const k = size / 128;
  const shift = () => Math.round((2 * rand() - 1) * t.jitter * k);
  return {
    scale: 1 + (2 * rand() - 1) * t.scale,
    angle: ((2 * rand() - 1) * t.rotate * Math.PI) / 180,
    dy: shift(),
    dx: shift(),
  };
}

/** Linear-interpolation weights of sampling position `pos` on a grid of n into row `row` of `m` (offset). */
function addSample(m: Float32Array, row: number, pos: number, n: number): void {
  const i0 = Math.floor(pos);
  const f = pos - i0;
  if (i0 >= 0 && i0 < n) m[row + i0] += 1 - f;
  if (i0 + 1 >= 0 && i0 + 1 < n && f > 0) m[row + i0 + 1] += f;
}

/**
 * The two pass matrices of a map from an input of size inH x inW to an output of outH x outW: output pixel
 * (X, Y) samples input (x, y) = A (X - cOut, Y - cOut) + cIn + shift, A = R(-angle) / scale.
 * Rows: [inH, outW, inW]; columns: [outW, outH, inH].
 */
export function passMatrices(
  d: AffineDraw,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): { rows: Float32Array; cols: Float32Array } {
  const cos = Math.cos(d.angle) / d.scale;
  const sin = Math.sin(d.angle) / d.scale;
  // x = p X + q Y + r ; y = s X + t Y + u
  const p = cos;
  const q = sin;
  const s = -sin;
  const t = cos;
  const cxo = (outW - 1) / 2;
  const cyo = (outH - 1) / 2;
  const r = -p * cxo - q * cyo + (inW - 1) / 2 + d.dx;
  const u = -s * cxo - t * cyo + (inH - 1) / 2 + d.dy;
  // Pass 1 along each input row yy: tmp(X, yy) = in(x~(X, yy), yy) with x~ = x at the Y where y = yy.
  const rows = new Float32Array(inH * outW * inW);
  for (let yy = 0; yy < inH; yy++)
    for (let X = 0; X < outW; X++)
      addSample(rows, (yy * outW + X) * inW, (p - (q * s) / t) * X + (q / t) * (yy - u) + r, inW);
  // Pass 2 along each output column X: out(X, Y) = tmp(X, y(X, Y)).
  const cols = new Float32Array(outW * outH * inH);
  for (let X = 0; X < outW; X++)
    for (let Y = 0; Y < outH; Y++) addSample(cols, (X * outH + Y) * inH, s * X + t * Y + u, inH);
  return { rows, cols };
}

/**
 * Images [n, H, W, c] drawn through the map into [n, outH, outW, c]; where the map falls outside the image
 * the output is `fill` (Lucid pads with 0.5 grey).
 */
export function affineSample(images: tf.Tensor4D, d: AffineDraw, outH: number, outW: number, fill = 0.5): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = images.shape;
    const { rows, cols } = passMatrices(d, h, w, outH, outW);
    const centred = tf.transpose(tf.sub(images, fill), [1, 2, 0, 3]).reshape([h, w, n * c]);
    const tmp = tf.matMul(tf.tensor3d(rows, [h, outW, w]), centred); // [h, outW, n c]
    const out = tf.matMul(tf.tensor3d(cols, [outW, outH, h]), tf.transpose(tmp, [1, 0, 2])); // [outW, outH, n c]
    return tf.add(tf.transpose(tf.reshape(out, [outW, outH, n, c]), [2, 1, 0, 3]), fill) as tf.Tensor4D;
  });
}
