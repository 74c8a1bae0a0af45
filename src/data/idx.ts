import * as zlib from 'zlib';
import { fail } from '../common';

/** An IDX array (the MNIST file format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/**
 * Parse an IDX file (optionally gzip-compressed). Checks the magic number, the element type,
 * the expected rank and that the payload holds exactly the number of items the header claims.
 */
export function parseIdx(buf: Uint8Array, opts: { rank: number; source?: string }): IdxArray {
  const source = opts.source ?? 'IDX data'; // a message names the file it is about, as the caller would
  let bytes = buf;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (err) {
      fail(source, `gzip data is corrupt or truncated (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4) fail(source, `${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(source, `not an IDX file (magic starts 0x${hex(bytes[0])}${hex(bytes[1])}, expected 0x0000)`);
  }
  if (bytes[2] !== UBYTE) {
    fail(source, `IDX element type 0x${hex(bytes[2])} is not supported (expected 0x08, unsigned byte)`);
  }
  const rank = bytes[3];
  if (rank !== opts.rank) {
    fail(source, `IDX rank ${rank}, expected ${opts.rank} (${opts.rank === 1 ? 'labels' : 'images'})`);
  }
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) fail(source, `truncated IDX header (${bytes.length} of ${headerLen} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const payload = bytes.length - headerLen;
  if (payload < expected) {
    fail(source, `truncated: header promises ${dims.join('x')} = ${expected} bytes of data, file has ${payload}`);
  }
  if (payload > expected) {
    fail(source, `${payload - expected} unexpected trailing bytes after ${dims.join('x')} items`);
  }
  return { dims, data: bytes.subarray(headerLen, headerLen + expected) };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Build an IDX file (used by tests and to write fixtures). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
