// render.imageScatter and render.imageGrid: thumbnails drawn at their 2-D embedding
// positions, and snapped to a full grid (the t-SNE image grid), as one PNG whose size is
// chosen by the caller. Thumbnails are scaled by whole pixels only.
import { Figure } from './figure';
import { EmbeddingPoints, Images, LabelOptions, labelsOf, toNumbers, toPixelList, toPoints } from './tensors';
import type { GridLayoutResult } from '../techniques/embedding/grid_layout';
import { classColor } from './draw/palette';
import { Pixels, scaleFor, toRgba, upscale } from './draw/raster';
import { FONT_SIZE, measureText, Sheet } from './draw/sheet';
import { BY_WRAPPER, fail } from '../common';

export interface ImageScatterInput {
  points: ArrayLike<number>;
  thumbnails: Pixels[];
  labels?: ArrayLike<number>;
}

export interface ImageScatterOptions {
  /** side of the square picture in px (default 900) */
  size?: number;
  /** integer scale of each thumbnail (default 1, or 2 when few points) */
  thumbnailScale?: number;
  /** a class-coloured frame around each thumbnail (default: when labels are given) */
  frames?: boolean;
  title?: string;
  background?: string;
}

const PAD = 8;

export function imageScatter(input: ImageScatterInput, o: ImageScatterOptions = {}): Figure {
  const n = input.points.length / 2;
  if (input.thumbnails.length !== n) {
    fail(
      BY_WRAPPER,
      `imageScatter has ${n} points and ${input.thumbnails.length} thumbnails; expected one thumbnail per point`,
    );
  }
  const size = o.size ?? 900;
  const tw = Math.max(...input.thumbnails.map((t) => t.width));
  const th = Math.max(...input.thumbnails.map((t) => t.height));
  const s = o.thumbnailScale ?? (n <= 200 && tw * 2 * Math.sqrt(n) < size ? 2 : 1);
  const frames = (o.frames ?? input.labels !== undefined) && input.labels !== undefined;
  const fw = frames ? 2 : 0;
  const titleH = o.title ? FONT_SIZE + 10 : 0;
  const width = Math.max(size, o.title ? Math.ceil(measureText(o.title, FONT_SIZE, true)) + 2 * PAD : 0);
  const height = size + titleH;
  const sheet = new Sheet(width, height, o.background ?? '#ffffff');
  if (o.title) sheet.text(o.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  let xmin = Infinity,
    xmax = -Infinity,
    ymin = Infinity,
    ymax = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = input.points[2 * i];
    const y = input.points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xmin = Math.min(xmin, x);
    xmax = Math.max(xmax, x);
    ymin = Math.min(ymin, y);
    ymax = Math.max(ymax, y);
  }
  const spanX = xmax > xmin ? xmax - xmin : 1;
  const spanY = ymax > ymin ? ymax - ymin : 1;
  // thumbnails stay wholly inside: centres range over the picture less a thumbnail
  const innerW = size - tw * s - 2 * fw - 2 * PAD;
  const innerH = size - th * s - 2 * fw - 2 * PAD;
  let nClasses = 0;
  if (input.labels) for (let i = 0; i < n; i++) nClasses = Math.max(nClasses, input.labels[i] + 1);
  const placed: { x: number; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const x = input.points[2 * i];
    const y = input.points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      placed.push({ x: NaN, y: NaN });
      continue;
    }
    const left = Math.round(PAD + fw + ((x - xmin) / spanX) * innerW);
    const top = Math.round(titleH + PAD + fw + (1 - (y - ymin) / spanY) * innerH);
    const img = upscale(toRgba(input.thumbnails[i]), s);
    if (frames && input.labels)
      sheet.fill(left - fw, top - fw, img.width + 2 * fw, img.height + 2 * fw, classColor(input.labels[i], nClasses));
    sheet.put(img, left, top);
    placed.push({ x: left, y: top });
  }
  return new Figure({
    kind: 'imageScatter',
    width,
    height,
    png: sheet.png(),
    text: `imageScatter: ${n} thumbnails on ${width}x${height}`,
    info: { thumbnailScale: s, placed },
  });
}

export interface ImageGridInput {
  /** grid cell (row * cols + col) per point; -1 = not placed */
  cells: ArrayLike<number>;
  rows: number;
  cols: number;
  thumbnails: Pixels[];
  labels?: ArrayLike<number>;
}

