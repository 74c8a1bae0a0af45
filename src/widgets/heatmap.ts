// render.heatmap: an attribution map over its image in the modes heat / blended / masked /
// alpha, one row per image, with a colour bar per row.
import {
  composeMode,
  formatValue,
  grayscale,
  HeatmapMode,
  HeatmapSign,
  HEATMAP_MODES,
  HEATMAP_SIGNS,
  normalizeAttribution,
} from './draw/attribution';
import { BY_WRAPPER, checkChoice, fail } from '../common';
import { Colormap, colormap, ColormapName } from './draw/colormap';
import { colorbarWidth, COLORBAR_MARGIN, ColorbarSpec, drawColorbar } from './draw/colorbar';
import type { Field } from './field';
import { Figure } from './figure';
import { Images, isTensor, toField, toPixelList, toPixels } from './tensors';
import type { Tensor } from '@tensorflow/tfjs';
import { checkPixels, Pixels, resampleField, Rgba, scaleFor, toRgba, upscale } from './draw/raster';
import { fitText, FONT_SIZE, measureText, Sheet } from './draw/sheet';

export type { Field } from './field';

export interface HeatmapItem {
  attribution: Field;
  image?: Pixels;
  /** row title, e.g. the class */
  label?: string;
}

export type ChannelReduce = 'sum' | 'maxAbs' | 'l2';

export interface HeatmapOptions {
  /** one mode or several side by side; default 'blended' with an image, 'heat' without */
  mode?: HeatmapMode | HeatmapMode[];
  /** default 'absolute'; 'all' keeps the sign and uses the diverging map */
  sign?: HeatmapSign;
  /** percentile of magnitudes that saturates the colours (default 99; 100 = no clipping) */
  clip?: number;
  /** default 'rdbu' for sign 'all', else 'inferno' */
  colormap?: ColormapName | Colormap;
  /** weight of the colour in 'blended' (default 0.5) */
  alpha?: number;
  /** backdrop of 'blended': the image in gray (default) or in colour */
  background?: 'gray' | 'color';
  /** how a multi-channel attribution becomes one value per pixel (default 'sum', keeps the sign) */
  reduce?: ChannelReduce;
  /** how a map smaller than its image is resized (default 'bilinear'; 'nearest' shows cells) */
  resample?: 'nearest' | 'bilinear';
  /** show the plain image first (default true when there is an image) */
  showImage?: boolean;
  colorbar?: boolean;
  /** integer upscaling (nearest neighbour); default makes the longer side >= `size` */
  scale?: number;
  /** target size of the longer side of a panel, default 160 px */
  size?: number;
  title?: string;
  /**
   * lay the rows out as a grid, this many per line, each row's label above its panels and without colour bars
   * (every map is stretched to its own range anyway): a slide-sized figure instead of a tall column of repeats
   */
  cols?: number;
}

const PAD = 8;
const GAP = 8;

export function reduceChannels(f: Field, how: ChannelReduce): Float32Array {
  const c = f.channels ?? 1;
  const n = f.width * f.height;
  if (f.data.length !== n * c) {
    fail(BY_WRAPPER, `attribution has ${f.data.length} values; expected ${f.height}x${f.width}x${c} = ${n * c}`);
  }
  const out = new Float32Array(n);
  if (c === 1) {
    for (let i = 0; i < n; i++) out[i] = f.data[i];
    return out;
  }
  checkChoice(BY_WRAPPER, 'reduce', how, ['sum', 'maxAbs', 'l2'] as const);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) {
      const v = f.data[i * c + k];
      if (how === 'sum') s += v;
      else if (how === 'l2') s += v * v;
      else if (Math.abs(v) > Math.abs(s)) s = v;
    }
    out[i] = how === 'l2' ? Math.sqrt(s) : how === 'maxAbs' ? Math.abs(s) : s;
  }
  return out;
}

