// What the attribution short forms share: names for cache files, the top classes of an image, and the positions
// of a map's lowest and highest values (printed as the lecture reads them out).
import * as tf from '@tensorflow/tfjs';
import { inspect } from 'util';
import type { Figure } from '../widgets/figure';
import { classNames } from '../models/zoo';
import { slug } from './resolve';

/** Class c in a cache file's name: its short name, with its index where another class has the same short name. */
export function classSlug(model: tf.LayersModel, c: number): string {
  const short = (n: string) => n.split(',')[0].trim();
  const names = classNames(model);
  const twins = names.filter((n) => short(n) === short(names[c])).length;
  return slug(short(names[c])) + (twins > 1 ? `-${c}` : '');
}

/** The model's probabilities for one image [H, W, C], as a plain array. */
export function probabilitiesOf(model: tf.LayersModel, image: tf.Tensor3D): Float32Array {
  return tf.tidy(() => (model.predict(image.expandDims(0)) as tf.Tensor).dataSync() as Float32Array);
}

/** The rank of class c (1: the most likely). */
export function rankOf(p: ArrayLike<number>, c: number): number {
  let above = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > p[c]) above++;
  return 1 + above;
}

/** The classes in order of probability, best first. */
export function ranked(p: ArrayLike<number>): number[] {
  return Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
}

/** The full names of class c (the ImageNet description as the model has it). */
export function fullName(model: tf.LayersModel, c: number): string {
  return classNames(model)[c];
}

/** Where a map [rows, cols] is lowest and highest: the value and the flat index of each (first on ties). */
export function extremes(m: ArrayLike<number>): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (let k = 1; k < m.length; k++) {
    if (m[k] < m[lo]) lo = k;
    if (m[k] > m[hi]) hi = k;
  }
  return { lo, hi };
}

/**
 * `value` (a short form's result) echoed as its figure: tslab prints a cell's last value, and a result that holds
 * tensors and arrays would print pages under the picture; this prints what the figure prints (nothing in a kernel).
 */
export function echoAsFigure<T extends object>(value: T, figure: Figure): T {
  Object.defineProperty(value, inspect.custom, { value: () => figure[inspect.custom](), enumerable: false });
  return value;
}