export interface ImageGridOptions {
  /** target size of the longer side in px (default: 2x thumbnails up to 1000 px) */
  size?: number;
  thumbnailScale?: number;
  /** px between cells (default 1) */
  gap?: number;
  /** a class-coloured line under each thumbnail */
  frames?: boolean;
  title?: string;
  background?: string;
}

export function imageGrid(input: ImageGridInput, o: ImageGridOptions = {}): Figure {
  const { rows, cols, cells, thumbnails } = input;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
    fail(BY_WRAPPER, `grid of ${rows}x${cols} cells: rows and cols must be positive integers`);
  }
  if (cells.length !== thumbnails.length) {
    fail(
      BY_WRAPPER,
      `imageGrid has ${cells.length} cell assignments and ${thumbnails.length} thumbnails; expected one per point`,
    );
  }
  const tw = Math.max(...thumbnails.map((t) => t.width));
  const th = Math.max(...thumbnails.map((t) => t.height));
  const gap = o.gap ?? 1;
  const s =
    o.thumbnailScale ??
    (o.size
      ? Math.max(1, Math.floor((o.size - (Math.max(cols, rows) - 1) * gap) / Math.max(cols * tw, rows * th)))
      : Math.max(
          1,
          Math.min(scaleFor(tw, th, 2 * Math.max(tw, th)), Math.floor(1000 / Math.max(cols * tw, rows * th))),
        ));
  const cw = tw * s;
  const ch = th * s;
  const titleH = o.title ? FONT_SIZE + 10 : 0;
  const gridW = cols * cw + (cols - 1) * gap;
  const width = Math.max(gridW + 2 * PAD, o.title ? Math.ceil(measureText(o.title, FONT_SIZE, true)) + 2 * PAD : 0);
  const height = rows * ch + (rows - 1) * gap + 2 * PAD + titleH;
  const sheet = new Sheet(width, height, o.background ?? '#ffffff');
  if (o.title) sheet.text(o.title, PAD, PAD, { size: FONT_SIZE, bold: true });
  let nClasses = 0;
  if (input.labels) for (let i = 0; i < input.labels.length; i++) nClasses = Math.max(nClasses, input.labels[i] + 1);
  const taken = new Int32Array(rows * cols).fill(-1);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c < 0) continue;
    if (!(Number.isInteger(c) && c < rows * cols))
      fail(BY_WRAPPER, `cell ${c} of point ${i} is outside the ${rows}x${cols} grid (0..${rows * cols - 1}, or -1)`);
    if (taken[c] >= 0) fail(BY_WRAPPER, `points ${taken[c]} and ${i} share grid cell ${c}; each cell holds one point`);
    taken[c] = i;
    const x = PAD + (c % cols) * (cw + gap);
    const y = PAD + titleH + Math.floor(c / cols) * (ch + gap);
    sheet.put(upscale(toRgba(thumbnails[i]), s), x, y);
    if (o.frames && input.labels) sheet.fill(x, y + ch - 2, cw, 2, classColor(input.labels[i], nClasses));
  }
  return new Figure({
    kind: 'imageGrid',
    width,
    height,
    png: sheet.png(),
    text: `imageGrid: ${rows}x${cols} cells`,
    info: { thumbnailScale: s, cellWidth: cw, cellHeight: ch, gap, left: PAD, top: PAD + titleH },
  });
}

/** show.imageScatter: thumbnails drawn at their embedding positions. */
export function showImageScatter(
  embedding: EmbeddingPoints,
  imgs: Images,
  o: ImageScatterOptions & LabelOptions = {},
): Figure {
  return imageScatter({ points: toPoints(embedding), thumbnails: toPixelList(imgs), labels: labelsOf(o.labels) }, o);
}

/** A grid as show.imageGrid takes it: gridLayout's result, or any { cells, rows, cols }. */
export type GridCells = Pick<GridLayoutResult, 'rows' | 'cols'> & { cells: ArrayLike<number> };

/** show.imageGrid: thumbnails snapped to the cells of a grid. */
export function showImageGrid(grid: GridCells, imgs: Images, o: ImageGridOptions & LabelOptions = {}): Figure {
  if (!grid || typeof grid !== 'object' || !grid.cells)
    fail(BY_WRAPPER, "expected gridLayout()'s result { cells, rows, cols }");
  const cells = toNumbers(grid.cells, 'grid cells');
  return imageGrid(
    {
      cells: Int32Array.from(cells),
      rows: grid.rows,
      cols: grid.cols,
      thumbnails: toPixelList(imgs),
      labels: labelsOf(o.labels),
    },
    o,
  );
}
