/**
 * Deletion and insertion scores (Petsiuk, Das & Saenko 2018, RISE): remove the pixels an
 * explanation ranks highest first and watch the class probability fall (deletion: a faithful map
 * gives a small area under the curve), or add them to a blurred image first and watch it rise
 * (insertion: a faithful map gives a large area).
 */
import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../../runtime/backend';
import { LongWorkOptions } from '../../runtime/cancel';
import { readImage, ScoreOutput, batchForModel, ClassTargetOptions, Batch } from '../core/inputs';
import { BaselineChoice, onBaselineBatch } from './baseline';
import { explainedValues, repeatExplained, sliceExplained } from '../core/objective';
import { fail, InternalError, checkInt, shapeText } from '../../common';

export interface CurveScoreOptions extends LongWorkOptions, ClassTargetOptions {
  /** Points on the curve after the start (default 32): each adds about H*W/steps pixels. */
  steps?: number;
  /**
   * What a removed pixel becomes (deletion, default 'black') / what the image starts as (insertion, default 'blur').
   */
  baseline?: BaselineChoice;
  /** Score on the curve: probability ('probs', default) or the score before the softmax ('logits'). */
  output?: ScoreOutput;
  /** Images per forward pass (default 64). */
  batchSize?: number;
}

export interface CurveScore {
  /** Area under the curve (trapezoid over the fraction of pixels changed, 0..1), averaged over images. */
  auc: number;
  /** Per image. */
  aucs: Float32Array;
  /** Mean curve over images, and each image's curve (steps + 1 scores). */
  curve: Float32Array;
  curves: Float32Array[];
  /** Fraction of pixels changed at each point. */
  fractions: Float32Array;
  targets: Int32Array;
}

/** Pixel order, most important first: attribution [H, W] or [H, W, C] (channels summed); ties by position. */
function pixelOrder(attr: Float32Array, pixels: number, channels: number): Int32Array {
  const score = new Float64Array(pixels);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < channels; c++) score[p] += attr[p * channels + c];
  return Int32Array.from({ length: pixels }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
}

export function trapezoid(ys: ArrayLike<number>, xs: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < ys.length; i++) area += ((ys[i] + ys[i - 1]) / 2) * (xs[i] - xs[i - 1]);
  return area;
}

async function curveScore(
  mode: 'deletion' | 'insertion',
  model: tf.LayersModel,
  image: tf.Tensor,
  attribution: tf.Tensor,
  opts: CurveScoreOptions,
): Promise<CurveScore> {
  const caller = mode === 'deletion' ? 'deletionScore' : 'insertionScore';
  await ensureBackend();
  const steps = checkInt(caller, 'steps', opts.steps, { dflt: 32, max: 10000 });
  const batchSize = checkInt(caller, 'batchSize', opts.batchSize, { dflt: batchForModel(model, image, 64, caller) });
  /** The attribution checked against the batch: its values and channels (1 for [H, W] maps). */
  const readAttribution = (batch: Batch) => {
    const [n, h, w, c] = batch.x.shape;
    const a = attribution.shape;
    const lead = batch.batched ? [n] : [];
    const fits = (s: number[]) => s.length === lead.length + 2 || s.length === lead.length + 3;
    const ok =
      fits(a) &&
      a.slice(0, lead.length).every((d, i) => d === lead[i]) &&
      a[lead.length] === h &&
      a[lead.length + 1] === w &&
      (a.length === lead.length + 2 || a[lead.length + 2] === c || a[lead.length + 2] === 1);
    if (!ok)
      fail(
        caller,
        `attribution has shape ${shapeText(a)}; expected ${shapeText([...lead, h, w])} ` +
          `or ${shapeText([...lead, h, w, c])} to match the image`,
      );
    const channels = a.length === lead.length + 3 ? a[a.length - 1] : 1;
    const values = attribution.dataSync() as Float32Array;
    if (values.some((v) => Number.isNaN(v))) fail(caller, 'attribution contains NaN');
    return { values, channels };
  };
  const defaultBaseline = mode === 'deletion' ? 'black' : 'blur';
  return onBaselineBatch(
    model,
    image,
    caller,
    opts,
    defaultBaseline,
    async ({ batch, base, explained, loop, prepared }) => {
      const [n, h, w, c] = batch.x.shape;
      const { values: attrValues, channels: attrChannels } = prepared;
      if (explained.kind !== 'class') throw new InternalError('curve scores explain classes');
      const pixels = h * w;
      const fractions = Float32Array.from({ length: steps + 1 }, (_, k) => Math.round((k * pixels) / steps) / pixels);
      const curves: Float32Array[] = [];
      loop.expect(n * (steps + 1));
      for (let i = 0; i < n; i++) {
        const order = pixelOrder(
          attrValues.subarray(i * pixels * attrChannels, (i + 1) * pixels * attrChannels),
          pixels,
          attrChannels,
        );
        const xi = await readImage(batch.x, i);
        const bi = await readImage(base, i);
        // Deletion moves pixels from the image to the baseline; insertion the other way.
        const [from, to] = mode === 'deletion' ? [xi, bi] : [bi, xi];
        const curve = new Float32Array(steps + 1);
        const one = sliceExplained(explained, i, 1);
        const make = (start: number, b: number): tf.Tensor => {
          const data = new Float32Array(b * pixels * c);
          for (let k = 0; k < b; k++) {
            const img = data.subarray(k * pixels * c, (k + 1) * pixels * c);
            img.set(from);
            const changed = Math.round(fractions[start + k] * pixels);
            for (let j = 0; j < changed; j++)
              for (let ch = 0; ch < c; ch++) img[order[j] * c + ch] = to[order[j] * c + ch];
          }
          return explainedValues(model, tf.tensor4d(data, [b, h, w, c]), repeatExplained(one, b), 'normal', caller);
        };
        await loop.run(steps + 1, batchSize, make, (values, start) => curve.set(values, start));
        curves.push(curve);
      }
      const aucs = Float32Array.from(curves, (cv) => trapezoid(cv, fractions));
      const mean = Float32Array.from({ length: steps + 1 }, (_, k) => curves.reduce((s, cv) => s + cv[k], 0) / n);
      return {
        auc: aucs.reduce((s, v) => s + v, 0) / n,
        aucs,
        curve: mean,
        curves,
        fractions,
        targets: explained.targets,
      };
    },
    readAttribution,
  );
}

/** Deletion curve and its area: lower means the map found what the model needs. */
export async function deletionScore(
  model: tf.LayersModel,
  image: tf.Tensor,
  attribution: tf.Tensor,
  opts: CurveScoreOptions = {},
): Promise<CurveScore> {
  return curveScore('deletion', model, image, attribution, opts);
}

/** Insertion curve and its area: higher means the map found what the model needs. */
export async function insertionScore(
  model: tf.LayersModel,
  image: tf.Tensor,
  attribution: tf.Tensor,
  opts: CurveScoreOptions = {},
): Promise<CurveScore> {
  return curveScore('insertion', model, image, attribution, opts);
}
