/**
 * Images that reach the explorer (samples, data-set images, uploads) become the exact pixels the
 * model sees, here on the node side, so the page and a notebook start from the same numbers: the
 * page receives a PNG at the model's input size and reads its bytes back unchanged.
 */
import { decodeImage } from '../data/images';
import { Dimensions, imageDimensions, MAX_PIXELS } from '../data/image_header';

export { imageDimensions, MAX_PIXELS } from '../data/image_header';
export type { Dimensions } from '../data/image_header';
import { encodeRgbPng } from '../widgets/draw/png_encode';
import { fail } from '../common';

/** Uploads larger than this are refused before decoding. */
export const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;

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
  if (bytes.length === 0) fail(caller, `'${source}' is empty`);
  if (bytes.length > MAX_UPLOAD_BYTES) {
    fail(
      caller,
      `'${source}' is ${(bytes.length / 1e6).toFixed(1)} MB; images up ` +
        `to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB are accepted`,
    );
  }
  const dims = imageDimensions(bytes);
  if (!dims) fail(caller, `'${source}' is not an image (valid: PNG, JPEG, GIF, WebP, BMP)`);
  if (dims.width * dims.height > MAX_PIXELS) {
    fail(
      caller,
      `'${source}' is ${dims.width}x${dims.height} (${((dims.width * dims.height) / 1e6).toFixed(0)} ` +
        `megapixels); images up to ${MAX_PIXELS / 1e6} megapixels are accepted, scale it down first`,
    );
  }
  let img;
  try {
    img = await decodeImage(bytes, source, size, 'cover');
  } catch (err) {
    const msg = (err as Error).message.replace(/^images\.read: /, '');
    if (msg.includes(' is a truncated ')) fail(caller, msg);
    fail(
      caller,
      `'${source}' looks like ${dims.format} but could not be decoded ` +
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
