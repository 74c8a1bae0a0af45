/**
 * Occlusion's grid (Zeiler & Fergus 2014): where the patch goes, the occluded copies of an image, and each pixel's
 * mean drop over the windows that cover it. Only tfjs is imported, so the explorer page bundles this same module.
 */
import * as tf from '@tensorflow/tfjs';

export interface OcclusionGrid {
  /** Top row of each row of positions, left column of each column of positions. */
  rows: Int32Array;
  cols: Int32Array;
  window: [number, number];
  stride: [number, number];
}

/** The default patch: a sixth of the shorter side, at least 1. */
export function defaultWindow(height: number, width: number): [number, number] {
  const side = Math.max(1, Math.round(Math.min(height, width) / 6));
  return [side, side];
}

/** The default step: a quarter of the window, at least 1. */
export function defaultStride(window: [number, number]): [number, number] {
  return [Math.max(1, Math.round(window[0] / 4)), Math.max(1, Math.round(window[1] / 4))];
}

/**
 * Where the grid's last window goes: 'flush' (default) adds one flush with the far edge when the strides stop short
 * of it, so every pixel is covered (Captum 0.7 covers the edge with a window at the next stride, cut short by the
 * border); 'none' is Zeiler & Fergus' grid, positions only while the window fits (the last rows and columns may stay
 * uncovered; the assignments ask for this one).
 */
export type OcclusionEdges = 'flush' | 'none';
export const OCCLUSION_EDGES: readonly OcclusionEdges[] = ['flush', 'none'];

/**
 * 0, stride, 2 stride, ... while the window fits, and (edges 'flush') a last window flush with the far edge when
 * those stop short of it: 224 px, window 37, stride 9 gives 0..180 and 187.
 */
function positions(size: number, window: number, stride: number, edges: OcclusionEdges): Int32Array {
  const n = Math.floor((size - window) / stride) + 1;
  const flush = edges === 'flush' && (n - 1) * stride + window < size;
  return Int32Array.from({ length: n + (flush ? 1 : 0) }, (_, i) => Math.min(i * stride, size - window));
}

/**
 * The positions of a `window` moved by `stride` over an image height x width (the window must fit), by default the
 * last flush with the bottom and right edges: every pixel is covered by at least one window.
 */
export function occlusionGrid(
  height: number,
  width: number,
  window: [number, number],
  stride: [number, number],
  edges: OcclusionEdges = 'flush',
): OcclusionGrid {
  return {
    rows: positions(height, window[0], stride[0], edges),
    cols: positions(width, window[1], stride[1], edges),
    window,
    stride,
  };
}

/** Top-left corner of position k (row-major). */
function corner(g: OcclusionGrid, k: number): [number, number] {
  return [g.rows[Math.floor(k / g.cols.length)], g.cols[k % g.cols.length]];
}

/**
 * Copies [start, start + count) of `image` [1, H, W, C] with the patch at their positions covered by `fill`
 * [1, H, W, C]: [count, H, W, C].
 */
export function occludedCopies(
  image: tf.Tensor4D,
  fill: tf.Tensor4D,
  g: OcclusionGrid,
  start: number,
  count: number,
): tf.Tensor4D {
  const [, h, w] = image.shape;
  const mask = new Float32Array(count * h * w);
  for (let k = 0; k < count; k++) {
    const [top, left] = corner(g, start + k);
    for (let y = top; y < top + g.window[0]; y++)
      mask.fill(1, k * h * w + y * w + left, k * h * w + y * w + left + g.window[1]);
  }
  return tf.tidy(() => {
    const m = tf.tensor4d(mask, [count, h, w, 1]);
    return tf.add(tf.mul(image, tf.sub(1, m)), tf.mul(fill, m)) as tf.Tensor4D;
  });
}

/**
 * Each pixel's mean drop over the windows covering it, [H * W], from the drops of the first `done` positions (all
 * of them by default); 0 where no window reached.
 */
export function pixelDrops(
  drops: ArrayLike<number>,
  g: OcclusionGrid,
  height: number,
  width: number,
  done = g.rows.length * g.cols.length,
): Float32Array {
  const sum = new Float32Array(height * width);
  const covered = new Float32Array(height * width);
  for (let k = 0; k < done; k++) {
    const [top, left] = corner(g, k);
    for (let y = top; y < top + g.window[0]; y++) {
      for (let x = left; x < left + g.window[1]; x++) {
        sum[y * width + x] += drops[k];
        covered[y * width + x]++;
      }
    }
  }
  return sum.map((s, p) => (covered[p] > 0 ? s / covered[p] : 0));
}
