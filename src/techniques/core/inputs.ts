/**
 * What every technique shares: checking its inputs (with messages that say what was expected)
 * and turning a `target` (class index or class name) into class indices.
 */
import * as tf from '@tensorflow/tfjs';
import { closestClassNames, findClass } from '../../models/class_names';
import { classNames } from '../../models/zoo';
import { checkModel, fail, shapeText } from '../../common';

/** A class: its index, or its name as stored with the model. */
export type Target = number | string;

/** One target for the whole batch, or one per image. */
export type Targets = Target | readonly Target[] | Int32Array;

/** The option every class-explaining method takes, documented once. */
export interface ClassTargetOptions {
  /** Class index or name (one, or one per image). Default: each image's predicted class. */
  target?: Targets;
}

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

export type { Progress, ProgressCallback } from '../../runtime/cancel';

/** [H, W, C] the model takes (null where any size goes). */
export function imageShapeOf(model: tf.LayersModel, caller: string): [number | null, number | null, number] {
  checkModel(model, caller);
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4) {
    fail(
      caller,
      `expected a model with image input [N, H, W, C]; this model takes ${shape ? shapeText(shape) : 'no input'}`,
    );
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
    fail(
      caller,
      `${what} contains ${kinds} value${nan + inf > 1 ? 's' : ''} (first at flat index ${at}); clean the input first`,
    );
  }
}

export interface Batch {
  /** [N, H, W, C] float32 (for a lazy batch: the images as given, converted slice by slice by `sliceOf`). */
  x: tf.Tensor4D;
  /** [N, H, W, C] of the images as the model sees them. */
  shape: [number, number, number, number];
  /** Lazy batches: grey to colour and resizing, applied to each slice. */
  convert?: (t: tf.Tensor4D) => tf.Tensor4D;
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
export function toBatch(model: tf.LayersModel, image: tf.Tensor, caller: string, opts: { lazy?: boolean } = {}): Batch {
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
    fail(
      caller,
      `image has shape ${shapeText(s)}; expected ${expected} (a grey image [H, W, 1] is accepted by a colour model)`,
    );
  }
  const resize = (h !== null && shape4[1] !== h) || (w !== null && shape4[2] !== w);
  assertFinite(image, caller, 'image');
  const target: [number, number, number, number] = [shape4[0], h ?? shape4[1], w ?? shape4[2], c];
  const owned = s.length !== 4 || image.dtype !== 'float32' || grey || resize;
  if (!owned) return { x: image as tf.Tensor4D, shape: target, batched, owned };
  const convert = (t: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      let u = t;
      if (grey) u = tf.tile(u, [1, 1, 1, 3]);
      if (resize) u = tf.image.resizeBilinear(u, [target[1], target[2]], false, true);
      return u;
    });
  const asGiven = tf.tidy(
    () => tf.cast(tf.reshape(image, shape4 as [number, number, number, number]), 'float32') as tf.Tensor4D,
  );
  // Many images to convert: one slice at a time (10,000 CIFAR images at 224x224 would be 6 GB).
  if (opts.lazy && (grey || resize) && target.reduce((a, b) => a * b, 1) > LAZY_ABOVE) {
    return { x: asGiven, shape: target, batched, owned: true, convert };
  }
  const x = grey || resize ? convert(asGiven) : asGiven;
  if (x !== asGiven) asGiven.dispose();
  return { x, shape: target, batched, owned: true };
}

/** Converted values above which a lazy batch converts slice by slice (64 MB of float32). */
const LAZY_ABOVE = 1 << 24;

/** Images [start, start + size) of a batch as the model sees them; the caller disposes them. */
export function sliceOf(b: Batch, start: number, size: number): tf.Tensor4D {
  const [, h, w, c] = b.x.shape;
  const part = tf.slice(b.x, [start, 0, 0, 0], [size, h, w, c]);
  if (!b.convert) return part;
  const out = b.convert(part);
  part.dispose();
  return out;
}

/** Default batch size for copies of images fed to `model` (its input size, else the image's), at most `cap`. */
export function batchForModel(model: tf.LayersModel, image: tf.Tensor, cap: number, caller = 'batchForModel'): number {
  checkModel(model, caller);
  const shape = model.inputs[0]?.shape ?? [];
  const dims = image.shape.slice(-3);
  const h = (shape[1] as number | null) ?? dims[0] ?? 1;
  const w = (shape[2] as number | null) ?? dims[1] ?? 1;
  const c = (shape[3] as number | null) ?? dims[2] ?? 1;
  return batchFor(h, w, c, cap);
}

/**
 * Default batch size for images of [h, w, c]: as many as fit 2^22 input values (27 images of
 * 224x224x3, so activations stay in bounds), at most `cap`.
 */
export function batchFor(h: number, w: number, c: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.floor((1 << 22) / (h * w * c))));
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
    fail(
      caller,
      `unknown class '${target}'; closest of the ${names.length} ` +
        `classes: ${closestClassNames(model, target).join(', ')}`,
    );
  }
  if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target >= n) {
    fail(
      caller,
      `target ${String(target)} out of range; this model has ${n} classes (0..${n - 1}) or use a class name`,
    );
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
  if (typeof target === 'number' || typeof target === 'string')
    return new Int32Array(n).fill(resolveTarget(model, target, caller));
  const list = Array.from(target as ArrayLike<Target>);
  if (list.length !== n) fail(caller, `got ${list.length} targets for ${n} images; give one target or one per image`);
  return Int32Array.from(list.map((t) => resolveTarget(model, t, caller)));
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
