/**
 * Images that reach the explorer (samples, data-set images, uploads) become the exact pixels the
 * model sees, here on the node side, so the page and a notebook start from the same numbers: the
 * page receives a PNG at the model's input size and reads its bytes back unchanged.
 */
import { decodeImage } from '../data/images';
import { encodeRgbPng } from '../widgets/draw/png_encode';

/** Uploads larger than this are refused before decoding. */
export const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
/** Images with more pixels than this are refused before decoding (a 50 MP photo is about 200 MB of RGBA). */
export const MAX_PIXELS = 50e6;

export interface Dimensions {
  format: string;
  width: number;
  height: number;
}

/** Format and size from the file header (PNG, JPEG, GIF, WebP, BMP), or undefined when it is none of them. */
export function imageDimensions(b: Buffer): Dimensions | undefined {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47)
    return { format: 'PNG', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('ascii', 0, 3) === 'GIF')
    return { format: 'GIF', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 26 && b.toString('ascii', 0, 2) === 'BM')
    return { format: 'BMP', width: Math.abs(b.readInt32LE(18)), height: Math.abs(b.readInt32LE(22)) };
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    const kind = b.toString('ascii', 12, 16);
    if (kind === 'VP8X') return { format: 'WebP', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (kind === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { format: 'WebP', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    return { format: 'WebP', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // walk the JPEG segments to the first start-of-frame
    let p = 2;
    while (p + 9 < b.length) {
      if (b[p] !== 0xff) return undefined;
      const marker = b[p + 1];
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      const len = b.readUInt16BE(p + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { format: 'JPEG', height: b.readUInt16BE(p + 5), width: b.readUInt16BE(p + 7) };
      }
      p += 2 + len;
    }
    return { format: 'JPEG', width: 0, height: 0 };
  }
  return undefined;
}

export interface PreparedImage {
  /** RGB PNG at the model's input size */
  png: Buffer;
  /** RGBA at the model's input size (what the PNG holds) */
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  /** the file's own size and format */
  original: Dimensions;
}

/**
 * File bytes -> the model-sized image (centre-cropped to the model's aspect, as images.read's
 * default fit 'cover' makes it), or an Error that says what is wrong with the file.
 */
export async function prepareImage(
  bytes: Buffer,
  source: string,
  size: [number, number],
  caller = 'cnnviz explore',
): Promise<PreparedImage> {
  if (bytes.length === 0) throw new Error(`${caller}: '${source}' is empty`);
  if (bytes.length > MAX_UPLOAD_BYTES) {
    throw new Error(
      `${caller}: '${source}' is ${(bytes.length / 1e6).toFixed(1)} MB; images up ` +
        `to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB are accepted`,
    );
  }
  const dims = imageDimensions(bytes);
  if (!dims) throw new Error(`${caller}: '${source}' is not an image (valid: PNG, JPEG, GIF, WebP, BMP)`);
  if (dims.width * dims.height > MAX_PIXELS) {
    throw new Error(
      `${caller}: '${source}' is ${dims.width}x${dims.height} (${((dims.width * dims.height) / 1e6).toFixed(0)} ` +
        `megapixels); images up to ${MAX_PIXELS / 1e6} megapixels are accepted, scale it down first`,
    );
  }
  let img;
  try {
    img = await decodeImage(bytes, source, size, 'cover');
  } catch (err) {
    throw new Error(
      `${caller}: '${source}' looks like ${dims.format} but could not be decoded ` +
        `(${(err as Error).message.replace(/^images\.read: /, '')})`,
    );
  }
  return {
    png: encodeRgbPng(img.rgba, img.width, img.height),
    rgba: img.rgba,
    width: img.width,
    height: img.height,
    original: dims,
  };
}

/** Float pixels [H, W, C] in [0, 1] (C 1 or 3) -> RGB PNG. */
export function floatToPng(data: ArrayLike<number>, height: number, width: number, channels: number): Buffer {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = Math.round(255 * data[i * channels + (channels === 1 ? 0 : k)]);
    rgba[i * 4 + 3] = 255;
  }
  return encodeRgbPng(rgba, width, height);
}
