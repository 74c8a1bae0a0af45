// render.patches: the top-k images for one channel with the receptive-field box drawn, and
// under each image its crop (the part of the field outside the image shown as padding).
import { formatValue } from './draw/attribution';
import { Figure } from './figure';
import { className, Images, LabelOptions, labelsOf, pickImages } from './tensors';
import type { ActivatingPatch } from '../techniques/features/patches';
import { checkPixels, Pixels, Rgba, scaleFor, toRgba, upscale } from './draw/raster';
import { drawTiles, Tile } from './draw/tiles';
import { BY_WRAPPER, fail } from '../common';

export interface PatchBox {
  /** rows top..bottom-1 and columns left..right-1, clipped to the image */
  top: number;
  left: number;
  bottom: number;
  right: number;
  /** how much of the field lies beyond each side of the image */
  padding?: { top: number; left: number; bottom: number; right: number };
}

export interface PatchItem {
  image: Pixels;
  box: PatchBox;
  /** image index in its dataset */
  index?: number;
  activation?: number;
  caption?: string[];
}

export interface PatchesOptions {
  cols?: number;
  scale?: number;
  size?: number;
  boxColor?: string;
  /** gray level of the receptive field beyond the image (default 0.5) */
  padValue?: number;
  title?: string;
}

export const BOX_COLOR = '#ffcc00';

/** The receptive field as an image, padding included (filled with padValue). */
export function cropField(img: Pixels, box: PatchBox, padValue = 0.5): Pixels {
  checkPixels(img);
  const p = box.padding ?? { top: 0, left: 0, bottom: 0, right: 0 };
  const h = box.bottom - box.top + p.top + p.bottom;
  const w = box.right - box.left + p.left + p.right;
  if (!(box.top >= 0 && box.left >= 0 && box.bottom <= img.height && box.right <= img.width && h > 0 && w > 0)) {
    fail(
      BY_WRAPPER,
      `box ${JSON.stringify(box)} does not fit a ${img.width}x${img.height} image (rows top..bottom-1, columns ` +
        `left..right-1)`,
    );
  }
  const c = img.channels;
  const data = new Float32Array(w * h * c).fill(padValue);
  if (c === 4) for (let i = 3; i < data.length; i += 4) data[i] = 1;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      const dst = ((y - box.top + p.top) * w + (x - box.left + p.left)) * c;
      const src = (y * img.width + x) * c;
      for (let k = 0; k < c; k++) data[dst + k] = img.data[src + k];
    }
  }
  return { width: w, height: h, channels: c, data };
}

export function patches(items: PatchItem[], o: PatchesOptions = {}): Figure {
  if (items.length === 0) fail(BY_WRAPPER, 'patches needs at least one item');
  const maxSide = Math.max(...items.map((it) => Math.max(it.image.width, it.image.height)));
  const scale = o.scale ?? scaleFor(maxSide, maxSide, o.size ?? 96);
  const cellSide = maxSide * scale;
  const color = o.boxColor ?? BOX_COLOR;
  const crops = items.map((it) => cropField(it.image, it.box, o.padValue ?? 0.5));
  const cols = o.cols ?? Math.min(items.length, 8);
  const rows: Tile[][] = [];
  const rowTitles: string[] = [];
  for (let start = 0; start < items.length; start += cols) {
    const chunk = items.slice(start, start + cols);
    rows.push(
      chunk.map((it) => {
        const img = upscale(toRgba(it.image), scale);
        const caption = it.caption ?? [
          ...(it.index !== undefined ? [`#${it.index}`] : []),
          ...(it.activation !== undefined ? [`act ${formatValue(it.activation)}`] : []),
        ];
        return {
          img,
          caption,
          overlay: (sheet, ox, oy) => {
            const b = it.box;
            sheet.box(
              ox + b.left * scale,
              oy + b.top * scale,
              (b.right - b.left) * scale,
              (b.bottom - b.top) * scale,
              color,
              2,
            );
          },
        } as Tile;
      }),
    );
    rows.push(
      chunk.map((_, j) => {
        const crop = crops[start + j];
        const s = Math.max(1, Math.floor(cellSide / Math.max(crop.width, crop.height)));
        return { img: upscale(toRgba(crop), s) };
      }),
    );
    rowTitles.push('image', 'field');
  }
  const { sheet, geometry } = drawTiles({ rows, rowTitles, title: o.title, cellWidth: cellSide, cellHeight: cellSide });
  return new Figure({
    kind: 'patches',
    width: geometry.width,
    height: geometry.height,
    png: sheet.png(),
    text: `patches: top ${items.length} with receptive fields`,
    info: { scale, cells: geometry.cells, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight },
  });
}

export type { Rgba };

/** A patch as show.patches takes it: topActivatingPatches' result (activation, y and x optional). */
export type PatchResult = Pick<ActivatingPatch, 'index'> &
  Partial<Pick<ActivatingPatch, 'activation' | 'y' | 'x'>> & { box: PatchBox };

/** show.patches: the top images of a unit with the receptive field of each maximum, and its crop. */
export function showPatches(dataset: Images, result: PatchResult[], o: PatchesOptions & LabelOptions = {}): Figure {
  if (!Array.isArray(result) || !result.every((r) => r && r.box && typeof r.index === 'number')) {
    fail(
      BY_WRAPPER,
      'expected topActivatingPatches output [{ index, activation, box: { top, left, bottom, right, padding } }]',
    );
  }
  const imgs = pickImages(
    dataset,
    result.map((r) => r.index),
    'images',
  );
  const labels = labelsOf(o.labels);
  return patches(
    result.map((r, i) => ({
      image: imgs[i],
      box: r.box,
      index: r.index,
      activation: r.activation,
      caption: labels
        ? [
            `#${r.index} ${className(o, labels[r.index])}`,
            ...(r.activation !== undefined ? [`act ${Number(r.activation.toPrecision(3))}`] : []),
          ]
        : undefined,
    })),
    o,
  );
}
