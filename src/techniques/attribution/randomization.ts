/**
 * Model-randomization sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"):
 * re-initialise the layers from the top down and compare each explanation with the one of the
 * trained model. A method that explains the model must change as the model is destroyed; one
 * whose maps stay put (high rank correlation) shows the image, not the model.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussian, mulberry32 } from '../../common/random';
import { getLayer } from '../../models/layers';
import { ensureBackend } from '../../runtime/backend';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { spearman } from '../core/stats';
import { fail, checkChoice } from '../../common';

export type ExplanationMethod = (model: tf.LayersModel, images: tf.Tensor) => Promise<tf.Tensor> | tf.Tensor;

export interface RandomizationCheckOptions extends LongWorkOptions {
  /** 'cascading' (default): layers stay randomized as the next one goes; 'independent': one layer at a time. */
  order?: 'cascading' | 'independent';
  /** Layers to randomize, in that order (default: every layer with weights, output end first). */
  layers?: string[];
  /** Compare absolute values of the maps (default true, as most displays do). */
  absolute?: boolean;
  seed?: number;
  /** Also return every map (the caller disposes them). */
  keepMaps?: boolean;
}

export interface RandomizationStep {
  /** Layer randomized at this step. */
  layer: string;
  /** All layers randomized while this map was made. */
  randomized: string[];
  /** Spearman rank correlation with the trained model's map, per image. */
  correlations: Float32Array;
  mean: number;
}

export interface RandomizationResult {
  steps: RandomizationStep[];
  /** Maps of the trained model, then after each step (with keepMaps). */
  maps?: tf.Tensor[];
}

/** Fresh weights with the scale of the trained ones: Gaussian kernels, zero biases, identity normalisation. */
function randomLike(weight: tf.Tensor, name: string, rand: () => number): tf.Tensor {
  const n = weight.size;
  if (weight.rank <= 1) {
    const one = /gamma|moving_variance/.test(name);
    return tf.fill(weight.shape, one ? 1 : 0);
  }
  const v = weight.dataSync();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (v[i] - mean) ** 2;
  const std = Math.sqrt(sq / n) || Math.sqrt(2 / Math.max(1, weight.shape[weight.rank - 2] ?? 1));
  return tf.tensor(
    Float32Array.from({ length: n }, () => std * gaussian(rand)),
    weight.shape,
  );
}

/** Maps as [N, D] rows of numbers. */
async function rows(map: tf.Tensor, n: number, absolute: boolean, caller: string): Promise<Float32Array[]> {
  if (map.shape[0] !== n || map.size % n !== 0)
    fail(caller, `the method returned shape [${map.shape.join(', ')}]; expected one map per image, [${n}, ...]`);
  const v = (await map.data()) as Float32Array;
  const d = map.size / n;
  return Array.from({ length: n }, (_, i) => {
    const r = v.slice(i * d, (i + 1) * d);
    return absolute ? r.map(Math.abs) : r;
  });
}

/**
 * Runs `method(model, images)` on the trained model, then after re-initialising each layer in
 * turn, and reports the rank correlation of every map with the trained model's. The model's
 * weights are restored afterwards, even on error. `images` is a batch [N, H, W, C]; the method
 * returns [N, ...] maps and should fix its target (e.g. the class predicted by the trained model).
 */
export async function randomizationCheck(
  model: tf.LayersModel,
  method: ExplanationMethod,
  images: tf.Tensor,
  opts: RandomizationCheckOptions = {},
): Promise<RandomizationResult> {
  const caller = 'randomizationCheck';
  await ensureBackend();
  if (typeof method !== 'function')
    fail(caller, 'method must be a function (model, images) => maps, e.g. (m, x) => saliency(m, x, { target })');
  if (images.rank !== 4) fail(caller, `images should be a batch [N, H, W, C], got shape [${images.shape.join(', ')}]`);
  const order = checkChoice(caller, 'order', opts.order, ['cascading', 'independent'] as const, 'cascading');
  const absolute = opts.absolute ?? true;
  const names =
    opts.layers ??
    model.layers
      .filter((l) => l.getWeights().length > 0)
      .map((l) => l.name)
      .reverse();
  const layers = names.map((name) => getLayer(model, name, caller));
  for (const l of layers)
    if (l.getWeights().length === 0)
      fail(caller, `layer '${l.name}' (${l.getClassName()}) has no weights to randomize`);
  const n = images.shape[0];
  const work = new Work(caller, opts);
  const rand = mulberry32(opts.seed ?? 0);
  const saved = layers.map((l) => l.getWeights().map((w) => w.clone()));
  const maps: tf.Tensor[] = [];
  const restore = (i: number) => layers[i].setWeights(saved[i]);
  try {
    const first = await work.call('method', method, model, images);
    if (!(first instanceof tf.Tensor))
      fail(caller, `the method returned ${typeof first}; expected a tensor of maps [N, ...]`);
    if (opts.keepMaps) maps.push(first);
    const reference = await rows(first, n, absolute, caller).finally(() => opts.keepMaps || first.dispose());
    const steps: RandomizationStep[] = [];
    for (let i = 0; i < layers.length; i++) {
      await work.tick();
      if (order === 'independent' && i > 0) restore(i - 1);
      const layer = layers[i];
      const fresh = layer.weights.map((w, k) => randomLike(saved[i][k], w.originalName ?? w.name, rand));
      layer.setWeights(fresh);
      tf.dispose(fresh);
      const map = await work.call('method', method, model, images);
      if (!(map instanceof tf.Tensor))
        fail(caller, `the method returned ${typeof map}; expected a tensor of maps [N, ...]`);
      if (opts.keepMaps) maps.push(map);
      const current = await rows(map, n, absolute, caller).finally(() => opts.keepMaps || map.dispose());
      const correlations = Float32Array.from(reference, (r, k) => spearman(r, current[k]));
      const mean = correlations.reduce((s, v) => s + v, 0) / n;
      steps.push({
        layer: layer.name,
        randomized: order === 'cascading' ? names.slice(0, i + 1) : [layer.name],
        correlations,
        mean,
      });
      await work.progress(i + 1, layers.length);
    }
    return opts.keepMaps ? { steps, maps } : { steps };
  } catch (err) {
    tf.dispose(maps);
    throw err;
  } finally {
    layers.forEach((_, i) => restore(i));
    saved.forEach((ws) => tf.dispose(ws));
  }
}
