// Helpers for the widget tests: decode a PNG to RGBA (through Skia, not our encoder path)
// and read its size from the IHDR chunk by hand.
import { createCanvas, loadImage } from '@napi-rs/canvas';

export interface Decoded {
  width: number;
  height: number;
  data: Uint8ClampedArray;
  at(x: number, y: number): [number, number, number, number];
}

export async function decodePng(png: Buffer): Promise<Decoded> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  return {
    width: img.width,
    height: img.height,
    data,
    at(x: number, y: number) {
      const i = (y * img.width + x) * 4;
      return [data[i], data[i + 1], data[i + 2], data[i + 3]];
    },
  };
}

/** Width and height from the PNG header (bytes 16..23), independent of any decoder. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const sig = '89504e470d0a1a0a';
  if (png.subarray(0, 8).toString('hex') !== sig || png.subarray(12, 16).toString('ascii') !== 'IHDR') {
    throw new Error('not a PNG');
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

export function hex(rgb: ArrayLike<number>): string {
  return '#' + [0, 1, 2].map((i) => rgb[i].toString(16).padStart(2, '0')).join('');
}

/** True when every pixel of a w x h block has the same RGBA. */
export function uniformBlock(d: Decoded, x: number, y: number, w: number, h: number): boolean {
  const first = d.at(x, y).join();
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) if (d.at(i, j).join() !== first) return false;
  return true;
}

/** True when a border `margin` px wide around the picture is all background (nothing clipped). */
export function cleanBorder(d: Decoded, margin = 2, bg = [255, 255, 255, 255]): boolean {
  for (let y = 0; y < d.height; y++) {
    for (let x = 0; x < d.width; x++) {
      if (x >= margin && y >= margin && x < d.width - margin && y < d.height - margin) continue;
      const p = d.at(x, y);
      if (p.some((v, k) => Math.abs(v - bg[k]) > 0)) return false;
    }
  }
  return true;
}
