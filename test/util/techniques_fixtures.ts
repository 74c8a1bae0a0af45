/**
 * Small models with known behaviour for the technique tests: weights set by hand or from a seed,
 * so each property has an answer that does not come from the code under test.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { mulberry32, gaussian } from '../../src/common/random';
import { setup } from '../../src/runtime/backend';

export async function useWasm(): Promise<void> {
  await setup({ backend: 'wasm', quiet: true });
}

/** n seeded standard-normal values. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => gaussian(r) * scale);
}

export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** Image tensor [h, w, c] of seeded uniform values in [0, 1). */
export function randomImage(h: number, w: number, c: number, seed: number): tf.Tensor3D {
  return tf.tensor3d(uniform(h * w * c, seed), [h, w, c]);
}

/** input -> flatten -> dense(classes, linear) -> softmax layer; returns the dense kernel [h*w*c, classes]. */
export function linearModel(
  h: number,
  w: number,
  c: number,
  classes: number,
  seed: number,
  softmax = true,
): { model: tf.LayersModel; kernel: Float32Array; bias: Float32Array } {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [h, w, c], name: 'flatten' }));
  model.add(tf.layers.dense({ units: classes, name: 'logits' }));
  if (softmax) model.add(tf.layers.activation({ activation: 'softmax', name: 'probs' }));
  const kernel = randn(h * w * c * classes, seed, 0.5);
  const bias = randn(classes, seed + 1, 0.1);
  model.getLayer('logits').setWeights([tf.tensor2d(kernel, [h * w * c, classes]), tf.tensor1d(bias)]);
  return { model, kernel, bias };
}

/**
 * A small ReLU CNN with seeded weights: conv(relu) -> pool -> conv(relu) -> flatten -> dense(relu) -> dense ->
 * softmax.
 */
export function smallCnn(
  opts: { size?: number; channels?: number; classes?: number; seed?: number } = {},
): tf.Sequential {
  const size = opts.size ?? 12;
  const seed = opts.seed ?? 1;
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 10 + k });
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      name: 'conv1',
      inputShape: [size, size, opts.channels ?? 1],
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  m.add(
    tf.layers.conv2d({
      name: 'conv2',
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(2),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(
    tf.layers.dense({
      name: 'features',
      units: 16,
      activation: 'relu',
      kernelInitializer: init(3),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  m.add(
    tf.layers.dense({
      name: 'logits',
      units: opts.classes ?? 4,
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed * 10 + 4 }),
    }),
  );
  m.add(tf.layers.activation({ name: 'probs', activation: 'softmax' }));
  return m;
}

/** Every tensor inside a result (tensor, array, plain object), for disposal. */
export function disposeAll(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeAll);
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach(disposeAll);
}

/** Runs fn a few times and asserts the number of live tensors does not grow. */
export async function assertNoLeak(fn: () => Promise<unknown>, repeats = 3): Promise<void> {
  disposeAll(await fn());
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) disposeAll(await fn());
  assert.strictEqual(tf.memory().numTensors, before, `tensor count grew from ${before} to ${tf.memory().numTensors}`);
}

export async function rejects(p: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.stack?.split('\n')[0] ?? '', /tfjs|tf-core/);
    return true;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Largest absolute difference of two tensors of the same shape. */
export function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepStrictEqual(a.shape, b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}
