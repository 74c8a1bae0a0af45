// render.occlusion: the class probability for each occluder position, drawn in image
// coordinates beside the image (each pixel shows the value of the nearest window centre
// among the windows covering it), optionally over the image, with a colour bar marking the probability
// of the unoccluded image.
import { BY_WRAPPER, checkChoice, fail } from '../common';
import { formatValue } from './draw/attribution';
import { colormap, ColormapName } from './draw/colormap';
import { colorbarWidth, COLORBAR_MARGIN, ColorbarSpec, drawColorbar } from './draw/colorbar';
import { Figure } from './figure';
import { isTensor, toField, toPixels } from './tensors';
import type { Tensor } from '@tensorflow/tfjs';
import type { OcclusionResult } from '../techniques/attribution/occlusion';
import type { Field } from './field';
import { checkPixels, Pixels, Rgba, scaleFor, toRgba, upscale, valueRange } from './draw/raster';
import { FONT_SIZE, measureText, Sheet } from './draw/sheet';

export interface OcclusionInput {
  image: Pixels;
  /** one value per occluder position, rows x cols */
  map: Field;
  /** occluder size [h, w] (or one number) */
  window?: number | [number, number];
  /** step between positions [h, w]; with window, gives the positions when ys/xs are absent */
  stride?: number | [number, number];
  /** top-left row of the occluder for each map row, and column for each map column */
  ys?: number[];
  xs?: number[];
  /** the target's score on the unoccluded image */
  baseline?: number;
  /**
   * what the map holds, for the panel's title: 'probs' (a probability) or 'logits' (the score before the softmax);
   * unknown: 'score map'
   */
  output?: 'probs' | 'logits';
}

export interface OcclusionOptions {
  colormap?: ColormapName;
  /** colour range: 'data' (min..max of the map, default) or 'probability' (0..1) */
  range?: 'data' | 'probability';
  /** add a panel with the map blended over the image (default true) */
  overlay?: boolean;
  alpha?: number;
  scale?: number;
  size?: number;
  title?: string;
}

const PAD = 8;
const GAP = 8;
const UNCOVERED = [235, 235, 235];

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** Map value per image pixel (NaN where no occluder position covers the pixel). */
export function alignOcclusion(input: OcclusionInput): Float32Array {
  const { image, map } = input;
  const H = image.height;
  const W = image.width;
  const mh = map.height;
  const mw = map.width;
  if (map.data.length !== mh * mw)
    fail(BY_WRAPPER, `occlusion map has ${map.data.length} values; expected ${mh}x${mw}`);
  if (mh === H && mw === W && !input.ys && !input.window) return Float32Array.from(map.data);
  let ys = input.ys;
  let xs = input.xs;
  if (!ys || !xs) {
    if (input.window === undefined || input.stride === undefined) {
      fail(
        BY_WRAPPER,
        `a ${mh}x${mw} occlusion map on a ${H}x${W} image needs its positions: pass window and stride, or ys and ` +
          `xs (occlusion(model, image, { ..., details: true }) returns them with the map)`,
      );
    }
    const [sh, sw] = pair(input.stride);
    // occlusion()'s grid: every stride, the last window flush with the far edge (min is a no-op before it).
    const [fh, fw] = pair(input.window);
    ys = ys ?? Array.from({ length: mh }, (_, i) => Math.min(i * sh, H - fh));
    xs = xs ?? Array.from({ length: mw }, (_, j) => Math.min(j * sw, W - fw));
  }
  if (ys.length !== mh || xs.length !== mw) {
    fail(
      BY_WRAPPER,
      `positions ys (${ys.length}) and xs (${xs.length}) must match the map's ${mh} rows and ${mw} columns`,
    );
  }
  const [wh, ww] = pair(input.window ?? [1, 1]);
  const cy = ys.map((y) => y + (wh - 1) / 2);
  const cx = xs.map((x) => x + (ww - 1) / 2);
  // a pixel takes the value of the nearest window centre among the windows that cover it
  const nearest = (starts: number[], centres: number[], size: number, v: number): number => {
    let best = -1;
    let bd = Infinity;
    starts.forEach((s0, i) => {
      if (v < s0 || v >= s0 + size) return;
      const d = Math.abs(centres[i] - v);
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    return best;
  };
  const rowOf = Array.from({ length: H }, (_, y) => nearest(ys as number[], cy, wh, y));
  const colOf = Array.from({ length: W }, (_, x) => nearest(xs as number[], cx, ww, x));
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = rowOf[y];
      const j = colOf[x];
      out[y * W + x] = i < 0 || j < 0 ? NaN : map.data[i * mw + j];
    }
  }
  return out;
}

