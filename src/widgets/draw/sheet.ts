// A drawing surface for the PNG renderers: exact pixel blits (putImageData, no resampling)
// plus text with one registered font, so every machine draws the same labels.
import * as fs from 'fs';
import { createCanvas, GlobalFonts, Canvas, SKRSContext2D } from '@napi-rs/canvas';
import { Rgba } from './raster';
import { BY_WRAPPER, fail } from '../../common';

export const FONT_FAMILY = 'cnnviz-sans';

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/Library/Fonts/Arial.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

let fontReady = false;
/** Registers DejaVu Sans (or the first font found) under one family name, once. */
export function ensureFont(): void {
  if (fontReady) return;
  fontReady = true;
  const extra = process.env.CNNVIZ_FONT ? [process.env.CNNVIZ_FONT] : [];
  for (const path of [...extra, ...FONT_CANDIDATES]) {
    if (fs.existsSync(path) && GlobalFonts.registerFromPath(path, FONT_FAMILY)) return;
  }
}

export interface TextStyle {
  size?: number;
  color?: string;
  align?: 'left' | 'center' | 'right';
  bold?: boolean;
  /** y is the top of the text box (default) or its middle */
  baseline?: 'top' | 'middle';
}

export class Sheet {
  readonly canvas: Canvas;
  readonly ctx: SKRSContext2D;

  constructor(
    readonly width: number,
    readonly height: number,
    background = '#ffffff',
  ) {
    ensureFont();
    if (!(width >= 1 && height >= 1 && width <= 16384 && height <= 16384)) {
      fail(BY_WRAPPER, `figure size ${width}x${height} is out of range: each side must be 1..16384 px`);
    }
    this.canvas = createCanvas(Math.round(width), Math.round(height));
    this.ctx = this.canvas.getContext('2d');
    this.ctx.imageSmoothingEnabled = false;
    if (background !== 'transparent') {
      this.ctx.fillStyle = background;
      this.ctx.fillRect(0, 0, width, height);
    }
  }

  /** Copies pixels 1:1 (alpha included); no smoothing can happen. */
  put(img: Rgba, x: number, y: number): void {
    const data = this.ctx.createImageData(img.width, img.height);
    data.data.set(img.data);
    this.ctx.putImageData(data, Math.round(x), Math.round(y));
  }

  /** Source-over composite (for images with alpha over a background). */
  composite(img: Rgba, x: number, y: number): void {
    const tmp = createCanvas(img.width, img.height);
    const tctx = tmp.getContext('2d');
    const data = tctx.createImageData(img.width, img.height);
    data.data.set(img.data);
    tctx.putImageData(data, 0, 0);
    this.ctx.drawImage(tmp, Math.round(x), Math.round(y));
  }

  font(size: number, bold = false): string {
    return `${bold ? 'bold ' : ''}${size}px ${FONT_FAMILY}, sans-serif`;
  }

  textWidth(text: string, size: number, bold = false): number {
    this.ctx.font = this.font(size, bold);
    return this.ctx.measureText(text).width;
  }

  text(text: string, x: number, y: number, style: TextStyle = {}): void {
    const size = style.size ?? FONT_SIZE;
    this.ctx.font = this.font(size, style.bold);
    this.ctx.fillStyle = style.color ?? '#222222';
    this.ctx.textAlign = style.align ?? 'left';
    this.ctx.textBaseline = style.baseline === 'middle' ? 'middle' : 'top';
    this.ctx.fillText(text, x, y);
  }

  /** Outline drawn inside the rectangle so it never spills onto neighbours. */
  box(x: number, y: number, w: number, h: number, color: string, lineWidth = 2, dash?: number[]): void {
    this.ctx.save();
    this.ctx.strokeStyle = color;
    this.ctx.lineWidth = lineWidth;
    this.ctx.setLineDash(dash ?? []);
    const half = lineWidth / 2;
    this.ctx.strokeRect(x + half, y + half, Math.max(0, w - lineWidth), Math.max(0, h - lineWidth));
    this.ctx.restore();
  }

  fill(x: number, y: number, w: number, h: number, color: string): void {
    this.ctx.fillStyle = color;
    this.ctx.fillRect(x, y, w, h);
  }

  png(): Buffer {
    return this.canvas.encodeSync('png');
  }

  /** Lossy WebP: a chart's in-notebook fallback picture, about a third of the PNG's bytes. */
  webp(quality = 90): Buffer {
    return this.canvas.encodeSync('webp', quality);
  }
}

/** Label size chosen to stay readable on a projector at natural size. */
export const FONT_SIZE = 13;
export const SMALL_FONT_SIZE = 12;

/** Shortens text with an ellipsis until it fits maxWidth, so labels are never clipped. */
export function fitText(sheet: Sheet, text: string, maxWidth: number, size: number): string {
  if (sheet.textWidth(text, size) <= maxWidth) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sheet.textWidth(text.slice(0, mid) + '…', size) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : text.slice(0, lo) + '…';
}

/** Measuring needs a canvas; a 1x1 sheet is enough. */
let measurer: Sheet | null = null;
export function measureText(text: string, size = FONT_SIZE, bold = false): number {
  if (!measurer) measurer = new Sheet(1, 1);
  return measurer.textWidth(text, size, bold);
}