/** An empty or all-NaN map draws as a blank or black panel without a word: refused, naming it. */
function checkMapValues(f: Field, what: string): void {
  if (!(f.width > 0 && f.height > 0) || f.data.length === 0)
    fail(BY_WRAPPER, `${what} is empty (${f.height}x${f.width}, ${f.data.length} values); expected a map with values`);
  let finite = 0;
  for (let i = 0; i < f.data.length && finite === 0; i++) if (Number.isFinite(f.data[i])) finite++;
  if (finite === 0)
    fail(
      BY_WRAPPER,
      `${what} has no finite value (all ${f.data.length} are NaN or infinite); the method that made it failed`,
    );
}

const MODE_TITLES: Record<HeatmapMode, string> = {
  heat: 'heat map',
  blended: 'blended',
  masked: 'masked',
  alpha: 'alpha',
};

export function heatmap(input: HeatmapItem | HeatmapItem[], o: HeatmapOptions = {}): Figure {
  const items = Array.isArray(input) ? input : [input];
  if (items.length === 0) fail(BY_WRAPPER, 'heatmap needs at least one attribution');
  const hasImage = items.every((it) => it.image);
  const modes = ([] as HeatmapMode[]).concat(o.mode ?? (hasImage ? 'blended' : 'heat'));
  modes.forEach((m) => checkChoice(BY_WRAPPER, 'mode', m, HEATMAP_MODES));
  const sign = checkChoice(BY_WRAPPER, 'sign', o.sign ?? 'absolute', HEATMAP_SIGNS);
  const cm = colormap(o.colormap ?? (sign === 'all' ? 'rdbu' : 'inferno'));
  const clip = o.clip ?? 99;
  const alpha = o.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) fail(BY_WRAPPER, `alpha ${alpha} must be in [0, 1]`);
  const background = checkChoice(BY_WRAPPER, 'background', o.background ?? 'gray', ['gray', 'color'] as const);
  const showImage = (o.showImage ?? true) && hasImage;
  const wantBar = (o.colorbar ?? true) && modes.some((m) => m === 'heat' || m === 'blended');

  // every row draws at the size of its image (or of its map when there is no image)
  const rows = items.map((it, r) => {
    if (it.image) checkPixels(it.image, `image ${r}`);
    checkMapValues(it.attribution, items.length > 1 ? `attribution ${r}` : 'attribution');
    const w = it.image ? it.image.width : it.attribution.width;
    const h = it.image ? it.image.height : it.attribution.height;
    const field = resampleField(
      reduceChannels(it.attribution, o.reduce ?? 'sum'),
      it.attribution.width,
      it.attribution.height,
      w,
      h,
      o.resample ?? 'bilinear',
    );
    const norm = normalizeAttribution(field, sign, clip);
    const imgRgba = it.image ? toRgba(it.image) : undefined;
    const base = imgRgba ? (background === 'gray' ? grayscale(imgRgba.data) : imgRgba.data) : undefined;
    const panels: { title: string; img: Rgba }[] = [];
    if (showImage && imgRgba) panels.push({ title: 'image', img: imgRgba });
    for (const m of modes) {
      const bytes = composeMode(m, {
        values: norm.values,
        sign,
        width: w,
        height: h,
        colormap: cm,
        alpha,
        base: m === 'blended' ? base : imgRgba?.data,
      });
      panels.push({ title: m === 'blended' ? `blended (α ${alpha})` : MODE_TITLES[m], img: new Rgba(w, h, bytes) });
    }
    const bar: ColorbarSpec = {
      colormap: cm,
      ticks:
        sign === 'all'
          ? [
              { t: 0, label: formatValue(-norm.threshold) },
              { t: 0.5, label: '0' },
              { t: 1, label: formatValue(norm.threshold) },
            ]
          : [
              { t: 0, label: '0' },
              { t: 1, label: (norm.max > norm.threshold ? '≥ ' : '') + formatValue(norm.threshold) },
            ],
    };
    return { w, h, panels, bar, threshold: norm.threshold, label: it.label };
  });

  const maxW = Math.max(...rows.map((r) => r.w));
  const maxH = Math.max(...rows.map((r) => r.h));
  const scale = o.scale ?? scaleFor(maxW, maxH, o.size ?? 160);
  if (o.cols !== undefined) {
    if (!Number.isInteger(o.cols) || o.cols < 1) fail(BY_WRAPPER, `cols ${o.cols} must be a whole number >= 1`);
    return gridFigure(rows, { cols: o.cols, scale, maxW, maxH, title: o.title, text: `sign ${sign}, clip ${clip}%` });
  }
  const panelW = maxW * scale;
  const panelH = maxH * scale;
  const nPanels = rows[0].panels.length;
  const labelW = rows.some((r) => r.label)
    ? Math.ceil(Math.max(...rows.map((r) => (r.label ? measureText(r.label, FONT_SIZE) : 0)))) + 10
    : 0;
  const barW = wantBar ? Math.max(...rows.map((r) => colorbarWidth(r.bar))) + GAP : 0;
  const titleH = o.title ? FONT_SIZE + 10 : 0;
  const headH = FONT_SIZE + 6;
  let width = PAD + labelW + nPanels * panelW + (nPanels - 1) * GAP + barW + PAD;
  if (o.title) width = Math.max(width, Math.ceil(measureText(o.title, FONT_SIZE, true)) + 2 * PAD);
  const rowH = panelH + 2 * COLORBAR_MARGIN;
  const height = PAD + titleH + headH + rows.length * rowH + (rows.length - 1) * GAP + PAD;

  const sheet = new Sheet(width, height);
  if (o.title) sheet.text(o.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  const x0 = PAD + labelW;
  rows[0].panels.forEach((p, i) => {
    const cx = x0 + i * (panelW + GAP) + panelW / 2;
    sheet.text(fitText(sheet, p.title, panelW + GAP, FONT_SIZE), cx, PAD + titleH, {
      size: FONT_SIZE,
      align: 'center',
    });
  });
  const placed: { x: number; y: number; width: number; height: number; title: string }[][] = [];
  rows.forEach((row, r) => {
    const y = PAD + titleH + headH + r * (rowH + GAP) + COLORBAR_MARGIN;
    placed.push([]);
    if (row.label) sheet.text(row.label, PAD, y + panelH / 2, { size: FONT_SIZE, baseline: 'middle' });
    const s = o.scale ?? scaleFor(row.w, row.h, o.size ?? 160);
    row.panels.forEach((p, i) => {
      const img = upscale(p.img, Math.min(s, Math.max(1, Math.floor(Math.min(panelW / row.w, panelH / row.h)))));
      const px = x0 + i * (panelW + GAP) + Math.floor((panelW - img.width) / 2);
      const py = y + Math.floor((panelH - img.height) / 2);
      placed[r].push({ x: px, y: py, width: img.width, height: img.height, title: p.title });
      if (p.img.data.some((_, k) => k % 4 === 3 && p.img.data[k] < 255)) {
        drawChecker(sheet, px, py, img.width, img.height);
        sheet.composite(img, px, py);
      } else {
        sheet.put(img, px, py);
      }
    });
    if (wantBar) drawColorbar(sheet, row.bar, x0 + nPanels * panelW + (nPanels - 1) * GAP + GAP, y, panelH);
  });
  return new Figure({
    kind: 'heatmap',
    width,
    height,
    png: sheet.png(),
    text: `heatmap: ${rows.length} row(s), ${modes.join('/')} (sign ${sign}, clip ${clip}%)`,
    info: { thresholds: rows.map((r) => r.threshold), scale, panelWidth: panelW, panelHeight: panelH, panels: placed },
  });
}

