// From tensors (and the technique results that hold them) to the plain data the renderers
// take. Tensors are read synchronously and never disposed here: the caller owns them.
import * as tf from '@tensorflow/tfjs';
import { shapeText, BY_WRAPPER, fail } from '../common';
import type { Field } from './field';
import { Pixels } from './draw/raster';

export type TensorLike = Pick<tf.Tensor, 'shape' | 'rank' | 'dataSync'>;

export function isTensor(x: unknown): x is tf.Tensor {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as tf.Tensor).shape) &&
    typeof (x as tf.Tensor).dataSync === 'function'
  );
}

export function isPixels(x: unknown): x is Pixels {
  return (
    typeof x === 'object' &&
    x !== null &&
    !isTensor(x) &&
    typeof (x as Pixels).width === 'number' &&
    typeof (x as Pixels).height === 'number' &&
    (x as Pixels).data !== undefined
  );
}

/** One image: [H, W], [H, W, C] or [1, H, W, C] (C = 1, 3 or 4), or plain Pixels. */
export function toPixels(x: tf.Tensor | Pixels, what = 'image'): Pixels {
  if (isPixels(x)) return { ...x, channels: x.channels ?? 1 };
  if (!isTensor(x)) fail(BY_WRAPPER, `${what} must be a tensor [H, W, C] or {width, height, channels, data}`);
  let shape = x.shape;
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2) shape = [shape[0], shape[1], 1];
  if (shape.length !== 3 || ![1, 3, 4].includes(shape[2])) {
    fail(
      BY_WRAPPER,
      `${what} has shape ${shapeText(x.shape)}; expected [H, W], [H, W, C] or [1, H, W, C] with C = 1, 3 or 4`,
    );
  }
  return { height: shape[0], width: shape[1], channels: shape[2], data: x.dataSync() as Float32Array };
}

/** A batch: [N, H, W, C], [N, H, W] (gray), an array of images, or one image. */
export function toPixelList(x: tf.Tensor | (tf.Tensor | Pixels)[] | Pixels, what = 'images'): Pixels[] {
  if (Array.isArray(x)) return x.map((im, i) => toPixels(im, `${what}[${i}]`));
  if (isPixels(x)) return [toPixels(x, what)];
  if (!isTensor(x)) fail(BY_WRAPPER, `${what} must be a tensor [N, H, W, C] or an array of images`);
  const s = x.shape;
  if (s.length === 4) return splitBatch(x.dataSync() as Float32Array, s[0], s[1], s[2], s[3]);
  if (s.length === 3 && ![1, 3, 4].includes(s[2])) return splitBatch(x.dataSync() as Float32Array, s[0], s[1], s[2], 1);
  if (s.length === 3 || s.length === 2) return [toPixels(x, what)];
  fail(BY_WRAPPER, `${what} has shape ${shapeText(s)}; expected [N, H, W, C], [N, H, W] or [H, W, C]`);
}

function splitBatch(data: Float32Array, n: number, h: number, w: number, c: number): Pixels[] {
  if (![1, 3, 4].includes(c)) fail(BY_WRAPPER, `images have ${c} channels; expected 1, 3 or 4`);
  const size = h * w * c;
  return Array.from({ length: n }, (_, i) => ({
    height: h,
    width: w,
    channels: c,
    data: data.subarray(i * size, (i + 1) * size),
  }));
}

/** Selected images of a batch, reading only those (a dataset may hold thousands). */
export function pickImages(
  batch: tf.Tensor | (tf.Tensor | Pixels)[],
  indices: ArrayLike<number>,
  what = 'images',
): Pixels[] {
  const idx = Array.from(indices);
  if (Array.isArray(batch)) {
    return idx.map((i) => {
      if (!(i >= 0 && i < batch.length))
        fail(BY_WRAPPER, `index ${i} is out of range for ${what}: 0..${batch.length - 1}`);
      return toPixels(batch[i], `${what}[${i}]`);
    });
  }
  if (!isTensor(batch) || batch.rank < 3)
    fail(
      BY_WRAPPER,
      `${what} must be a batch [N, H, W, C]; got ${isTensor(batch) ? shapeText(batch.shape) : typeof batch}`,
    );
  const n = batch.shape[0];
  for (const i of idx)
    if (!(Number.isInteger(i) && i >= 0 && i < n))
      fail(BY_WRAPPER, `index ${i} is out of range for ${what}: 0..${n - 1}`);
  if (idx.length === 0) return [];
  const picked = tf.tidy(() => tf.gather(batch as tf.Tensor, tf.tensor1d(idx, 'int32')));
  try {
    return toPixelList(picked, what).map((p) => ({ ...p, data: Float32Array.from(p.data) }));
  } finally {
    picked.dispose();
  }
}

