/**
 * What every technique shares: checking its inputs (with messages that say what was expected)
 * and turning a `target` (class index or class name) into class indices.
 */
import * as tf from '@tensorflow/tfjs';
import { closestClassNames, findClass } from '../models/class_names';
import { classNames } from '../models/zoo';

/** A class: its index, or its name as stored with the model. */
export type Target = number | string;

/** One target for the whole batch, or one per image. */
export type Targets = Target | readonly Target[] | Int32Array;

/** A unit inside the network: channel `channel` of layer `layer`, at (y, x) or averaged over positions. */
export interface NeuronTarget {
  layer: string;
  channel: number;
  y?: number;
  x?: number;
}

/** Which score a technique explains: the class score before the final softmax, or the probability. */
export type ScoreOutput = 'logits' | 'probs';
export const SCORE_OUTPUTS: readonly ScoreOutput[] = ['logits', 'probs'];

/** Progress of long work, reported through `onProgress`. */
export interface Progress {
  done: number;
  total: number;
}
export type ProgressCallback = (p: Progress) => void | Promise<void>;

export function fail(caller: string, message: string): never {
  throw new Error(`${caller}: ${message}`);
}

export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null || d < 0 ? '?' : d)).join(', ')}]`;
}

/** [H, W, C] the model takes (null where any size goes). */
export function imageShapeOf(model: tf.LayersModel, caller: string): [number | null, number | null, number] {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4) {
    fail(caller, `expected a model with image input [N, H, W, C]; this model takes ${shape ? shapeText(shape) : 'no input'}`);
  }
  return [shape[1], shape[2], shape[3] as number];
}

export function classCount(model: tf.LayersModel): number {
  const shape = model.outputs[0].shape;
  return shape[shape.length - 1] as number;
}

/** First value that is NaN or infinite, or -1. */
function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** Throws if the tensor holds NaN or Infinity, saying which and where. */
export function assertFinite(t: tf.Tensor, caller: string, what: string): void {
  const values = t.dataSync();
  const at = firstNonFinite(values);
  if (at >= 0) {
    let nan = 0;
    let inf = 0;
    for (let i = at; i < values.length; i++) {
      if (Number.isNaN(values[i])) nan++;
      else if (!Number.isFinite(values[i])) inf++;
    }
    const kinds = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
    fail(caller, `${what} contains ${kinds} value${nan + inf > 1 ? 's' : ''} (first at flat index ${at}); clean the input first`);
  }
}

export interface Batch {
  /** [N, H, W, C] float32. */
  x: tf.Tensor4D;
  /** False when the caller gave one image: results drop the batch axis. */
  batched: boolean;
  /** True when `x` was made here and must be disposed by the technique. */
  owned: boolean;
}

/**
 * An image [H, W, C] (or [H, W] for one-channel models) or a batch [N, H, W, C], checked against
 * the model's input: rank, channels, finiteness. A grey image given to a colour model is repeated
 * over the three channels, and an image of another size is resized (bilinear) to the model's;
 * results are then at the model's size.
 */
export function toBatch(model: tf.LayersModel, image: tf.Tensor, caller: string): Batch {
  const [h, w, c] = imageShapeOf(model, caller);
  const expected = `an image ${shapeText([h, w, c])} or a batch ${shapeText([null, h, w, c])}`;
  if (!(image instanceof tf.Tensor)) fail(caller, `expected ${expected} as a tf.Tensor, got ${describeValue(image)}`);
  if (image.isDisposed) fail(caller, 'the image tensor has been disposed');
  const s = image.shape;
  let batched = true;
  let shape4: number[];
  if (s.length === 4) shape4 = s;
  else if (s.length === 3) {
    batched = false;
    shape4 = [1, ...s];
  } else if (s.length === 2) {
    batched = false;
    shape4 = [1, s[0], s[1], 1];
  } else fail(caller, `image has rank ${s.length} ${shapeText(s)}; expected ${expected}`);
  const grey = shape4[3] === 1 && c === 3;
  if ((shape4[3] !== c && !grey) || shape4[0] < 1 || shape4[1] < 1 || shape4[2] < 1) {
    fail(caller, `image has shape ${shapeText(s)}; expected ${expected} (a grey image [H, W, 1] is accepted by a colour model)`);
  }
  const resize = (h !== null && shape4[1] !== h) || (w !== null && shape4[2] !== w);
  assertFinite(image, caller, 'image');
  const owned = s.length !== 4 || image.dtype !== 'float32' || grey || resize;
  if (!owned) return { x: image as tf.Tensor4D, batched, owned };
  const x = tf.tidy(() => {
    let t = tf.cast(tf.reshape(image, shape4 as [number, number, number, number]), 'float32') as tf.Tensor4D;
    if (grey) t = tf.tile(t, [1, 1, 1, 3]);
    if (resize) t = tf.image.resizeBilinear(t, [h ?? shape4[1], w ?? shape4[2]], false, true);
    return t;
  });
  return { x: x as tf.Tensor4D, batched, owned };
}

export function releaseBatch(b: Batch): void {
  if (b.owned) b.x.dispose();
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

/** Class index of one target, or an error giving the range / the class names. */
export function resolveTarget(model: tf.LayersModel, target: Target, caller: string): number {
  const n = classCount(model);
  if (typeof target === 'string') {
    const names = classNames(model);
    const i = findClass(model, target, caller);
    if (i !== undefined) return i;
    const asNumber = Number(target);
    if (target.trim() !== '' && Number.isInteger(asNumber) && asNumber >= 0 && asNumber < n) return asNumber;
    if (names.length <= 20) fail(caller, `unknown class '${target}'; classes of this model: ${names.join(', ')}`);
    fail(caller, `unknown class '${target}'; closest of the ${names.length} classes: ${closestClassNames(model, target).join(', ')}`);
  }
  if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target >= n) {
    fail(caller, `target ${String(target)} out of range; this model has ${n} classes (0..${n - 1}) or use a class name`);
  }
  return target;
}

/**
 * Class index per image. Missing target means each image's predicted class, which `predicted`
 * computes only when needed.
 */
export function resolveTargets(
  model: tf.LayersModel,
  target: Targets | undefined,
  n: number,
  caller: string,
  predicted: () => Int32Array,
): Int32Array {
  if (target === undefined || target === null) return predicted();
  if (typeof target === 'number' || typeof target === 'string') return new Int32Array(n).fill(resolveTarget(model, target, caller));
  const list = Array.from(target as ArrayLike<Target>);
  if (list.length !== n) fail(caller, `got ${list.length} targets for ${n} images; give one target or one per image`);
  return Int32Array.from(list.map((t) => resolveTarget(model, t, caller)));
}

export function oneOf<T extends string>(value: T | undefined, choices: readonly T[], dflt: T, caller: string, option: string): T {
  if (value === undefined) return dflt;
  if (!choices.includes(value)) fail(caller, `unknown ${option} '${String(value)}'; valid choices: ${choices.join(', ')}`);
  return value;
}

export function positiveInt(value: number | undefined, dflt: number, caller: string, option: string): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value < 1) fail(caller, `${option} must be a positive integer, got ${value}`);
  return value;
}

export function finiteNumber(value: number | undefined, dflt: number, caller: string, option: string, min = -Infinity, max = Infinity): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min > -Infinity || max < Infinity ? ` in [${min}, ${max}]` : '';
    fail(caller, `${option} must be a finite number${range}, got ${value}`);
  }
  return value;
}

/** [h, w] from a number or a pair, each positive. */
export function pairOf(value: number | readonly [number, number] | undefined, dflt: [number, number], caller: string, option: string): [number, number] {
  if (value === undefined) return dflt;
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= 1)) fail(caller, `${option} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  return p;
}

/** [n, depth] rows with a 1 at each index (tf.oneHot refuses depth 1, which binary models have). */
export function oneHotRows(indices: ArrayLike<number>, depth: number): tf.Tensor2D {
  const m = new Float32Array(indices.length * depth);
  for (let i = 0; i < indices.length; i++) m[i * depth + indices[i]] = 1;
  return tf.tensor2d(m, [indices.length, depth]);
}

/** Drop the batch axis for callers that passed one image. */
export function unbatch<T extends tf.Tensor>(t: T, batched: boolean): tf.Tensor {
  if (batched) return t;
  const out = tf.squeeze(t, [0]);
  t.dispose();
  return out;
}

/** Pixels of image i of a batch as a copy, without leaving tensors behind. */
export async function readImage(x: tf.Tensor4D, i: number): Promise<Float32Array> {
  const [, h, w, c] = x.shape;
  const one = tf.slice(x, [i, 0, 0, 0], [1, h, w, c]);
  const data = (await one.data()) as Float32Array;
  one.dispose();
  return data;
}