/** The rows as a grid, `cols` a line: each row's label over its panels (side by side), no colour bars. */
function gridFigure(
  rows: { w: number; h: number; panels: { title: string; img: Rgba }[]; threshold: number; label?: string }[],
  g: { cols: number; scale: number; maxW: number; maxH: number; title?: string; text: string },
): Figure {
  const cols = Math.min(g.cols, rows.length);
  const lines = Math.ceil(rows.length / cols);
  const panelW = g.maxW * g.scale;
  const panelH = g.maxH * g.scale;
  const nPanels = rows[0].panels.length;
  const cellW = nPanels * panelW + (nPanels - 1) * 2;
  const headH = FONT_SIZE + 6;
  const titleH = g.title ? FONT_SIZE + 10 : 0;
  let width = PAD + cols * cellW + (cols - 1) * GAP + PAD;
  if (g.title) width = Math.max(width, Math.ceil(measureText(g.title, FONT_SIZE, true)) + 2 * PAD);
  const height = PAD + titleH + lines * (headH + panelH) + (lines - 1) * GAP + PAD;
  const sheet = new Sheet(width, height);
  if (g.title) sheet.text(g.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  const placed: { x: number; y: number; width: number; height: number; title: string }[][] = [];
  rows.forEach((row, r) => {
    const x = PAD + (r % cols) * (cellW + GAP);
    const top = PAD + titleH + Math.floor(r / cols) * (headH + panelH + GAP);
    const head = row.label ?? (nPanels === 1 ? row.panels[0].title : '');
    if (head)
      sheet.text(fitText(sheet, head, cellW, FONT_SIZE), x + cellW / 2, top, { size: FONT_SIZE, align: 'center' });
    placed.push([]);
    row.panels.forEach((p, i) => {
      const img = upscale(p.img, Math.max(1, Math.floor(Math.min(panelW / row.w, panelH / row.h))));
      const px = x + i * (panelW + 2) + Math.floor((panelW - img.width) / 2);
      const py = top + headH + Math.floor((panelH - img.height) / 2);
      placed[r].push({ x: px, y: py, width: img.width, height: img.height, title: p.title });
      sheet.put(img, px, py);
    });
  });
  return new Figure({
    kind: 'heatmap',
    width,
    height,
    png: sheet.png(),
    text: `heatmap: ${rows.length} maps in a grid of ${cols} a line (${g.text})`,
    info: {
      thresholds: rows.map((r) => r.threshold),
      scale: g.scale,
      panelWidth: panelW,
      panelHeight: panelH,
      panels: placed,
    },
  });
}

/** A light checkerboard behind transparent pixels, so 'alpha' reads as transparency. */
function drawChecker(sheet: Sheet, x: number, y: number, w: number, h: number): void {
  const c = 8;
  for (let j = 0; j < h; j += c) {
    for (let i = 0; i < w; i += c) {
      sheet.fill(x + i, y + j, Math.min(c, w - i), Math.min(c, h - j), ((i + j) / c) % 2 === 0 ? '#ffffff' : '#e6e6e6');
    }
  }
}

export interface ShowHeatmapOptions extends HeatmapOptions {
  /** row titles (one per image) */
  labels?: string[];
}

/**
 * show.heatmap: an attribution (saliency, Grad-CAM, ...: [H, W] or [H, W, C], or a batch of
 * them) in one or more display modes, over its image when given.
 */
export function showHeatmap(
  attribution: Tensor | Field | (Tensor | Field)[],
  image?: Images | Pixels | null,
  o: ShowHeatmapOptions = {},
): Figure {
  // a batch is a [N, H, W, C] tensor or an array; a rank-3 tensor is one image
  const imgs = !image
    ? []
    : Array.isArray(image) || (isTensor(image) && image.rank === 4 && image.shape[0] > 1)
      ? toPixelList(image as Images, 'image')
      : [toPixels(image as Tensor | Pixels, 'image')];
  let fields: Field[];
  if (Array.isArray(attribution)) fields = attribution.map((a, i) => toField(a, `attribution[${i}]`));
  else if (isTensor(attribution) && imgs.length > 1) {
    if (attribution.rank < 3 || attribution.shape[0] !== imgs.length) {
      fail(
        BY_WRAPPER,
        `attribution has shape [${attribution.shape.join(', ')}] for ${imgs.length} images; expected ` +
          `[${imgs.length}, H, W] or [${imgs.length}, H, W, C]`,
      );
    }
    const data = attribution.dataSync() as Float32Array;
    const [n, h, w, c = 1] = attribution.shape;
    const size = h * w * c;
    fields = Array.from({ length: n }, (_, i) => ({
      height: h,
      width: w,
      channels: c,
      data: data.subarray(i * size, (i + 1) * size),
    }));
  } else fields = [toField(attribution as Tensor | Field)];
  if (imgs.length && imgs.length !== fields.length)
    fail(BY_WRAPPER, `${fields.length} attributions but ${imgs.length} images`);
  const items: HeatmapItem[] = fields.map((f, i) => ({ attribution: f, image: imgs[i], label: o.labels?.[i] }));
  return heatmap(items, o);
}
