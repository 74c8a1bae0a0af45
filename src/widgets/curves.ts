// render.curves: a few named curves y(x) on shared axes as a static PNG (deletion and insertion
// curves, correlations along a randomization cascade), so the picture survives in every front
// end, in HTML exports and on a slide, where a Plotly chart needs its script to draw.
import { formatValue } from './draw/attribution';
import { classColor } from './draw/palette';
import { FONT_SIZE, measureText, Sheet, SMALL_FONT_SIZE } from './draw/sheet';
import { niceTicks } from './draw/ticks';
import { Figure } from './figure';
import { BY_WRAPPER, fail } from '../common';

export interface Curve {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** draw it dashed (e.g. a baseline such as a random map) */
  dashed?: boolean;
}

export interface CurvesInput {
  curves: Curve[];
}

export interface CurvesOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** fixed y range [min, max] (default: the data's, with a margin) */
  yRange?: [number, number];
  /** category labels for the x values 0, 1, 2, ... (instead of numeric ticks), drawn slanted */
  xLabels?: string[];
  width?: number;
  height?: number;
}

function finiteRange(values: number[]): [number, number] {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return [0, 1];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const m = (hi - lo) * 0.04;
  return [lo - m, hi + m];
}

export function curves(input: CurvesInput, o: CurvesOptions = {}): Figure {
  const list = input?.curves;
  if (!Array.isArray(list) || list.length === 0) fail(BY_WRAPPER, 'expected { curves: [{ name, x, y }, ...] }');
  list.forEach((c, i) => {
    if (!c || typeof c.name !== 'string') fail(BY_WRAPPER, `curve ${i} needs a name`);
    if (!c.x || !c.y || c.x.length !== c.y.length || c.x.length < 2)
      fail(
        BY_WRAPPER,
        `curve '${c.name}': x and y need the same length, at least 2 (got ${c.x?.length}, ${c.y?.length})`,
      );
  });
  const width = o.width ?? 720;
  const height = o.height ?? 400;
  const xs = list.flatMap((c) => Array.from(c.x));
  const ys = list.flatMap((c) => Array.from(c.y));
  const [xmin, xmax] = o.xLabels ? [Math.min(...xs), Math.max(...xs)] : finiteRange(xs);
  const [ymin, ymax] = o.yRange ?? finiteRange(ys);
  if (!(ymax > ymin)) fail(BY_WRAPPER, `yRange [${o.yRange}] must have min < max`);
  const legendW = Math.ceil(Math.max(...list.map((c) => measureText(c.name, SMALL_FONT_SIZE)))) + 40;
  const yt = niceTicks(ymin, ymax, 6).filter((v) => v >= ymin && v <= ymax);
  const yLabelW = Math.ceil(Math.max(...yt.map((v) => measureText(formatValue(v), SMALL_FONT_SIZE))));
  // a slanted first category label reaches left of the plot: leave it room
  const firstLabel = o.xLabels?.[0] ? Math.ceil(measureText(o.xLabels[0], SMALL_FONT_SIZE) * 0.72) + 6 : 0;
  const left = Math.max(yLabelW + 16 + (o.yTitle ? SMALL_FONT_SIZE + 8 : 0), firstLabel);
  const top = o.title ? FONT_SIZE + 20 : 14;
  const labelH = o.xLabels ? Math.ceil(Math.max(...o.xLabels.map((s) => measureText(s, SMALL_FONT_SIZE)))) * 0.72 : 0;
  const bottom = 24 + labelH + (o.xTitle ? SMALL_FONT_SIZE + 10 : 0);
  const plotW = width - left - legendW - 12;
  const plotH = height - top - bottom;
  if (plotW < 60 || plotH < 60) fail(BY_WRAPPER, `a ${width}x${height} figure leaves no room for the plot`);
  const px = (x: number) => left + ((x - xmin) / (xmax - xmin || 1)) * plotW;
  const py = (y: number) => top + (1 - (y - ymin) / (ymax - ymin)) * plotH;
  const sheet = new Sheet(width, height);
  const ctx = sheet.ctx;
  if (o.title) sheet.text(o.title, width / 2, 10, { size: FONT_SIZE, bold: true, align: 'center' });
  for (const v of yt) {
    sheet.fill(left, Math.round(py(v)), plotW, 1, '#e6e6e6');
    sheet.text(formatValue(v), left - 6, py(v), { size: SMALL_FONT_SIZE, align: 'right', baseline: 'middle' });
  }
  sheet.box(left, top, plotW, plotH, '#888888', 1);
  /** Small text turned by `angle` about (x, y): the slanted x labels (grey, like their ticks) and the y title. */
  const turnedText = (
    color: string,
    text: string,
    x: number,
    y: number,
    angle: number,
    align: CanvasTextAlign,
    base: CanvasTextBaseline,
  ) => {
    ctx.save();
    ctx.font = sheet.font(SMALL_FONT_SIZE);
    ctx.fillStyle = color;
    ctx.textAlign = align;
    ctx.textBaseline = base;
    ctx.translate(x, y);
    ctx.rotate(angle);
    ctx.fillText(text, 0, 0);
    ctx.restore();
  };
  if (o.xLabels) {
    o.xLabels.forEach((s, i) => {
      if (i < xmin || i > xmax || !s) return;
      sheet.fill(Math.round(px(i)), top + plotH, 1, 4, '#888888');
      turnedText('#888888', s, px(i), top + plotH + 8, -Math.PI / 4, 'right', 'middle');
    });
  } else {
    for (const v of niceTicks(xmin, xmax, 8).filter((t) => t >= xmin && t <= xmax)) {
      sheet.fill(Math.round(px(v)), top + plotH, 1, 4, '#888888');
      sheet.text(formatValue(v), px(v), top + plotH + 6, { size: SMALL_FONT_SIZE, align: 'center' });
    }
  }
  if (o.xTitle)
    sheet.text(o.xTitle, left + plotW / 2, height - SMALL_FONT_SIZE - 6, { size: SMALL_FONT_SIZE, align: 'center' });
  if (o.yTitle) turnedText('#000000', o.yTitle, 6, top + plotH / 2, -Math.PI / 2, 'center', 'top');
  const colors = list.map((_, i) => classColor(i, list.length));
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, plotW, plotH);
  ctx.clip();
  list.forEach((c, i) => {
    ctx.strokeStyle = colors[i];
    ctx.lineWidth = 2;
    ctx.setLineDash(c.dashed ? [6, 4] : []);
    ctx.beginPath();
    let pen = false;
    for (let k = 0; k < c.x.length; k++) {
      if (!Number.isFinite(c.x[k]) || !Number.isFinite(c.y[k])) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(px(c.x[k]), py(c.y[k]));
      else ctx.moveTo(px(c.x[k]), py(c.y[k]));
      pen = true;
    }
    ctx.stroke();
  });
  ctx.restore();
  list.forEach((c, i) => {
    const y = top + 10 + i * (SMALL_FONT_SIZE + 8);
    const x = left + plotW + 12;
    ctx.strokeStyle = colors[i];
    ctx.lineWidth = 2;
    ctx.setLineDash(c.dashed ? [5, 3] : []);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 20, y);
    ctx.stroke();
    ctx.setLineDash([]);
    sheet.text(c.name, x + 26, y, { size: SMALL_FONT_SIZE, baseline: 'middle' });
  });
  return new Figure({
    kind: 'curves',
    width,
    height,
    png: sheet.png(),
    text: `curves: ${list.map((c) => c.name).join(', ')}`,
  });
}
