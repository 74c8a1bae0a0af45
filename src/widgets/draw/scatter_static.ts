// The static form of a scatter chart: fig.save('x.png'), and the picture inside the chart's HTML
// that shows where scripts do not run.
import { formatValue } from './attribution';
import type { ScatterInput, ScatterTrace } from '../scatter_types';
import { FONT_SIZE, measureText, Sheet, SMALL_FONT_SIZE } from './sheet';

export type StaticFormat = 'png' | 'webp';
import { niceTicks } from './ticks';

export function scatterPng(
  input: ScatterInput,
  traces: ScatterTrace[],
  o: { width: number; height: number; markerSize: number; title?: string },
  format: StaticFormat = 'png',
): Buffer {
  const legendW = Math.ceil(Math.max(0, ...traces.map((t) => measureText(t.name, SMALL_FONT_SIZE)))) + 30;
  const sheet = new Sheet(o.width, o.height);
  const top = o.title ? 34 : 14;
  let xmin = Infinity,
    xmax = -Infinity,
    ymin = Infinity,
    ymax = -Infinity;
  const p = input.points;
  for (let i = 0; i < p.length; i += 2) {
    if (!Number.isFinite(p[i]) || !Number.isFinite(p[i + 1])) continue;
    xmin = Math.min(xmin, p[i]);
    xmax = Math.max(xmax, p[i]);
    ymin = Math.min(ymin, p[i + 1]);
    ymax = Math.max(ymax, p[i + 1]);
  }
  if (!(xmax > xmin)) {
    xmin -= 1;
    xmax += 1;
  }
  if (!(ymax > ymin)) {
    ymin -= 1;
    ymax += 1;
  }
  const mx = (xmax - xmin) * 0.04;
  const my = (ymax - ymin) * 0.04;
  xmin -= mx;
  xmax += mx;
  ymin -= my;
  ymax += my;
  const xt = niceTicks(xmin, xmax, 6).filter((v) => v >= xmin && v <= xmax);
  const yt = niceTicks(ymin, ymax, 6).filter((v) => v >= ymin && v <= ymax);
  const left = Math.ceil(Math.max(...yt.map((v) => measureText(formatValue(v), SMALL_FONT_SIZE)))) + 16;
  const plotW = o.width - left - legendW - 16;
  const plotH = o.height - top - 36;
  const px = (x: number) => left + ((x - xmin) / (xmax - xmin)) * plotW;
  const py = (y: number) => top + (1 - (y - ymin) / (ymax - ymin)) * plotH;
  if (o.title) sheet.text(o.title, o.width / 2, 10, { size: FONT_SIZE, bold: true, align: 'center' });
  sheet.box(left, top, plotW, plotH, '#888888', 1);
  for (const v of xt) {
    sheet.fill(Math.round(px(v)), top + plotH, 1, 4, '#888888');
    sheet.text(formatValue(v), px(v), top + plotH + 6, { size: SMALL_FONT_SIZE, align: 'center' });
  }
  for (const v of yt) {
    sheet.fill(left - 4, Math.round(py(v)), 4, 1, '#888888');
    sheet.text(formatValue(v), left - 6, py(v), { size: SMALL_FONT_SIZE, align: 'right', baseline: 'middle' });
  }
  const r = o.markerSize / 2;
  for (const t of traces) {
    sheet.ctx.fillStyle = t.color;
    sheet.ctx.globalAlpha = 0.8;
    for (const i of t.members) {
      if (!Number.isFinite(p[2 * i]) || !Number.isFinite(p[2 * i + 1])) continue;
      sheet.ctx.beginPath();
      sheet.ctx.arc(px(p[2 * i]), py(p[2 * i + 1]), r, 0, 2 * Math.PI);
      sheet.ctx.fill();
    }
    sheet.ctx.globalAlpha = 1;
  }
  traces.forEach((t, k) => {
    const y = top + 8 + k * (SMALL_FONT_SIZE + 8);
    const x = left + plotW + 12;
    sheet.fill(x, y - 5, 10, 10, t.color);
    sheet.text(t.name, x + 16, y, { size: SMALL_FONT_SIZE, baseline: 'middle' });
  });
  return format === 'webp' ? sheet.webp() : sheet.png();
}
