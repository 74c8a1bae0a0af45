/**
 * Superpixels for Kernel SHAP: a regular grid, or SLIC (Achanta et al. 2012), which grows compact
 * regions of similar colour so that a segment tends to follow an object's edges.
 */
import * as tf from '@tensorflow/tfjs';
import { fail, checkInt, shapeText } from '../../common';

export interface Segmentation {
  /** Segment of each pixel, row-major [H * W], values 0 .. count - 1. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

export type SegmentMethod = 'grid' | 'slic';
export const SEGMENT_METHODS: readonly SegmentMethod[] = ['grid', 'slic'];

export interface SegmentOptions {
  method?: SegmentMethod;
  /** About how many segments (default 16). */
  nSegments?: number;
  /** SLIC: weight of closeness against colour similarity (default 10; larger gives squarer segments). */
  compactness?: number;
  /** SLIC iterations (default 10). */
  iterations?: number;
}

/** rows x cols near-equal rectangles, about n in all, shaped like the image. */
export function gridSegments(h: number, w: number, n: number): Segmentation {
  const rows = Math.max(1, Math.min(h, Math.round(Math.sqrt((n * h) / w))));
  const cols = Math.max(1, Math.min(w, Math.round(n / rows)));
  const labels = new Int32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) labels[y * w + x] = Math.floor((y * rows) / h) * cols + Math.floor((x * cols) / w);
  return { labels, count: rows * cols, height: h, width: w };
}

/** sRGB in [0, 1] to CIELAB (D65), the space SLIC measures colour distance in. */
function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lin = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const X = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const Y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const Z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}

/** Colour features per pixel: Lab for RGB, 100 x value otherwise (same scale as L). */
function features(pixels: Float32Array, n: number, c: number): { data: Float64Array; dims: number } {
  const dims = c === 3 ? 3 : c;
  const data = new Float64Array(n * dims);
  for (let p = 0; p < n; p++) {
    if (c === 3) data.set(rgbToLab(pixels[p * 3], pixels[p * 3 + 1], pixels[p * 3 + 2]), p * 3);
    else for (let k = 0; k < c; k++) data[p * c + k] = 100 * pixels[p * c + k];
  }
  return { data, dims };
}

/** SLIC superpixels of an HWC image with values in [0, 1]; connected segments, numbered 0 .. count - 1. */
export function slicSegments(
  pixels: Float32Array,
  h: number,
  w: number,
  c: number,
  n = 16,
  compactness = 10,
  iterations = 10,
): Segmentation {
  const N = h * w;
  const { data, dims } = features(pixels, N, c);
  const S = Math.max(1, Math.sqrt(N / n));
  const ny = Math.max(1, Math.round(h / S));
  const nx = Math.max(1, Math.round(w / S));
  const K = ny * nx;
  const centers = new Float64Array(K * (dims + 2));
  const stride = dims + 2;
  const grad = (y: number, x: number) => {
    const at = (yy: number, xx: number) =>
      Math.min(N - 1, Math.max(0, Math.min(h - 1, Math.max(0, yy)) * w + Math.min(w - 1, Math.max(0, xx))));
    let g = 0;
    for (let k = 0; k < dims; k++)
      g +=
        (data[at(y + 1, x) * dims + k] - data[at(y - 1, x) * dims + k]) ** 2 +
        (data[at(y, x + 1) * dims + k] - data[at(y, x - 1) * dims + k]) ** 2;
    return g;
  };
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      let cy = Math.min(h - 1, Math.floor(((i + 0.5) * h) / ny));
      let cx = Math.min(w - 1, Math.floor(((j + 0.5) * w) / nx));
      // Start away from edges: the lowest-gradient pixel of the 3x3 neighbourhood.
      let best = grad(cy, cx);
      const [y0, x0] = [cy, cx];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y0 + dy;
          const xx = x0 + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const g = grad(yy, xx);
          if (g < best) [best, cy, cx] = [g, yy, xx];
        }
      const k = i * nx + j;
      for (let d = 0; d < dims; d++) centers[k * stride + d] = data[(cy * w + cx) * dims + d];
      centers[k * stride + dims] = cy;
      centers[k * stride + dims + 1] = cx;
    }
  }
  const labels = new Int32Array(N).fill(-1);
  const dist = new Float64Array(N);
  const spatial = (compactness / S) ** 2;
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    for (let k = 0; k < K; k++) {
      const cy = centers[k * stride + dims];
      const cx = centers[k * stride + dims + 1];
      for (let y = Math.max(0, Math.floor(cy - 2 * S)); y <= Math.min(h - 1, Math.ceil(cy + 2 * S)); y++) {
        for (let x = Math.max(0, Math.floor(cx - 2 * S)); x <= Math.min(w - 1, Math.ceil(cx + 2 * S)); x++) {
          const p = y * w + x;
          let d = spatial * ((y - cy) ** 2 + (x - cx) ** 2);
          for (let q = 0; q < dims; q++) d += (data[p * dims + q] - centers[k * stride + q]) ** 2;
          if (d < dist[p]) {
            dist[p] = d;
            labels[p] = k;
          }
        }
      }
    }
    const sums = new Float64Array(K * stride);
    const counts = new Float64Array(K);
    for (let p = 0; p < N; p++) {
      const k = labels[p];
      if (k < 0) continue;
      counts[k]++;
      for (let q = 0; q < dims; q++) sums[k * stride + q] += data[p * dims + q];
      sums[k * stride + dims] += Math.floor(p / w);
      sums[k * stride + dims + 1] += p % w;
    }
    for (let k = 0; k < K; k++)
      if (counts[k] > 0) for (let q = 0; q < stride; q++) centers[k * stride + q] = sums[k * stride + q] / counts[k];
  }
  return connectedRelabel(labels, h, w);
}

