/**
 * Drawing on canvases: the attribution panels use the very display rules of show.heatmap
 * (src/widgets/draw/attribution.ts, src/widgets/draw/colormap.ts), so a map looks the same in the page
 * and in a notebook; the activation grid follows the Deep Visualization Toolbox (every
 * channel a small gray map on one shared scale).
 */
import {
  composeMode,
  grayscale,
  HeatmapMode,
  HeatmapSign,
  normalizeAttribution,
} from '../src/widgets/draw/attribution';
import { colormap, ColormapName } from '../src/widgets/draw/colormap';

export interface Display {
  mode: HeatmapMode;
  sign: HeatmapSign;
  colormap: ColormapName;
  clip: number;
  alpha: number;
}

/** Puts RGBA bytes on a canvas at their own size (CSS scales it, pixelated). */
export function putRgba(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const img = ctx.createImageData(width, height);
  img.data.set(rgba);
  ctx.putImageData(img, 0, 0);
}

/** Pixels HWC in [0, 1] (1 or 3 channels) -> RGBA bytes. */
export function pixelsToRgba(pixels: Float32Array, width: number, height: number, channels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) out[i * 4 + k] = Math.round(255 * pixels[i * channels + (channels === 1 ? 0 : k)]);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** An attribution map [H * W] over its image, as show.heatmap draws it; returns the clipping threshold. */
export function drawAttribution(
  canvas: HTMLCanvasElement,
  values: Float32Array,
  image: Uint8ClampedArray,
  width: number,
  height: number,
  d: Display,
): number {
  const norm = normalizeAttribution(values, d.sign, d.clip);
  const bytes = composeMode(d.mode, {
    values: norm.values,
    sign: d.sign,
    width,
    height,
    colormap: colormap(d.colormap),
    alpha: d.alpha,
    base: d.mode === 'blended' ? grayscale(image) : image,
  });
  putRgba(canvas, bytes, width, height);
  return norm.threshold;
}

/** One channel of an activation map, coloured on its own range (0 at the bottom of the map). */
export function drawChannel(
  canvas: HTMLCanvasElement,
  data: Float32Array,
  height: number,
  width: number,
  channels: number,
  channel: number,
  cm: ColormapName,
): { min: number; max: number } {
  const n = height * width;
  const v = new Float32Array(n);
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < n; i++) {
    v[i] = data[i * channels + channel];
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
  }
  const lo = Math.min(0, min);
  const span = max - lo || 1;
  const map = colormap(cm);
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = map((v[i] - lo) / span);
    out.set([r, g, b, 255], i * 4);
  }
  putRgba(canvas, out, width, height);
  return { min, max };
}

export interface GridLayout {
  cols: number;
  rows: number;
  tileW: number;
  tileH: number;
  gap: number;
}

/** Tiles per row so the grid is about as wide as it is high. */
export function gridLayout(channels: number, height: number, width: number): GridLayout {
  const cols = Math.max(1, Math.ceil(Math.sqrt((channels * height) / width)));
  return { cols, rows: Math.ceil(channels / cols), tileW: width, tileH: height, gap: 1 };
}

/** Every channel as a gray tile on one scale (the layer's largest value is white), the selected one framed. */
export function drawGrid(
  canvas: HTMLCanvasElement,
  data: Float32Array,
  height: number,
  width: number,
  channels: number,
  selected: number,
): GridLayout {
  const g = gridLayout(channels, height, width);
  const W = g.cols * (width + g.gap) + g.gap;
  const H = g.rows * (height + g.gap) + g.gap;
  const out = new Uint8ClampedArray(W * H * 4);
  for (let p = 0; p < out.length; p += 4) out.set([40, 60, 90, 255], p);
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  const scale = max > 0 ? 255 / max : 0;
  for (let c = 0; c < channels; c++) {
    const x0 = g.gap + (c % g.cols) * (width + g.gap);
    const y0 = g.gap + Math.floor(c / g.cols) * (height + g.gap);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = Math.max(0, data[(y * width + x) * channels + c]) * scale;
        const p = ((y0 + y) * W + x0 + x) * 4;
        out[p] = out[p + 1] = out[p + 2] = v;
        out[p + 3] = 255;
      }
    }
  }
  if (selected >= 0 && selected < channels) {
    // the frame is the gap around the tile, in orange
    const x0 = (selected % g.cols) * (width + g.gap);
    const y0 = Math.floor(selected / g.cols) * (height + g.gap);
    for (let y = y0; y <= y0 + height + 1; y++) {
      for (let x = x0; x <= x0 + width + 1; x++) {
        if (y !== y0 && y !== y0 + height + 1 && x !== x0 && x !== x0 + width + 1) continue;
        out.set([255, 150, 0, 255], (y * W + x) * 4);
      }
    }
  }
  putRgba(canvas, out, W, H);
  return g;
}

/** The channel under a click on the grid canvas, or -1. */
export function channelAt(
  canvas: HTMLCanvasElement,
  g: GridLayout,
  channels: number,
  clientX: number,
  clientY: number,
): number {
  const r = canvas.getBoundingClientRect();
  const x = ((clientX - r.left) / r.width) * canvas.width;
  const y = ((clientY - r.top) / r.height) * canvas.height;
  const col = Math.floor((x - g.gap / 2) / (g.tileW + g.gap));
  const row = Math.floor((y - g.gap / 2) / (g.tileH + g.gap));
  const c = row * g.cols + col;
  return col >= 0 && col < g.cols && row >= 0 && c < channels ? c : -1;
}

/** Guided backprop as an image: 0 is mid-gray, the largest |value| reaches black or full colour (as in the toolbox). */
export function drawSignedImage(
  canvas: HTMLCanvasElement,
  g: Float32Array,
  width: number,
  height: number,
  channels: number,
): void {
  let m = 0;
  for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]));
  const s = m > 0 ? 0.5 / m : 0;
  const px = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) px[i] = 0.5 + g[i] * s;
  putRgba(canvas, pixelsToRgba(px, width, height, channels), width, height);
}
