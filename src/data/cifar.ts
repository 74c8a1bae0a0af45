/**
 * CIFAR-10 in its own binary format: each record is 1 label byte, then 1024 red, 1024 green and
 * 1024 blue bytes (32x32, row-major). Read from the data folder or mirror as plain `.bin`,
 * `.bin.gz`, or straight out of the official `cifar-10-binary.tar.gz`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { checkPlain, dataDir, locate, mirrorDir, readDataFile } from './store';
import type { RawDataset, Split } from './types';
import { fail } from '../common';

const CALLER = "datasets.load('cifar-10')";

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
export const CIFAR_RECORD = 1 + 32 * 32 * 3;
export const CIFAR_FOLDER = 'cifar-10-batches-bin';
export const CIFAR_ARCHIVE = 'cifar-10-binary.tar.gz';
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILES = ['test_batch.bin'];
/** Records in each official batch file. */
export const CIFAR_BATCH_RECORDS = 10000;

/** One batch file's records, checked: a whole number of records, and exactly `expected` of them when given. */
export interface CifarBatch {
  labels: Uint8Array;
  /** Planar bytes per record: R plane, G plane, B plane (1024 each). */
  pixels: Uint8Array;
  count: number;
}

export function parseCifar(bytes: Uint8Array, source: string, expected?: number): CifarBatch {
  const caller = "datasets.load('cifar-10')";
  if (bytes.length % CIFAR_RECORD !== 0) {
    fail(
      caller,
      `${source} has ${bytes.length} bytes, not a whole number of ${CIFAR_RECORD}-byte records ` +
        `(${Math.floor(bytes.length / CIFAR_RECORD)} whole records and ${bytes.length % CIFAR_RECORD} bytes over): ` +
        `truncated or not a CIFAR-10 binary batch`,
    );
  }
  const count = bytes.length / CIFAR_RECORD;
  if (expected !== undefined && count !== expected) {
    fail(caller, `${source} holds ${count} records, expected ${expected}: truncated or not a CIFAR-10 binary batch`);
  }
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * (CIFAR_RECORD - 1));
  for (let i = 0; i < count; i++) {
    const o = i * CIFAR_RECORD;
    const label = bytes[o];
    if (label > 9) fail(caller, `${source} record ${i} has label ${label}, outside 0..9: not a CIFAR-10 binary batch`);
    labels[i] = label;
    pixels.set(bytes.subarray(o + 1, o + CIFAR_RECORD), i * (CIFAR_RECORD - 1));
  }
  return { labels, pixels, count };
}

function gunzip(buf: Buffer, source: string): Buffer {
  try {
    return zlib.gunzipSync(buf);
  } catch (err) {
    fail(
      `datasets.load('cifar-10')`,
      `${source} is not a readable gzip file (${(err as Error).message}): truncated or corrupted`,
    );
  }
}

/** The files of a ustar archive by name (enough for the official CIFAR-10 tarball). */
export function untar(buf: Buffer, source: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let o = 0;
  while (o + 512 <= buf.length) {
    const header = buf.subarray(o, o + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    if (o + 512 + size > buf.length) {
      fail(`datasets.load('cifar-10')`, `${source} ends inside '${name}' (${size} bytes announced): truncated archive`);
    }
    if (type === '0') out.set(name, buf.subarray(o + 512, o + 512 + size));
    o += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const batchCache = new Map<string, CifarBatch>();
let archiveCache: { file: string; files: Map<string, Buffer> } | undefined;

/** One official batch: the manifest's `.bin.gz` (hash-checked), else a plain `.bin`, else the official archive. */
function readBatch(base: string): CifarBatch {
  const dirs = [dataDir(), mirrorDir()].filter((d): d is string => !!d);
  // In each folder in turn: the manifest's .bin.gz, a plain .bin, the official archive.
  let gz: string | undefined;
  let plain: string | undefined;
  let archive: string | undefined;
  for (const d of dirs) {
    const candidates = [
      path.join(d, CIFAR_FOLDER, base + '.gz'),
      path.join(d, CIFAR_FOLDER, base),
      path.join(d, CIFAR_ARCHIVE),
    ];
    const i = candidates.findIndex((p) => fs.existsSync(p));
    if (i === 0) gz = candidates[0];
    if (i === 1) plain = candidates[1];
    if (i === 2) archive = candidates[2];
    if (i >= 0) break;
  }
  const source = gz ?? plain ?? archive;
  const st = source ? fs.statSync(source) : undefined;
  // a file rewritten in place with its modification time restored still changes inode or ctime
  const key = st ? `${source}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}|${base}` : base;
  const hit = batchCache.get(key);
  if (hit) return hit;
  let batch: CifarBatch | undefined;
  if (gz) {
    const file = locate('cifar-10', `${CIFAR_FOLDER}/${base}.gz`, CALLER);
    batch = parseCifar(gunzip(readDataFile(file, CALLER), file), file, CIFAR_BATCH_RECORDS);
  } else if (plain) {
    // not itself in the manifest: checked against the content hash of its .gz
    checkPlain('cifar-10', `${CIFAR_FOLDER}/${base}.gz`, plain, CALLER);
    batch = parseCifar(readDataFile(plain, CALLER), plain, CIFAR_BATCH_RECORDS);
  } else if (archive) {
    if (!archiveCache || archiveCache.file !== archive)
      archiveCache = { file: archive, files: untar(gunzip(fs.readFileSync(archive), archive), archive) };
    const member = archiveCache.files.get(`${CIFAR_FOLDER}/${base}`);
    if (!member) fail(`datasets.load('cifar-10')`, `${archive} has no member ${CIFAR_FOLDER}/${base}`);
    batch = parseCifar(member, `${archive}:${base}`, CIFAR_BATCH_RECORDS);
  } else {
    fail(
      `datasets.load('cifar-10')`,
      `${CIFAR_FOLDER}/${base}(.gz) not found in ${dirs.join(' or ')}; ` +
        `run 'bash kernel-setup/setup.sh' (copies the mirror or downloads ${CIFAR_ARCHIVE}), or put the batch ` +
        `files there`,
    );
  }
  batchCache.set(key, batch);
  return batch;
}

export function loadCifar10(split: Split): RawDataset {
  const files = split === 'train' ? TRAIN_FILES : split === 'test' ? TEST_FILES : [...TRAIN_FILES, ...TEST_FILES];
  const batches = files.map(readBatch);
  const count = batches.reduce((a, b) => a + b.count, 0);
  const labels = new Int32Array(count);
  const where: Array<[CifarBatch, number]> = [];
  for (const b of batches)
    for (let i = 0; i < b.count; i++) {
      labels[where.length] = b.labels[i];
      where.push([b, i]);
    }
  const plane = 32 * 32;
  return {
    name: 'cifar-10',
    height: 32,
    width: 32,
    channels: 3,
    count,
    pixelsAt: (i, out, offset) => {
      const [b, j] = where[i];
      const src = b.pixels;
      const base = j * 3 * plane;
      for (let p = 0; p < plane; p++) {
        out[offset + 3 * p] = src[base + p] / 255;
        out[offset + 3 * p + 1] = src[base + plane + p] / 255;
        out[offset + 3 * p + 2] = src[base + 2 * plane + p] / 255;
      }
    },
    labels,
    classNames: CIFAR10_CLASSES,
  };
}
