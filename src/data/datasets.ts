import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { checkChoice, fail } from '../common';
import { loadCifar10 } from './cifar';
import { loadFashion } from './fashion';
import { loadFolder, FolderOptions } from './folder';
import { IMAGENET_SAMPLE, ImagenetSampleOptions, loadImagenetSample } from './imagenet/sample';
import { loadMnist } from './mnist';
import { Dataset, RawDataset, Split, SPLITS } from './types';

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar-10', IMAGENET_SAMPLE] as const;

export interface LoadOptions extends Omit<FolderOptions, 'size'>, Omit<ImagenetSampleOptions, 'size' | 'limit'> {
  /**
   * Folders: [height, width] every image is resized to (default: the first image's size).
   * 'imagenet-sample': a side or [height, width], default 224 (all 1,000 at 224 take 602 MB as float32).
   */
  size?: [number, number] | number;
  /** 'train' | 'test' | 'all' (default 'test'). */
  split?: Split;
  /** Keep only the first `limit` images of the split. */
  limit?: number;
  /** Folder holding dataset files (Fashion-MNIST IDX files); also env CNNVIZ_DATA. */
  dataDir?: string;
}

async function raw(name: string, split: Split, opts: LoadOptions): Promise<RawDataset> {
  const key = name.toLowerCase();
  if (key === 'mnist') return loadMnist(split);
  if (key === 'fashion-mnist' || key === 'fashion_mnist' || key === 'fashion') return loadFashion(split, opts.dataDir);
  if (key === 'cifar-10' || key === 'cifar10') return loadCifar10(split);
  // load() has made size a pair by now.
  if (fs.existsSync(name) && fs.statSync(name).isDirectory()) return loadFolder(name, split, opts as FolderOptions);
  fail(
    'datasets.load',
    `unknown dataset '${name}'; known: ${DATASET_NAMES.join(', ')}, or a path to a folder of images ` +
      `(one subfolder per class)`,
  );
}

/** Load a dataset as `{ images: Tensor4D [N,H,W,C] in [0,1], labels, classNames }`. */
export async function load(name: string, opts: LoadOptions = {}): Promise<Dataset> {
  if (typeof name !== 'string' || name.length === 0) {
    fail(
      'datasets.load',
      `name must be one of ${DATASET_NAMES.join(', ')} or a folder path, got ${JSON.stringify(name)}`,
    );
  }
  if (name.toLowerCase() === IMAGENET_SAMPLE) return loadImagenetSample(opts);
  const split = opts.split ?? 'test';
  checkChoice('datasets.load', 'split', split, SPLITS);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit > 0)) {
    fail('datasets.load', `limit must be a positive integer, got ${opts.limit}`);
  }
  if (typeof opts.size === 'number') opts = { ...opts, size: [opts.size, opts.size] };
  const r = await raw(name, split, opts);
  const n = Math.min(r.count, opts.limit ?? r.count);
  const size = r.height * r.width * r.channels;
  const buf = new Float32Array(n * size);
  for (let i = 0; i < n; i++) r.pixelsAt(i, buf, i * size);
  return {
    name: r.name,
    split,
    images: tf.tensor4d(buf, [n, r.height, r.width, r.channels]),
    labels: r.labels.slice(0, n),
    classNames: [...r.classNames],
  };
}

/** Names of the built-in datasets. */
export function list(): string[] {
  return [...DATASET_NAMES];
}
