// Colormaps by name. Sequential maps look up a 256-entry table the way matplotlib does
// (index = floor(t * 256), clipped), so a value gives the same colour here and there.
// The diverging map interpolates the 11 ColorBrewer RdBu colours, reversed so negative
// is blue and positive red, exact at its control points (0, 0.1, ..., 1; white at 0.5).
import { VIRIDIS_HEX, INFERNO_HEX } from './colormap_data';
import { BY_WRAPPER, fail } from '../../common';

export type Rgb = [number, number, number];
export type ColormapName = 'viridis' | 'inferno' | 'rdbu' | 'gray';
export const COLORMAPS: readonly ColormapName[] = ['viridis', 'inferno', 'rdbu', 'gray'];

export interface Colormap {
  name: ColormapName;
  diverging: boolean;
  /** t in [0, 1] (clipped; NaN maps to 0) -> 8-bit RGB */
  (t: number): Rgb;
}

function parseTable(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** ColorBrewer RdBu, 11 classes, listed from red to blue as published. */
const RDBU_11 = [
  '#67001f',
  '#b2182b',
  '#d6604d',
  '#f4a582',
  '#fddbc7',
  '#f7f7f7',
  '#d1e5f0',
  '#92c5de',
  '#4393c3',
  '#2166ac',
  '#053061',
];

export function hexToRgb(hex: string): Rgb {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export function rgbToHex([r, g, b]: Rgb): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}

function clip01(t: number): number {
  if (!(t > 0)) return 0;
  return t > 1 ? 1 : t;
}

function listed(name: ColormapName, table: Uint8Array): Colormap {
  const n = table.length / 3;
  const f = ((t: number): Rgb => {
    const i = Math.min(n - 1, Math.floor(clip01(t) * n));
    return [table[i * 3], table[i * 3 + 1], table[i * 3 + 2]];
  }) as Colormap;
  Object.defineProperty(f, 'name', { value: name });
  f.diverging = false;
  return f;
}

function segmented(name: ColormapName, stops: Rgb[], diverging: boolean): Colormap {
  const segs = stops.length - 1;
  const f = ((t: number): Rgb => {
    const x = clip01(t) * segs;
    const i = Math.min(segs - 1, Math.floor(x));
    const u = x - i;
    const a = stops[i];
    const b = stops[i + 1];
    return [
      Math.round(a[0] + (b[0] - a[0]) * u),
      Math.round(a[1] + (b[1] - a[1]) * u),
      Math.round(a[2] + (b[2] - a[2]) * u),
    ];
  }) as Colormap;
  Object.defineProperty(f, 'name', { value: name });
  f.diverging = diverging;
  return f;
}

const cache = new Map<ColormapName, Colormap>();

export function colormap(name: ColormapName | Colormap): Colormap {
  if (typeof name === 'function') return name;
  const hit = cache.get(name);
  if (hit) return hit;
  let cm: Colormap;
  switch (name) {
    case 'viridis':
      cm = listed(name, parseTable(VIRIDIS_HEX));
      break;
    case 'inferno':
      cm = listed(name, parseTable(INFERNO_HEX));
      break;
    case 'rdbu':
      cm = segmented(name, RDBU_11.map(hexToRgb).reverse(), true);
      break;
    case 'gray':
      cm = segmented(
        name,
        [
          [0, 0, 0],
          [255, 255, 255],
        ],
        false,
      );
      break;
    default:
      fail(BY_WRAPPER, `unknown colormap '${String(name)}'; valid colormaps: ${COLORMAPS.join(', ')}`);
  }
  Object.defineProperty(cm, 'name', { value: name });
  cache.set(name, cm);
  return cm;
}
