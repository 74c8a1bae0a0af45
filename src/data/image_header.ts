import * as zlib from 'zlib';

/**
 * What an image file's header says, read before decoding: its format and size (so a file that
 * declares 30000x30000 pixels is refused before 3.6 GB of RGBA is made), and whether the file is
 * complete (a truncated PNG or JPEG decodes to grey or black where the data ends, without a word).
 */

/** Images with more pixels than this are refused before decoding unless the caller raises the limit (a 50 MP photo
 * is about 200 MB of RGBA and 600 MB as a float tensor). */
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

/** Why the bytes of a PNG or JPEG are not a whole file, or undefined when they are (other formats: undefined). */
export function truncation(b: Buffer, format: string): string | undefined {
  if (format === 'PNG') {
    // chunks: length, type, data, CRC; the file ends with IEND
    let p = 8;
    while (p + 8 <= b.length) {
      const len = b.readUInt32BE(p);
      const type = b.toString('latin1', p + 4, p + 8);
      if (p + 12 + len > b.length) return `its ${type} chunk is cut off after ${b.length - p - 8} of ${len} bytes`;
      if (type === 'IEND') return undefined;
      p += 12 + len;
    }
    return 'it ends before its IEND chunk';
  }
  if (format === 'JPEG') {
    // the end-of-image marker; inside the compressed data every 0xFF is followed by 0x00 or a restart marker,
    // so a file cut in its data has no FF D9 in its last bytes (some cameras pad after it: look at the last 4 KB)
    const from = Math.max(2, b.length - 4096);
    if (b.lastIndexOf(Buffer.from([0xff, 0xd9]), b.length) < from) return 'it has no end-of-image marker';
  }
  return undefined;
}

/**
 * A PNG whose chunks are whole but whose compressed data holds fewer rows than its header declares
 * (decoders fill the rest with black): inflated as a stream, counting and keeping nothing.
 * Undefined when whole (or interlaced, or not a PNG).
 */
export async function shortPngData(b: Buffer): Promise<string | undefined> {
  if (b.length < 33 || b.readUInt32BE(0) !== 0x89504e47 || b[28] !== 0) return undefined;
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[b[25]];
  if (!channels) return undefined;
  const expected = height * (1 + Math.ceil((width * channels * b[24]) / 8));
  const parts: Buffer[] = [];
  for (let p = 8; p + 12 <= b.length;) {
    const len = b.readUInt32BE(p);
    if (b.toString('latin1', p + 4, p + 8) === 'IDAT') parts.push(b.subarray(p + 8, p + 8 + len));
    p += 12 + len;
  }
  const got = await new Promise<number>((resolve) => {
    let n = 0;
    const inflate = zlib.createInflate();
    inflate.on('data', (c: Buffer) => {
      n += c.length;
      // more than declared is no shortage: stop counting
      if (n > expected) inflate.destroy();
    });
    inflate.on('close', () => resolve(n));
    inflate.on('error', () => resolve(n));
    inflate.end(Buffer.concat(parts));
  });
  return got < expected ? `its image data holds ${got} of ${expected} bytes` : undefined;
}
