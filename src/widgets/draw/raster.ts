import { BY_WRAPPER, InternalError, fail } from '../../common';
// Plain image data in and 8-bit RGBA out, with exact nearest-neighbour scaling.
// Renderers take `Pixels` (what a technique hands over once read from a tensor) so they
// can be tested without tfjs.

/** An image as plain numbers: row-major, channels interleaved (HWC), values in [0, 1]. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
}

export type Normalize = 'none' | 'minmax' | 'symmetric';

export class Rgba {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8ClampedArray,
  ) {
    this.data = data ?? new Uint8ClampedArray(width * height * 4);
    if (this.data.length !== width * height * 4) {
      throw new InternalError(`RGBA buffer of length ${this.data.length} does not match ${width}x${height}x4`);
    }
  }
  get(x: number, y: number): [number, number, number, number] {
    const i = (y * this.width + x) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2], this.data[i + 3]];
  }
  set(x: number, y: number, r: number, g: number, b: number, a = 255): void {
    const i = (y * this.width + x) * 4;
    this.data[i] = r;
    this.data[i + 1] = g;
    this.data[i + 2] = b;
    this.data[i + 3] = a;
  }
}

export function checkPixels(img: Pixels, what = 'image'): void {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    fail(BY_WRAPPER, `${what} has size ${width}x${height}; expected positive integer width and height`);
  }
  if (![1, 3, 4].includes(channels)) {
    fail(BY_WRAPPER, `${what} has ${channels} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)`);
  }
  if (data.length !== width * height * channels) {
    fail(
      BY_WRAPPER,
      `${what} data has ${data.length} values; expected ${height}x${width}x${channels} = ${width * height * channels}`,
    );
  }
}

/** Range of finite values, for min-max or symmetric normalisation. */
export function valueRange(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 0 };
  return { min, max };
}

/** Linear map from raw values to [0, 1]: minmax stretches, symmetric puts 0 at mid-gray. */
export function normalizer(norm: Normalize, range: { min: number; max: number }): (v: number) => number {
  if (norm === 'none') return (v) => v;
  if (norm === 'symmetric') {
    const m = Math.max(Math.abs(range.min), Math.abs(range.max)) || 1;
    return (v) => 0.5 + v / (2 * m);
  }
  const span = range.max - range.min;
  if (span === 0) return () => 0.5;
  return (v) => (v - range.min) / span;
}

export function toByte(v: number): number {
  if (!(v > 0)) return 0; // NaN -> 0 too
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

/** Pixels -> RGBA; gray replicates, 4-channel keeps its alpha. */
export function toRgba(img: Pixels, norm: Normalize = 'none', range?: { min: number; max: number }): Rgba {
  checkPixels(img);
  const f = normalizer(norm, range ?? (norm === 'none' ? { min: 0, max: 1 } : valueRange(img.data)));
  const out = new Rgba(img.width, img.height);
  const n = img.width * img.height;
  const c = img.channels;
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    if (c === 1) {
      const v = toByte(f(img.data[p]));
      out.data[o] = out.data[o + 1] = out.data[o + 2] = v;
      out.data[o + 3] = 255;
    } else {
      out.data[o] = toByte(f(img.data[p * c]));
      out.data[o + 1] = toByte(f(img.data[p * c + 1]));
      out.data[o + 2] = toByte(f(img.data[p * c + 2]));
      out.data[o + 3] = c === 4 ? toByte(img.data[p * c + 3]) : 255;
    }
  }
  return out;
}

/** Integer nearest-neighbour upscaling: every source pixel becomes an s x s block. */
export function upscale(img: Rgba, s: number): Rgba {
  if (!Number.isInteger(s) || s < 1) fail(BY_WRAPPER, `scale ${s} must be a positive integer`);
  if (s === 1) return img;
  const out = new Rgba(img.width * s, img.height * s);
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
  const dst = new Uint32Array(out.data.buffer);
  for (let y = 0; y < out.height; y++) {
    const sy = Math.floor(y / s) * img.width;
    const row = y * out.width;
    for (let x = 0; x < out.width; x++) dst[row + x] = src[sy + Math.floor(x / s)];
  }
  return out;
}

/** Nearest-neighbour resize to any size (pixel centres map to pixel centres). */
export function resizeNearest(img: Rgba, width: number, height: number): Rgba {
  if (width === img.width && height === img.height) return img;
  if (width % img.width === 0 && height % img.height === 0 && width / img.width === height / img.height) {
    return upscale(img, width / img.width);
  }
  const out = new Rgba(width, height);
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
  const dst = new Uint32Array(out.data.buffer);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width));
      dst[y * width + x] = src[sy * img.width + sx];
    }
  }
  return out;
}

/** Smallest integer factor that makes the longer side at least `target` px (never below 1). */
export function scaleFor(width: number, height: number, target: number): number {
  return Math.max(1, Math.ceil(target / Math.max(width, height)));
}

/** Scalar field resampling (for attribution maps smaller than their image). */
export function resampleField(
  field: Float32Array,
  fw: number,
  fh: number,
  width: number,
  height: number,
  mode: 'nearest' | 'bilinear',
): Float32Array {
  if (fw === width && fh === height) return field;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = ((y + 0.5) * fh) / height - 0.5;
    for (let x = 0; x < width; x++) {
      const fx = ((x + 0.5) * fw) / width - 0.5;
      if (mode === 'nearest') {
        const sx = Math.min(fw - 1, Math.max(0, Math.round(fx)));
        const sy = Math.min(fh - 1, Math.max(0, Math.round(fy)));
        out[y * width + x] = field[sy * fw + sx];
      } else {
        const x0 = Math.max(0, Math.min(fw - 1, Math.floor(fx)));
        const y0 = Math.max(0, Math.min(fh - 1, Math.floor(fy)));
        const x1 = Math.min(fw - 1, x0 + 1);
        const y1 = Math.min(fh - 1, y0 + 1);
        const tx = Math.max(0, Math.min(1, fx - x0));
        const ty = Math.max(0, Math.min(1, fy - y0));
        const top = field[y0 * fw + x0] * (1 - tx) + field[y0 * fw + x1] * tx;
        const bot = field[y1 * fw + x0] * (1 - tx) + field[y1 * fw + x1] * tx;
        out[y * width + x] = top * (1 - ty) + bot * ty;
      }
    }
  }
  return out;
}
