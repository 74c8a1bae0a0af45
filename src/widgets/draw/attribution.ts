// From raw attribution values to display values, and the per-pixel rules of the four
// display modes. Pure functions on arrays, so a test can feed known numbers.
import { BY_WRAPPER, checkChoice, fail } from '../../common';
import { Colormap } from './colormap';

export type HeatmapMode = 'heat' | 'blended' | 'masked' | 'alpha';
export type HeatmapSign = 'positive' | 'negative' | 'absolute' | 'all';
export const HEATMAP_MODES: readonly HeatmapMode[] = ['heat', 'blended', 'masked', 'alpha'];
export const HEATMAP_SIGNS: readonly HeatmapSign[] = ['positive', 'negative', 'absolute', 'all'];

/** Linear-interpolated percentile (numpy's default), p in [0, 100]. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values)
    .filter((v) => !Number.isNaN(v))
    .sort();
  if (sorted.length === 0) return 0;
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface Normalized {
  /** in [0, 1], or [-1, 1] for sign 'all' */
  values: Float32Array;
  /** the magnitude that maps to full colour (values beyond it are clipped) */
  threshold: number;
  /** the largest magnitude before clipping */
  max: number;
}

/**
 * Keeps the chosen sign, then divides by the `clip` percentile of the magnitudes so a few
 * outliers do not wash the map out (Captum clips outliers the same way, by default at 98%).
 */
export function normalizeAttribution(raw: ArrayLike<number>, sign: HeatmapSign, clip: number): Normalized {
  checkChoice(BY_WRAPPER, 'sign', sign, HEATMAP_SIGNS);
  if (!(clip > 0 && clip <= 100)) fail(BY_WRAPPER, `clip percentile ${clip} must be in (0, 100]`);
  const n = raw.length;
  const kept = new Float32Array(n);
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = raw[i];
    const v =
      sign === 'positive'
        ? Math.max(x, 0)
        : sign === 'negative'
          ? Math.max(-x, 0)
          : sign === 'absolute'
            ? Math.abs(x)
            : x;
    kept[i] = Number.isFinite(v) ? v : 0;
    mag[i] = Math.abs(kept[i]);
  }
  let max = 0;
  for (let i = 0; i < n; i++) if (mag[i] > max) max = mag[i];
  let threshold = clip >= 100 ? max : percentile(mag, clip);
  if (!(threshold > 0)) threshold = max > 0 ? max : 1;
  const lo = sign === 'all' ? -1 : 0;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.min(1, Math.max(lo, kept[i] / threshold));
  return { values, threshold, max };
}

/** The colormap coordinate of a display value. */
export function colorCoordinate(v: number, sign: HeatmapSign): number {
  return sign === 'all' ? (v + 1) / 2 : v;
}

export interface ComposeInput {
  /** display values from normalizeAttribution, one per pixel */
  values: Float32Array;
  sign: HeatmapSign;
  width: number;
  height: number;
  colormap: Colormap;
  /** background RGBA bytes (the image), required except for 'heat' */
  base?: Uint8ClampedArray;
  /** weight of the heat colour in 'blended' */
  alpha: number;
}

/**
 * One panel's RGBA bytes:
 *  heat    colormap(t)
 *  blended round((1 - alpha) * base + alpha * colormap(t)) per channel
 *  masked  round(base * |v|)            (important pixels keep their colour, the rest go black)
 *  alpha   base colour with opacity round(255 * |v|)
 */
export function composeMode(mode: HeatmapMode, o: ComposeInput): Uint8ClampedArray {
  checkChoice(BY_WRAPPER, 'mode', mode, HEATMAP_MODES);
  const n = o.width * o.height;
  const out = new Uint8ClampedArray(n * 4);
  if (mode !== 'heat' && !o.base) fail(BY_WRAPPER, `mode '${mode}' needs the image; pass image, or use mode 'heat'`);
  const b = o.base as Uint8ClampedArray;
  for (let i = 0; i < n; i++) {
    const v = o.values[i];
    const p = i * 4;
    if (mode === 'heat' || mode === 'blended') {
      const [r, g, bl] = o.colormap(colorCoordinate(v, o.sign));
      if (mode === 'heat') {
        out[p] = r;
        out[p + 1] = g;
        out[p + 2] = bl;
      } else {
        const a = o.alpha;
        out[p] = Math.round((1 - a) * b[p] + a * r);
        out[p + 1] = Math.round((1 - a) * b[p + 1] + a * g);
        out[p + 2] = Math.round((1 - a) * b[p + 2] + a * bl);
      }
      out[p + 3] = 255;
    } else if (mode === 'masked') {
      const m = Math.abs(v);
      out[p] = Math.round(b[p] * m);
      out[p + 1] = Math.round(b[p + 1] * m);
      out[p + 2] = Math.round(b[p + 2] * m);
      out[p + 3] = 255;
    } else {
      out[p] = b[p];
      out[p + 1] = b[p + 1];
      out[p + 2] = b[p + 2];
      out[p + 3] = Math.round(255 * Math.abs(v));
    }
  }
  return out;
}

/** Luminance (ITU-R BT.601) as a gray RGBA background, the usual backdrop for a blend. */
export function grayscale(rgba: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  for (let p = 0; p < rgba.length; p += 4) {
    const y = Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]);
    out[p] = out[p + 1] = out[p + 2] = y;
    out[p + 3] = 255;
  }
  return out;
}

/** Short tick labels: 3 significant digits, exponent form for tiny or huge values. */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}
