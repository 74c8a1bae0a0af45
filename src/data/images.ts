import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { createCanvas, loadImage } from '@napi-rs/canvas';

export interface ReadImageOptions {
  /** Resize to [height, width] (bilinear). Default: keep the file's size. */
  size?: [number, number];
  /** 1 = grayscale (luma), 3 = RGB (default). Alpha is composited over white. */
  channels?: 1 | 3;
}

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  rgba: Uint8ClampedArray;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp)$/i;

export function isImageFile(name: string): boolean {
  return IMAGE_EXT.test(name);
}

async function bytesOf(pathOrUrl: string): Promise<Buffer> {
  if (/^https?:\/\//i.test(pathOrUrl)) {
    let res: Response;
    try {
      res = await fetch(pathOrUrl);
    } catch (err) {
      throw new Error(`images.read: could not fetch ${pathOrUrl} (${(err as Error).message}); offline? give a local path instead`);
    }
    if (!res.ok) throw new Error(`images.read: ${pathOrUrl} answered HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
  const file = pathOrUrl.startsWith('file://') ? new URL(pathOrUrl).pathname : pathOrUrl;
  if (!fs.existsSync(file)) throw new Error(`images.read: no file at '${file}'`);
  if (fs.statSync(file).isDirectory()) throw new Error(`images.read: '${file}' is a folder, expected a PNG or JPEG file`);
  return fs.readFileSync(file);
}

/** Decode PNG/JPEG bytes to RGBA, optionally resized to [height, width]. */
export async function decodeImage(bytes: Buffer, source: string, size?: [number, number]): Promise<DecodedImage> {
  let img;
  try {
    img = await loadImage(bytes);
  } catch (err) {
    throw new Error(`images.read: '${source}' is not a readable PNG or JPEG (${(err as Error).message})`);
  }
  const [h, w] = size ?? [img.height, img.width];
  if (!(h > 0 && w > 0)) throw new Error(`images.read: bad size [${h}, ${w}] for '${source}'`);
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(img, 0, 0, w, h);
  return { width: w, height: h, rgba: ctx.getImageData(0, 0, w, h).data };
}

/** RGBA bytes -> float values in [0, 1] with 1 or 3 channels, written into `out` at `offset`. */
export function rgbaToFloat(img: DecodedImage, channels: 1 | 3, out: Float32Array, offset = 0): void {
  const n = img.width * img.height;
  const px = img.rgba;
  for (let i = 0; i < n; i++) {
    const r = px[4 * i], g = px[4 * i + 1], b = px[4 * i + 2];
    if (channels === 1) out[offset + i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[offset + 3 * i] = r / 255;
      out[offset + 3 * i + 1] = g / 255;
      out[offset + 3 * i + 2] = b / 255;
    }
  }
}

/** Read a PNG/JPEG file or URL into a Tensor3D [H, W, C] of float32 in [0, 1]. */
export async function read(pathOrUrl: string, opts: ReadImageOptions = {}): Promise<tf.Tensor3D> {
  const channels = opts.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new Error(`images.read: channels must be 1 or 3, got ${channels}`);
  const img = await decodeImage(await bytesOf(pathOrUrl), pathOrUrl, opts.size);
  const out = new Float32Array(img.width * img.height * channels);
  rgbaToFloat(img, channels, out);
  return tf.tensor3d(out, [img.height, img.width, channels]);
}