/** An attribution: [H, W], [H, W, C] or [1, H, W, C], or a plain Field. */
export function toField(x: tf.Tensor | Field, what = 'attribution'): Field {
  if (!isTensor(x)) {
    if (typeof x === 'object' && x && typeof x.width === 'number') return x;
    fail(BY_WRAPPER, `${what} must be a tensor [H, W] or [H, W, C]`);
  }
  let s = x.shape;
  if (s.length === 4 && s[0] === 1) s = s.slice(1);
  if (s.length === 2) return { height: s[0], width: s[1], channels: 1, data: x.dataSync() as Float32Array };
  if (s.length === 3) return { height: s[0], width: s[1], channels: s[2], data: x.dataSync() as Float32Array };
  fail(BY_WRAPPER, `${what} has shape ${shapeText(x.shape)}; expected [H, W], [H, W, C] or [1, H, W, C]`);
}

/** Numbers from a typed array, an array, or a tensor. */
export function toNumbers(x: ArrayLike<number> | tf.Tensor, what: string): ArrayLike<number> {
  if (isTensor(x)) return x.dataSync() as Float32Array;
  if (x && typeof (x as ArrayLike<number>).length === 'number') return x as ArrayLike<number>;
  fail(BY_WRAPPER, `${what} must be an array, a typed array or a tensor`);
}

/**
 * An embedding as show.scatter takes it: what pca, kernelPca, tsne and umap return ({ points }
 * (N*2), with n), or a [N, 2] tensor.
 */
export type EmbeddingPoints = { points: ArrayLike<number>; n?: number } | tf.Tensor;

/** x,y pairs (N*2) of an embedding. */
export function toPoints(x: EmbeddingPoints, what = 'embedding'): ArrayLike<number> {
  if (isTensor(x)) {
    if (x.rank !== 2 || x.shape[1] !== 2) fail(BY_WRAPPER, `${what} has shape ${shapeText(x.shape)}; expected [N, 2]`);
    return x.dataSync() as Float32Array;
  }
  if (!x || typeof x !== 'object' || !('points' in x) || typeof x.points?.length !== 'number') {
    fail(BY_WRAPPER, `${what} must be { points: Float32Array (N*2) } (what pca, tsne, umap return) or a [N, 2] tensor`);
  }
  if (x.points.length % 2 !== 0) fail(BY_WRAPPER, `${what} has ${x.points.length} values; expected x,y pairs (N*2)`);
  const n = (x as { n?: unknown }).n;
  if (n !== undefined && n !== x.points.length / 2)
    fail(BY_WRAPPER, `${what}.n is ${String(n)} but ${what}.points holds ${x.points.length / 2} points (N*2 values)`);
  return x.points;
}

/** Images as show.* takes them: a batch tensor, or an array of image tensors / Pixels. */
export type Images = tf.Tensor | (tf.Tensor | Pixels)[];
/** Class index per image, as numbers or a tensor. */
export type Labels = ArrayLike<number> | tf.Tensor;

export interface LabelOptions {
  /** class index per image (of the dataset the indices refer to) */
  labels?: Labels;
  classNames?: readonly string[];
}

export function labelsOf(l: Labels | undefined): ArrayLike<number> | undefined {
  return l === undefined ? undefined : toNumbers(l, 'labels');
}

/** A caption's class: its name when classNames are given, else its index. */
export function className(o: LabelOptions, label: number): string {
  return o.classNames?.[label] ?? String(label);
}
