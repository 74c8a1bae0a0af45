// A vertical colour bar with value labels, measured before drawing so labels fit.
import { Colormap } from './colormap';
import { Sheet, measureText, SMALL_FONT_SIZE } from './sheet';

export interface ColorbarSpec {
  colormap: Colormap;
  /** tick labels from bottom (t = 0) to top (t = 1), with their colormap coordinate */
  ticks: { t: number; label: string; priority?: number }[];
  caption?: string;
}

export const BAR_WIDTH = 14;

/** Width the bar and its labels need. */
export function colorbarWidth(spec: ColorbarSpec): number {
  const labels = Math.max(0, ...spec.ticks.map((k) => measureText(k.label, SMALL_FONT_SIZE)));
  const cap = spec.caption ? measureText(spec.caption, SMALL_FONT_SIZE) : 0;
  return Math.ceil(Math.max(BAR_WIDTH + 6 + labels, cap)) + 4;
}

/** Extra height above and below the bar for half a label line, so end labels are not clipped. */
export const COLORBAR_MARGIN = Math.ceil(SMALL_FONT_SIZE / 2) + 1;

/** Draws the bar with its top-left at (x, y) and the given bar height. */
export function drawColorbar(sheet: Sheet, spec: ColorbarSpec, x: number, y: number, height: number): void {
  const h = Math.max(2, Math.round(height));
  for (let row = 0; row < h; row++) {
    // top row is t = 1
    const t = h === 1 ? 1 : 1 - row / (h - 1);
    const [r, g, b] = spec.colormap(t);
    sheet.fill(x, y + row, BAR_WIDTH, 1, `rgb(${r},${g},${b})`);
  }
  sheet.box(x, y, BAR_WIDTH, h, '#444444', 1);
  for (const k of visibleTicks(spec, h)) {
    const ty = y + (1 - k.t) * (h - 1);
    sheet.fill(x + BAR_WIDTH, Math.round(ty), 4, 1, '#444444');
    sheet.text(k.label, x + BAR_WIDTH + 6, ty, { size: SMALL_FONT_SIZE, baseline: 'middle' });
  }
  if (spec.caption) {
    sheet.text(spec.caption, x, y + h + COLORBAR_MARGIN, { size: SMALL_FONT_SIZE });
  }
}

/** Ticks whose labels would overlap a tick of higher priority (or an earlier one) are left out. */
export function visibleTicks(spec: ColorbarSpec, height: number): ColorbarSpec['ticks'] {
  const order = spec.ticks
    .map((k, i) => ({ k, i }))
    .sort((a, b) => (b.k.priority ?? 0) - (a.k.priority ?? 0) || a.i - b.i);
  const kept: { t: number; label: string; priority?: number }[] = [];
  for (const { k } of order) {
    if (kept.every((q) => Math.abs(q.t - k.t) * (height - 1) >= SMALL_FONT_SIZE + 2)) kept.push(k);
  }
  return kept;
}
