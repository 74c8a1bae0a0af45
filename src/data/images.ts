import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { checkChoice, fail } from '../common';
import { readFileNamed } from '../common/files';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { entry, locate } from './store';
import { imageDimensions, MAX_PIXELS, shortPngData, truncation } from './image_header';
import { readUrl, UrlReadLimits } from './url_read';

/** How an image meets a size of another shape. */
export type Fit = 'cover' | 'contain' | 'fill';
export const FITS: readonly Fit[] = ['cover', 'contain', 'fill'];

export interface ReadImageOptions {
  /** Resize to [height, width] (or a square side). Default: keep the file's size. */
  size?: [number, number] | number;
  /**
   * When `size` has another aspect ratio: 'cover' (default) scales to cover it and crops the
   * centre, as a model's square input wants; 'contain' scales to fit inside and pads with grey;
   * 'fill' stretches.
   */
  fit?: Fit;
  /** 1 = grayscale (luma), 3 = RGB (default). Alpha is composited over white. */
  channels?: 1 | 3;
  /** pixels a file may declare (width x height, read from its header before decoding; default 50e6) */
  maxPixels?: number;
  /** a URL: bytes at most (default 40 MiB) */
  maxBytes?: number;
  /** a URL: ms to wait for the answer and for each piece of it (default 30,000) */
  timeoutMs?: number;
  /** a URL: stops the download */
  signal?: AbortSignal;
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

async function bytesOf(pathOrUrl: string, limits: UrlReadLimits = {}): Promise<Buffer> {
  if (/^https?:\/\//i.test(pathOrUrl)) return readUrl(pathOrUrl, 'images.read', limits);
  const file = pathOrUrl.startsWith('file://') ? new URL(pathOrUrl).pathname : pathOrUrl;
  if (!fs.existsSync(file)) fail('images.read', `no file at '${file}'`);
  if (fs.statSync(file).isDirectory()) fail('images.read', `'${file}' is a folder, expected a PNG or JPEG file`);
  return readFileNamed('images.read', file);
}

/**
 * Decode PNG/JPEG (GIF, WebP, BMP) bytes to RGBA, optionally resized to [height, width] with `fit`
 * (default 'fill'). The header is read first: no decoding for a file that is no image, declares more
 * than `maxPixels`, or is cut off.
 */
export async function decodeImage(
  bytes: Buffer,
  source: string,
  size?: [number, number],
  fit: Fit = 'fill',
  maxPixels = MAX_PIXELS,
): Promise<DecodedImage> {
  const dims = imageDimensions(bytes);
  if (!dims)
    fail('images.read', `'${source}' is not an image file (${bytes.length} bytes; valid: PNG, JPEG, GIF, WebP, BMP)`);
  if (dims.width * dims.height > maxPixels)
    fail(
      'images.read',
      `'${source}' declares ${dims.width}x${dims.height} pixels ` +
        `(${((dims.width * dims.height) / 1e6).toFixed(1)} megapixels); at most ${maxPixels / 1e6} megapixels are ` +
        `read (option maxPixels raises the limit)`,
    );
  const cut = truncation(bytes, dims.format) ?? (dims.format === 'PNG' ? await shortPngData(bytes) : undefined);
  if (cut) fail('images.read', `'${source}' is a truncated ${dims.format} file (${cut}); copy or download it again`);
  if (size) {
    const [h, w] = size;
    if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0))
      fail('images.read', `bad size [${h}, ${w}] for '${source}'; give positive integers [height, width]`);
    if (h * w > maxPixels)
      fail(
        'images.read',
        `size [${h}, ${w}] is ${((h * w) / 1e6).toFixed(1)} megapixels; at most ${maxPixels / 1e6} are ` +
          `made (option maxPixels raises the limit)`,
      );
  }
  let img;
  try {
    img = await loadImage(bytes);
  } catch (err) {
    fail('images.read', `'${source}' is not a readable PNG or JPEG (${(err as Error).message})`);
  }
  const [h, w] = size ?? [img.height, img.width];
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  if (fit === 'fill' || !size) ctx.drawImage(img, 0, 0, w, h);
  else {
    // cover: the largest centred part of the image with the target's aspect ratio; contain: all of it, centred on grey.
    const scale = fit === 'cover' ? Math.max(w / img.width, h / img.height) : Math.min(w / img.width, h / img.height);
    const dw = img.width * scale;
    const dh = img.height * scale;
    if (fit === 'contain') {
      ctx.fillStyle = '#808080';
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect((w - dw) / 2, (h - dh) / 2, dw, dh);
    }
    ctx.drawImage(img, (w - dw) / 2, (h - dh) / 2, dw, dh);
  }
  return { width: w, height: h, rgba: ctx.getImageData(0, 0, w, h).data };
}

/** RGBA bytes -> float values in [0, 1] with 1 or 3 channels, written into `out` at `offset`. */
export function rgbaToFloat(img: DecodedImage, channels: 1 | 3, out: Float32Array, offset = 0): void {
  const n = img.width * img.height;
  const px = img.rgba;
  for (let i = 0; i < n; i++) {
    const r = px[4 * i],
      g = px[4 * i + 1],
      b = px[4 * i + 2];
    if (channels === 1) out[offset + i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[offset + 3 * i] = r / 255;
      out[offset + 3 * i + 1] = g / 255;
      out[offset + 3 * i + 2] = b / 255;
    }
  }
}

