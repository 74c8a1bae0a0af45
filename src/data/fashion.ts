import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseIdx, IdxArray } from './idx';
import { readDataFile } from './store';
import type { RawDataset, Split } from './types';
import { fail } from '../common';

const CALLER = "datasets.load('fashion-mnist')";

export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const FASHION_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** Folders searched, in order, for the four IDX files (plain or .gz). */
export function fashionSearchDirs(dataDir?: string): string[] {
  const dirs: string[] = [];
  const add = (d: string | undefined) => {
    if (!d) return;
    dirs.push(d, path.join(d, 'fashion-mnist'), path.join(d, 'fashion'));
  };
  add(dataDir);
  add(process.env.CNNVIZ_DATA);
  dirs.push('/usr/share/datasets/fashion-mnist', path.join(os.homedir(), '.cache', 'cnnviz', 'fashion-mnist'));
  return dirs;
}

function findFile(dirs: string[], base: string): string | undefined {
  for (const d of dirs) {
    for (const name of [base + '.gz', base]) {
      const p = path.join(d, name);
      if (fs.existsSync(p)) return p;
    }
  }
  return undefined;
}

async function download(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const base of Object.values(FILES)) {
    const target = path.join(dir, base + '.gz');
    if (fs.existsSync(target)) continue;
    const res = await fetch(FASHION_URL + base + '.gz');
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${base}.gz`);
    const tmp = target + '.part';
    fs.writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
    fs.renameSync(tmp, target);
  }
}

/**
 * sha256 of the official files' items (the IDX payload, after the header): the same whether the file came
 * gzipped from Debian's dataset-fashion-mnist, from the public URL (compressed differently), or unpacked. A
 * file of the official item count must hold these items: one with shifted labels or damaged pixels is refused.
 * A folder of another size is the user's own data set and is taken as it is.
 */
const OFFICIAL: Record<string, { items: number; sha256: string }> = {
  [FILES.trainImages]: { items: 60000, sha256: '2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012' },
  [FILES.trainLabels]: { items: 60000, sha256: '657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7' },
  [FILES.testImages]: { items: 10000, sha256: 'c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a' },
  [FILES.testLabels]: { items: 10000, sha256: '3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9' },
};

function checkOfficial(base: string, file: string, arr: IdxArray): void {
  const want = OFFICIAL[base];
  if (arr.dims[0] !== want.items) return;
  const got = crypto.createHash('sha256').update(arr.data).digest('hex');
  if (got !== want.sha256)
    fail(
      CALLER,
      `${file} has ${want.items} items like the official ${base}, but their sha256 is ${got}, not the ` +
        `official ${want.sha256} (damaged or altered); delete it and reinstall Debian's 'dataset-fashion-mnist' ` +
        `(or download it again from ${FASHION_URL})`,
    );
}

const cache = new Map<string, { images: IdxArray; labels: IdxArray }>();

async function readPair(kind: 'train' | 'test', dataDir?: string): Promise<{ images: IdxArray; labels: IdxArray }> {
  const dirs = fashionSearchDirs(dataDir);
  const imgBase = kind === 'train' ? FILES.trainImages : FILES.testImages;
  const lblBase = kind === 'train' ? FILES.trainLabels : FILES.testLabels;
  let imgFile = findFile(dirs, imgBase);
  let lblFile = findFile(dirs, lblBase);
  if (!imgFile || !lblFile) {
    const cacheDir = dirs[dirs.length - 1];
    try {
      await download(cacheDir);
    } catch (err) {
      fail(
        `datasets.load('fashion-mnist')`,
        `${imgBase}(.gz) and ${lblBase}(.gz) not found in ${dirs.join(', ')}, ` +
          `and the download from ${FASHION_URL} failed (${(err as Error).message}). ` +
          `Install Debian's package 'dataset-fashion-mnist', or put the IDX files in a folder and pass { dataDir } ` +
          `or set CNNVIZ_DATA.`,
      );
    }
    imgFile = findFile(dirs, imgBase)!;
    lblFile = findFile(dirs, lblBase)!;
  }
  const key = `${imgFile}|${lblFile}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const images = parseIdx(readDataFile(imgFile, CALLER), { rank: 3, source: imgFile });
  const labels = parseIdx(readDataFile(lblFile, CALLER), { rank: 1, source: lblFile });
  checkOfficial(imgBase, imgFile, images);
  checkOfficial(lblBase, lblFile, labels);
  if (images.dims[0] !== labels.dims[0]) {
    fail(
      `datasets.load('fashion-mnist')`,
      `${imgFile} has ${images.dims[0]} images but ${lblFile} has ${labels.dims[0]} labels`,
    );
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] > 9)
      fail(`datasets.load('fashion-mnist')`, `${lblFile} label ${labels.data[i]} at ${i} is outside 0..9`);
  }
  const pair = { images, labels };
  cache.set(key, pair);
  return pair;
}

export async function loadFashion(split: Split, dataDir?: string): Promise<RawDataset> {
  const parts =
    split === 'all'
      ? [await readPair('train', dataDir), await readPair('test', dataDir)]
      : [await readPair(split, dataDir)];
  const [, h, w] = parts[0].images.dims;
  const size = h * w;
  const counts = parts.map((p) => p.images.dims[0]);
  const count = counts.reduce((a, b) => a + b, 0);
  const labels = new Int32Array(count);
  let k = 0;
  for (const p of parts) for (const l of p.labels.data) labels[k++] = l;
  return {
    name: 'fashion-mnist',
    height: h,
    width: w,
    channels: 1,
    count,
    pixelsAt: (i, out, offset) => {
      const part = i < counts[0] ? 0 : 1;
      const j = part === 0 ? i : i - counts[0];
      const src = parts[part].images.data;
      for (let p = 0; p < size; p++) out[offset + p] = src[j * size + p] / 255;
    },
    labels,
    classNames: FASHION_CLASSES,
  };
}