export function occlusion(input: OcclusionInput, o: OcclusionOptions = {}): Figure {
  checkPixels(input.image, 'occlusion image');
  const range = checkChoice(BY_WRAPPER, 'range', o.range ?? 'data', ['data', 'probability'] as const);
  const cm = colormap(o.colormap ?? 'viridis');
  const aligned = alignOcclusion(input);
  const r = range === 'probability' ? { min: 0, max: 1 } : valueRange(Array.from(input.map.data));
  const span = r.max > r.min ? r.max - r.min : 1;
  const { width: W, height: H } = input.image;
  const img = toRgba(input.image);
  const mapImg = new Rgba(W, H);
  const over = new Rgba(W, H);
  const a = o.alpha ?? 0.6;
  for (let p = 0; p < W * H; p++) {
    const v = aligned[p];
    const [cr, cg, cb] = Number.isNaN(v) ? UNCOVERED : cm((v - r.min) / span);
    mapImg.data.set([cr, cg, cb, 255], p * 4);
    const q = p * 4;
    const k = Number.isNaN(v) ? 0 : a;
    over.data.set(
      [
        Math.round((1 - k) * img.data[q] + k * cr),
        Math.round((1 - k) * img.data[q + 1] + k * cg),
        Math.round((1 - k) * img.data[q + 2] + k * cb),
        255,
      ],
      q,
    );
  }
  const output =
    input.output === undefined
      ? undefined
      : checkChoice(BY_WRAPPER, 'output', input.output, ['probs', 'logits'] as const);
  // Titled by what it draws: a logit map drawn under 'probability map' would misread every value.
  const mapTitle =
    output === 'logits' ? 'logit map' : output === 'probs' || range === 'probability' ? 'probability map' : 'score map';
  const panels = [
    { title: 'image', img },
    { title: mapTitle, img: mapImg },
  ];
  if (o.overlay ?? true) panels.push({ title: 'over the image', img: over });
  const scale = o.scale ?? scaleFor(W, H, o.size ?? 160);
  const pw = W * scale;
  const ph = H * scale;
  const ticks: ColorbarSpec['ticks'] = [
    { t: 0, label: formatValue(r.min) },
    { t: 1, label: formatValue(r.max) },
  ];
  if (input.baseline !== undefined) {
    ticks.push({
      t: Math.min(1, Math.max(0, (input.baseline - r.min) / span)),
      label: `unoccluded ${formatValue(input.baseline)}`,
      priority: 1,
    });
  }
  const bar = { colormap: cm, ticks };
  const titleH = o.title ? FONT_SIZE + 10 : 0;
  const headH = FONT_SIZE + 6;
  let width = PAD + panels.length * (pw + GAP) + colorbarWidth(bar) + PAD;
  if (o.title) width = Math.max(width, Math.ceil(measureText(o.title, FONT_SIZE, true)) + 2 * PAD);
  const height = PAD + titleH + headH + COLORBAR_MARGIN + ph + COLORBAR_MARGIN + PAD;
  const sheet = new Sheet(width, height);
  if (o.title) sheet.text(o.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  const y = PAD + titleH + headH + COLORBAR_MARGIN;
  panels.forEach((p, i) => {
    const x = PAD + i * (pw + GAP);
    sheet.text(p.title, x + pw / 2, PAD + titleH, { size: FONT_SIZE, align: 'center' });
    sheet.put(upscale(p.img, scale), x, y);
  });
  drawColorbar(sheet, bar, PAD + panels.length * (pw + GAP), y, ph);
  return new Figure({
    kind: 'occlusion',
    width,
    height,
    png: sheet.png(),
    text: `occlusion: ${input.map.height}x${input.map.width} positions on a ${H}x${W} image`,
    info: {
      scale,
      panelWidth: pw,
      panelHeight: ph,
      panelTop: y,
      panelLefts: panels.map((_, i) => PAD + i * (pw + GAP)),
      panelTitles: panels.map((p) => p.title),
    },
  });
}

/**
 * What show.occlusion takes: occlusion()'s result (its map, window positions and unoccluded
 * score; drop and the rest are not drawn), or a bare [rows, cols] map with the positions in the
 * options.
 */
export type OcclusionMap =
  | (Pick<OcclusionResult, 'map'> &
      Partial<Pick<OcclusionResult, 'rows' | 'cols' | 'window' | 'stride' | 'score' | 'output'>>)
  | Tensor;

export interface ShowOcclusionOptions
  extends OcclusionOptions, Partial<Pick<OcclusionInput, 'window' | 'stride' | 'ys' | 'xs' | 'baseline' | 'output'>> {}

/** A batch of one ([1, rows, cols]) as [rows, cols]; a larger batch is an error. */
function oneMap(t: Tensor): Field {
  if (t.rank === 3) {
    if (t.shape[0] !== 1)
      fail(
        BY_WRAPPER,
        `occlusion map has shape [${t.shape.join(', ')}]; show one image at a time ([rows, cols] or [1, rows, cols])`,
      );
    return { height: t.shape[1] as number, width: t.shape[2] as number, data: t.dataSync() as Float32Array };
  }
  return toField(t, 'occlusion map');
}

/** show.occlusion: the score map aligned under the windows, beside and over the image. */
export function showOcclusion(result: OcclusionMap, image: Tensor | Pixels, o: ShowOcclusionOptions = {}): Figure {
  const r = isTensor(result) ? { map: result } : result;
  if (!r || !isTensor(r.map))
    fail(
      BY_WRAPPER,
      "expected occlusion()'s result { map, rows, cols, window, stride, score } or a [rows, cols] tensor",
    );
  const input: OcclusionInput = {
    image: toPixels(image),
    map: oneMap(r.map),
    window: o.window ?? r.window,
    stride: o.stride ?? r.stride,
    ys: o.ys ?? (r.rows?.length ? Array.from(r.rows) : undefined),
    xs: o.xs ?? (r.cols?.length ? Array.from(r.cols) : undefined),
    baseline: o.baseline ?? r.score?.[0],
    output: o.output ?? r.output,
  };
  return occlusion(input, o);
}
