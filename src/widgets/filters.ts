// render.filters: convolution kernels as a grid of small images (AlexNet's 64 conv1
// filters, 11x11x3), upscaled by whole pixels so 3x3 and 5x5 kernels stay crisp.
import { BY_WRAPPER, checkChoice, fail } from '../common';
import { colormap, ColormapName } from './draw/colormap';
import { Figure } from './figure';
import { isTensor } from './tensors';
import type { Tensor } from '@tensorflow/tfjs';
import { Rgba, scaleFor, toByte, upscale, valueRange } from './draw/raster';
import { drawTiles, Tile } from './draw/tiles';

/** Kernels laid out as [n, kh, kw, c], row-major. */
export interface FilterBank {
  n: number;
  kh: number;
  kw: number;
  c: number;
  data: ArrayLike<number>;
}

export interface FiltersOptions {
  /** 'filter': each kernel stretched to its own range (default); 'shared': one range for all */
  normalize?: 'filter' | 'shared';
  /** map 0 to mid-gray (symmetric range) instead of stretching min..max */
  zeroCentered?: boolean;
  /** 'auto' (RGB for 3 channels, gray for 1), 'rgb' or 'gray' */
  color?: 'auto' | 'rgb' | 'gray';
  /** which input channel to show when there are neither 1 nor 3 */
  channel?: number;
  /** colormap for single-channel kernels (default gray) */
  colormap?: ColormapName;
  cols?: number;
  /** integer upscaling; default makes each kernel at least 48 px */
  scale?: number;
  /** index under each kernel (default true) */
  labels?: boolean;
  /** show at most this many kernels */
  max?: number;
  title?: string;
}

export function filters(bank: FilterBank, o: FiltersOptions = {}): Figure {
  const { n, kh, kw, c, data } = bank;
  if (data.length !== n * kh * kw * c) {
    fail(
      BY_WRAPPER,
      `filter data has ${data.length} values; expected [n, kh, kw, c] = [${n}, ${kh}, ${kw}, ${c}] ` +
        `= ${n * kh * kw * c}`,
    );
  }
  const normalize = checkChoice(BY_WRAPPER, 'normalize', o.normalize ?? 'filter', ['filter', 'shared'] as const);
  const color = checkChoice(BY_WRAPPER, 'color', o.color ?? 'auto', ['auto', 'rgb', 'gray'] as const);
  const mode: 'rgb' | 'gray' = color === 'auto' ? (c === 3 ? 'rgb' : 'gray') : color;
  if (mode === 'rgb' && c !== 3) fail(BY_WRAPPER, `color 'rgb' needs 3 input channels; these kernels have ${c}`);
  let channel = o.channel;
  if (mode === 'gray' && c !== 1 && channel === undefined) {
    if (color === 'gray' && c === 3)
      channel = -1; // luminance of an RGB kernel
    else fail(BY_WRAPPER, `kernels have ${c} input channels; pass channel (0..${c - 1}) to show one of them`);
  }
  if (channel !== undefined && channel !== -1 && !(Number.isInteger(channel) && channel >= 0 && channel < c)) {
    fail(BY_WRAPPER, `channel ${channel} is out of range; valid: 0..${c - 1}`);
  }
  const count = Math.min(n, o.max ?? n);
  const size = kh * kw;
  // the values each kernel shows, as [kh*kw*(3|1)]
  const shown: Float32Array[] = [];
  for (let f = 0; f < count; f++) {
    const k = new Float32Array(size * (mode === 'rgb' ? 3 : 1));
    for (let p = 0; p < size; p++) {
      const base = (f * size + p) * c;
      if (mode === 'rgb') {
        k[p * 3] = data[base];
        k[p * 3 + 1] = data[base + 1];
        k[p * 3 + 2] = data[base + 2];
      } else if (channel === -1) k[p] = 0.299 * data[base] + 0.587 * data[base + 1] + 0.114 * data[base + 2];
      else k[p] = data[base + (channel ?? 0)];
    }
    shown.push(k);
  }
  const ranges = shown.map((k) => valueRange(k));
  const shared = {
    min: Math.min(...ranges.map((r) => r.min)),
    max: Math.max(...ranges.map((r) => r.max)),
  };
  const cm = colormap(o.colormap ?? 'gray');
  const scale = o.scale ?? scaleFor(kw, kh, 48);
  const tiles: Tile[] = shown.map((k, f) => {
    const r = normalize === 'shared' ? shared : ranges[f];
    const to01 = o.zeroCentered
      ? (
          (m) => (v: number) =>
            0.5 + v / (2 * m)
        )(Math.max(Math.abs(r.min), Math.abs(r.max)) || 1)
      : (v: number) => (r.max > r.min ? (v - r.min) / (r.max - r.min) : 0.5);
    const img = new Rgba(kw, kh);
    for (let p = 0; p < size; p++) {
      if (mode === 'rgb')
        img.set(
          p % kw,
          Math.floor(p / kw),
          toByte(to01(k[p * 3])),
          toByte(to01(k[p * 3 + 1])),
          toByte(to01(k[p * 3 + 2])),
        );
      else {
        const [rr, gg, bb] = cm(to01(k[p]));
        img.set(p % kw, Math.floor(p / kw), rr, gg, bb);
      }
    }
    return { img: upscale(img, scale), caption: o.labels === false ? undefined : [String(f)] };
  });
  const cols = o.cols ?? Math.ceil(Math.sqrt(count));
  const rows: Tile[][] = [];
  for (let i = 0; i < tiles.length; i += cols) rows.push(tiles.slice(i, i + cols));
  const { sheet, geometry } = drawTiles({ rows, title: o.title, gap: 4 });
  return new Figure({
    kind: 'filters',
    width: geometry.width,
    height: geometry.height,
    png: sheet.png(),
    text: `filters: ${count} kernels ${kh}x${kw}x${c} (${mode}, ${normalize} normalisation)`,
    info: { scale, cols, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight, cells: geometry.cells },
  });
}

/** show.filters: first-layer kernels [n, kh, kw, c] (firstLayerFilters' result) as a grid. */
export function showFilters(weights: Tensor | FilterBank, o: FiltersOptions = {}): Figure {
  let bank: FilterBank;
  if (isTensor(weights)) {
    if (weights.rank !== 4) fail(BY_WRAPPER, `filters must be [n, kh, kw, c]; got shape [${weights.shape.join(', ')}]`);
    const [n, kh, kw, c] = weights.shape;
    bank = { n, kh, kw, c, data: weights.dataSync() as Float32Array };
  } else bank = weights;
  return filters(bank, o);
}