function sizeOf(size: ReadImageOptions['size']): [number, number] | undefined {
  if (size === undefined) return undefined;
  if (typeof size === 'number') return [size, size];
  if (Array.isArray(size) && size.length === 2) return [size[0], size[1]];
  fail('images.read', `size must be [height, width] or one number for a square, got ${JSON.stringify(size)}`);
}

/**
 * Read a PNG/JPEG file or URL, or a sample photo by name (see `samples()`), into a Tensor3D
 * [H, W, C] of float32 in [0, 1].
 */
export async function read(pathOrUrl: string, opts: ReadImageOptions = {}): Promise<tf.Tensor3D> {
  const channels = opts.channels ?? 3;
  if (channels !== 1 && channels !== 3) fail('images.read', `channels must be 1 or 3, got ${channels}`);
  const fit = opts.fit ?? 'cover';
  checkChoice('images.read', 'fit', fit, FITS);
  if (typeof pathOrUrl !== 'string' || pathOrUrl.length === 0)
    fail('images.read', `expected a file path, URL or sample name, got ${JSON.stringify(pathOrUrl)}`);
  const limit = (name: 'maxPixels' | 'maxBytes' | 'timeoutMs', most: number) => {
    const v = opts[name];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= most))
      fail('images.read', `${name} must be a number above 0 and at most ${most}, got ${String(v)}`);
  };
  limit('maxPixels', 1e9);
  limit('maxBytes', 2 ** 31 - 1);
  limit('timeoutMs', 3.6e6);
  const file = SAMPLE_FILES[pathOrUrl] ? samplePath(pathOrUrl, 'images.read') : pathOrUrl;
  const bytes = await bytesOf(file, { maxBytes: opts.maxBytes, timeoutMs: opts.timeoutMs, signal: opts.signal });
  const img = await decodeImage(bytes, file, sizeOf(opts.size), fit, opts.maxPixels);
  const out = new Float32Array(img.width * img.height * channels);
  rgbaToFloat(img, channels, out);
  return tf.tensor3d(out, [img.height, img.width, channels]);
}

/** Sample photos by name: file in the data folder and what it shows. */
export const SAMPLE_FILES: Record<string, { file: string; shows: string; from: string }> = {
  dog: { file: 'dog.jpg', shows: 'a dog, a bicycle and a truck', from: 'darknet' },
  eagle: { file: 'eagle.jpg', shows: 'an eagle', from: 'darknet' },
  giraffe: { file: 'giraffe.jpg', shows: 'giraffes and a zebra', from: 'darknet' },
  horses: { file: 'horses.jpg', shows: 'horses', from: 'darknet' },
  kite: { file: 'kite.jpg', shows: 'people flying kites', from: 'darknet' },
  person: { file: 'person.jpg', shows: 'a person, a dog and a horse', from: 'darknet' },
  scream: { file: 'scream.jpg', shows: "Munch's The Scream", from: 'darknet' },
  cat: { file: 'chelsea.png', shows: 'Chelsea the cat (a tabby)', from: 'python3-skimage' },
  astronaut: { file: 'astronaut.png', shows: 'the astronaut Eileen Collins', from: 'python3-skimage' },
  coffee: { file: 'coffee.png', shows: 'a cup of coffee', from: 'python3-skimage' },
  rocket: { file: 'rocket.jpg', shows: 'a rocket on its launch pad', from: 'python3-skimage' },
  motorcycle: { file: 'motorcycle_left.png', shows: 'a motorcycle', from: 'python3-skimage' },
  camera: { file: 'camera.png', shows: 'the cameraman (a grey photo)', from: 'python3-skimage' },
};

function samplePath(name: string, caller: string): string {
  const s = SAMPLE_FILES[name];
  if (!s) fail(caller, `unknown sample '${name}'; samples: ${Object.keys(SAMPLE_FILES).join(', ')}`);
  return locate('photos', `photos/${s.file}`, caller);
}

/** The sample photos: name, what it shows, the Debian package it comes from, and whether it is in the data folder. */
export function samples(): Array<{ name: string; shows: string; from: string; file: string; present: boolean }> {
  const files = new Set(entry('photos').files.map((f) => f.path));
  return Object.entries(SAMPLE_FILES).map(([name, s]) => {
    let present = false;
    try {
      present = files.has(`photos/${s.file}`) && !!locate('photos', `photos/${s.file}`, 'images.samples');
    } catch {
      present = false;
    }
    return { name, shows: s.shows, from: s.from, file: s.file, present };
  });
}

/** A sample photo by name ('dog', 'cat', ...), as `read` gives it; `size` defaults to the file's. */
export async function sample(name: string, opts: ReadImageOptions = {}): Promise<tf.Tensor3D> {
  if (!SAMPLE_FILES[name])
    fail('images.sample', `unknown sample '${name}'; samples: ${Object.keys(SAMPLE_FILES).join(', ')}`);
  const file = samplePath(name, 'images.sample');
  return read(file, opts);
}
