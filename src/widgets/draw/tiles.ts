// The shared layout of the grid figures (filters, images, neighbours, patches, image
// grids): equal cells, captions under each cell sized to fit, optional row titles on the
// left, column groups with headers, and an optional title. Text is measured before the
// canvas is sized, so nothing is clipped.
import { Rgba } from './raster';
import { Sheet, fitText, measureText, FONT_SIZE, SMALL_FONT_SIZE } from './sheet';

export interface Tile {
  img: Rgba | null;
  /** caption lines under the cell */
  caption?: string[];
  /** colour of a frame drawn around the image (e.g. green correct, red wrong) */
  frame?: string;
  /** extra drawing on top of the image, given the image's top-left corner on the sheet */
  overlay?: (sheet: Sheet, imageX: number, imageY: number) => void;
}

export interface ColumnGroup {
  title: string;
  /** first column of the group, and how many */
  start: number;
  count: number;
}

export interface TileLayout {
  rows: Tile[][];
  /** cell size; defaults to the largest image */
  cellWidth?: number;
  cellHeight?: number;
  gap?: number;
  /** extra space before each column group after the first */
  groupGap?: number;
  groups?: ColumnGroup[];
  rowTitles?: string[];
  title?: string;
  captionSize?: number;
  /** width a caption may take beyond its cell (it still never overlaps the next cell) */
  background?: string;
  frameWidth?: number;
}

export interface TileGeometry {
  width: number;
  height: number;
  /** top-left of each cell's image */
  cells: { x: number; y: number }[][];
  cellWidth: number;
  cellHeight: number;
}

const PAD = 8;

export function layoutTiles(o: TileLayout): TileGeometry {
  const hasFrames = o.rows.some((r) => r.some((t) => t.frame));
  const fw = hasFrames ? (o.frameWidth ?? 3) : 0;
  const gap = Math.max(o.gap ?? 6, 2 * fw + 2);
  const groupGap = o.groupGap ?? 18;
  const capSize = o.captionSize ?? SMALL_FONT_SIZE;
  const nCols = Math.max(0, ...o.rows.map((r) => r.length));
  let cw = o.cellWidth ?? 0;
  let ch = o.cellHeight ?? 0;
  for (const row of o.rows)
    for (const t of row) {
      if (t.img) {
        cw = Math.max(cw, t.img.width);
        ch = Math.max(ch, t.img.height);
      }
    }
  cw = Math.max(cw, 1);
  ch = Math.max(ch, 1);
  // widen cells (up to 2.5x) so captions fit whole rather than end in an ellipsis
  let capWidth = 0;
  for (const t of o.rows.flat())
    for (const line of t.caption ?? []) capWidth = Math.max(capWidth, measureText(line, capSize));
  if (capWidth + 4 > cw) cw = Math.min(Math.ceil(capWidth + 4), Math.ceil(cw * 2.5));
  // caption space per row, so rows without captions (e.g. crops) take none
  const capHeights = o.rows.map((row) => {
    const lines = Math.max(0, ...row.map((t) => t.caption?.length ?? 0));
    return lines > 0 ? lines * (capSize + 4) + 2 + fw : 0;
  });
  const rowTitleWidth =
    o.rowTitles && o.rowTitles.length
      ? Math.ceil(Math.max(...o.rowTitles.map((t) => measureText(t, FONT_SIZE)))) + 10
      : 0;
  const titleHeight = o.title ? FONT_SIZE + 10 : 0;
  const groupHeight = o.groups && o.groups.length ? FONT_SIZE + 8 : 0;

  const groupStarts = new Set((o.groups ?? []).slice(1).map((g) => g.start));
  const colX: number[] = [];
  let x = PAD + rowTitleWidth;
  for (let c = 0; c < nCols; c++) {
    if (c > 0) x += gap + (groupStarts.has(c) ? groupGap : 0);
    colX.push(x);
    x += cw;
  }
  let width = x + PAD;
  // the title and group headers must fit too
  if (o.title) width = Math.max(width, Math.ceil(measureText(o.title, FONT_SIZE, true)) + 2 * PAD);
  const cells: { x: number; y: number }[][] = [];
  let y = PAD + titleHeight + groupHeight;
  for (let r = 0; r < o.rows.length; r++) {
    if (r > 0) y += gap;
    cells.push(o.rows[r].map((_, c) => ({ x: colX[c], y })));
    y += ch + capHeights[r];
  }
  return { width: Math.ceil(width), height: Math.ceil(y + PAD), cells, cellWidth: cw, cellHeight: ch };
}

export function drawTiles(o: TileLayout): { sheet: Sheet; geometry: TileGeometry } {
  const g = layoutTiles(o);
  const fw = o.rows.some((r) => r.some((t) => t.frame)) ? (o.frameWidth ?? 3) : 0;
  const sheet = new Sheet(g.width, g.height, o.background ?? '#ffffff');
  const capSize = o.captionSize ?? SMALL_FONT_SIZE;
  if (o.title) sheet.text(o.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  if (o.groups) {
    const top = PAD + (o.title ? FONT_SIZE + 10 : 0);
    for (const grp of o.groups) {
      const first = g.cells[0]?.[grp.start];
      const last = g.cells[0]?.[grp.start + grp.count - 1];
      if (!first || !last) continue;
      const span = last.x + g.cellWidth - first.x;
      const text = fitText(sheet, grp.title, span, FONT_SIZE);
      sheet.text(text, first.x + span / 2, top, { size: FONT_SIZE, align: 'center', bold: true });
    }
  }
  for (let r = 0; r < o.rows.length; r++) {
    const row = o.rows[r];
    if (o.rowTitles?.[r]) {
      sheet.text(o.rowTitles[r], PAD, g.cells[r][0]?.y + g.cellHeight / 2 || 0, {
        size: FONT_SIZE,
        baseline: 'middle',
      });
    }
    for (let c = 0; c < row.length; c++) {
      const t = row[c];
      const { x, y } = g.cells[r][c];
      if (t.img) {
        const ox = x + Math.floor((g.cellWidth - t.img.width) / 2);
        const oy = y + Math.floor((g.cellHeight - t.img.height) / 2);
        sheet.put(t.img, ox, oy);
        // frames sit just outside the image so no pixel of it is covered
        if (t.frame) sheet.box(ox - fw, oy - fw, t.img.width + 2 * fw, t.img.height + 2 * fw, t.frame, fw);
        if (t.overlay) t.overlay(sheet, ox, oy);
      }
      (t.caption ?? []).forEach((line, i) => {
        const text = fitText(sheet, line, g.cellWidth, capSize);
        sheet.text(text, x + g.cellWidth / 2, y + g.cellHeight + 3 + fw + i * (capSize + 4), {
          size: capSize,
          align: 'center',
        });
      });
    }
  }
  return { sheet, geometry: g };
}