/**
 * Make every segment connected: keep the largest 4-connected piece of each cluster, give stray
 * pieces to the neighbouring kept segment they touch (breadth first), number from 0.
 */
function connectedRelabel(labels: Int32Array, h: number, w: number): Segmentation {
  const N = h * w;
  const component = new Int32Array(N).fill(-1);
  const queue = new Int32Array(N);
  const sizes: number[] = [];
  const owner: number[] = [];
  const neighbours = (p: number): number[] => {
    const y = Math.floor(p / w);
    const x = p % w;
    const out: number[] = [];
    if (y > 0) out.push(p - w);
    if (y < h - 1) out.push(p + w);
    if (x > 0) out.push(p - 1);
    if (x < w - 1) out.push(p + 1);
    return out;
  };
  for (let start = 0; start < N; start++) {
    if (component[start] >= 0) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    component[start] = id;
    while (head < tail) {
      for (const q of neighbours(queue[head++])) {
        if (component[q] < 0 && labels[q] === labels[start]) {
          component[q] = id;
          queue[tail++] = q;
        }
      }
    }
    sizes.push(tail);
    owner.push(labels[start]);
  }
  const largest = new Map<number, number>();
  sizes.forEach((size, id) => {
    const best = largest.get(owner[id]);
    if (best === undefined || size > sizes[best]) largest.set(owner[id], id);
  });
  const newId = new Map<number, number>();
  const out = new Int32Array(N).fill(-1);
  let head = 0;
  let tail = 0;
  for (let p = 0; p < N; p++) {
    const id = component[p];
    if (largest.get(owner[id]) !== id) continue;
    if (!newId.has(id)) newId.set(id, newId.size);
    out[p] = newId.get(id)!;
    queue[tail++] = p;
  }
  while (head < tail) {
    const p = queue[head++];
    for (const q of neighbours(p)) {
      if (out[q] < 0) {
        out[q] = out[p];
        queue[tail++] = q;
      }
    }
  }
  // Scan order numbering: the first pixel's segment is 0.
  const order = new Map<number, number>();
  for (let p = 0; p < N; p++) {
    if (!order.has(out[p])) order.set(out[p], order.size);
    out[p] = order.get(out[p])!;
  }
  return { labels: out, count: order.size, height: h, width: w };
}

/** Segments of one image [H, W, C] (values in [0, 1]) by grid or SLIC. */
export function segmentImage(
  pixels: Float32Array,
  [h, w, c]: [number, number, number],
  opts: SegmentOptions,
  caller = 'segments',
): Segmentation {
  const n = checkInt(caller, 'nSegments', opts.nSegments, { dflt: 16 });
  if (opts.method === undefined || opts.method === 'grid') return gridSegments(h, w, n);
  if (opts.method === 'slic')
    return slicSegments(
      pixels,
      h,
      w,
      c,
      n,
      opts.compactness ?? 10,
      checkInt(caller, 'iterations', opts.iterations, { dflt: 10 }),
    );
  return fail(
    caller,
    `unknown segments '${String(opts.method)}'; valid choices: ${SEGMENT_METHODS.join(', ')}, or an Int32Array of ` +
      `labels per pixel`,
  );
}

/** Public helper: segment an image tensor [H, W, C] (grid or SLIC) for display or for kernelShap. */
export function segments(image: tf.Tensor, opts: SegmentOptions = {}): Segmentation {
  if (!(image instanceof tf.Tensor))
    fail('segments', `expected one image [H, W, C] as a tf.Tensor, got ${typeof image}`);
  if (image.rank !== 3) fail('segments', `expected one image [H, W, C], got shape ${shapeText(image.shape)}`);
  const [h, w, c] = image.shape as [number, number, number];
  return segmentImage(image.dataSync() as Float32Array, [h, w, c], opts);
}

/** Checks user-given labels: one per pixel, whole numbers; renumbers them 0 .. count - 1. */
export function fromLabels(labels: ArrayLike<number>, h: number, w: number, caller: string): Segmentation {
  if (labels.length !== h * w)
    fail(caller, `segments has ${labels.length} labels; expected one per pixel (${h} x ${w} = ${h * w})`);
  const map = new Map<number, number>();
  const out = new Int32Array(h * w);
  for (let p = 0; p < labels.length; p++) {
    const v = labels[p];
    if (!Number.isInteger(v)) fail(caller, `segment label ${v} at pixel ${p} is not a whole number`);
    if (!map.has(v)) map.set(v, map.size);
    out[p] = map.get(v)!;
  }
  return { labels: out, count: map.size, height: h, width: w };
}
