/**
 * Kernel SHAP (Lundberg & Lee 2017) over superpixels: switch segments between the image and a
 * baseline, score each such coalition, and fit a linear model with the Shapley kernel weights.
 * The fit is constrained so the values add up to f(image) - f(baseline) (efficiency). When all
 * coalitions fit in the sample budget they are all evaluated and the values are exact Shapley values.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../common/random';
import { LongWorkOptions } from '../../runtime/cancel';
import { readImage, ScoreOutput, batchFor, ClassTargetOptions } from '../core/inputs';
import { PerturbationLoop, Scoring } from '../core/perturbation';
import { BaselineChoice, onBaselineBatch } from './baseline';
import { sliceExplained } from '../core/objective';
import { fromLabels, segmentImage, Segmentation, SegmentMethod } from './segments';
import { shapleyCoalitionsChecked, solveShapley } from './shapley';
import { fail, checkInt } from '../../common';
import { begin } from '../core/harness';

export interface KernelShapOptions extends LongWorkOptions, ClassTargetOptions {
  /** 'grid' (default), 'slic', or your own labels, one per pixel (same for every image). */
  segments?: SegmentMethod | Int32Array | number[];
  /** About how many segments (default 16). */
  nSegments?: number;
  /** SLIC compactness (default 10). */
  compactness?: number;
  /** Coalitions evaluated per image besides all-on and all-off (default 2 * segments + 2048). */
  samples?: number;
  /** What an absent segment shows (default 'black'); see BaselineChoice. */
  baseline?: BaselineChoice;
  /** Explained score: the probability ('probs', default) or the score before the softmax ('logits'). */
  output?: ScoreOutput;
  seed?: number;
  /** Coalitions per forward pass (default 256). */
  batchSize?: number;
}

export interface KernelShapImageResult {
  /** Shapley value of each segment. */
  values: Float32Array;
  segmentation: Segmentation;
  scoreInput: number;
  scoreBaseline: number;
  /** sum(values) - (scoreInput - scoreBaseline): zero up to rounding, by construction. */
  delta: number;
  /** True when every coalition was evaluated (exact Shapley values). */
  exact: boolean;
  coalitions: number;
}

export interface KernelShapResult {
  /** Each pixel carries its segment's value: [H, W] (batch: [N, H, W]). */
  attributions: tf.Tensor;
  perImage: KernelShapImageResult[];
}

/** Coalitions at most: drawn before the first batch (20,000 take ~0.4 s on a busy core; the signal is seen). */
const MAX_SAMPLES = 20000;

async function explainOne(
  xi: Float32Array,
  bi: Float32Array,
  shape: [number, number, number],
  seg: Segmentation,
  scoring: Scoring,
  opts: KernelShapOptions,
  loop: PerturbationLoop,
  imagesLeft: number,
): Promise<KernelShapImageResult> {
  const [h, w, c] = shape;
  const M = seg.count;
  const samples = checkInt('kernelShap', 'samples', opts.samples, { dflt: 2 * M + 2048, max: MAX_SAMPLES });
  const batchSize = checkInt('kernelShap', 'batchSize', opts.batchSize, { dflt: batchFor(h, w, c, 256) });
  const { masks, weights, exact } = await shapleyCoalitionsChecked(M, samples, mulberry32(opts.seed ?? 0), () =>
    loop.work.tick(),
  );
  const rows = weights.length;
  // Row 0: all segments present; row 1: none; then the coalitions.
  const total = rows + 2;
  const scores = new Float64Array(total);
  const diff = Float32Array.from(xi, (v, p) => v - bi[p]);
  // Later images are assumed to need as many coalitions as this one.
  loop.expect(total * imagesLeft);
  const make = (start: number, b: number): tf.Tensor4D => {
    const mask = new Float32Array(b * h * w);
    for (let k = 0; k < b; k++) {
      const row = start + k;
      for (let p = 0; p < h * w; p++)
        mask[k * h * w + p] = row === 0 ? 1 : row === 1 ? 0 : masks[(row - 2) * M + seg.labels[p]];
    }
    const m = tf.tensor4d(mask, [b, h, w, 1]);
    return tf.add(tf.tensor4d(bi, [1, h, w, c]), tf.mul(m, tf.tensor4d(diff, [1, h, w, c]))) as tf.Tensor4D;
  };
  await loop.runScored(total, batchSize, make, scoring, (values, start) => scores.set(values, start));
  const fx = scores[0];
  const fb = scores[1];
  const phi = solveShapley(masks, weights, scores.subarray(2), M, fx, fb);
  let sum = 0;
  for (const v of phi) sum += v;
  return {
    values: Float32Array.from(phi),
    segmentation: seg,
    scoreInput: fx,
    scoreBaseline: fb,
    delta: sum - (fx - fb),
    exact,
    coalitions: rows,
  };
}

async function run(model: tf.LayersModel, image: tf.Tensor, opts: KernelShapOptions): Promise<KernelShapResult> {
  const caller = 'kernelShap';
  await begin(caller);
  return onBaselineBatch(model, image, caller, opts, 'black', async ({ batch, base, explained, loop }) => {
    const [n, h, w, c] = batch.x.shape;
    const perImage: KernelShapImageResult[] = [];
    const pixelValues = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) {
      const xi = await readImage(batch.x, i);
      const bi = await readImage(base, i);
      const custom = opts.segments !== undefined && typeof opts.segments !== 'string';
      const seg = custom
        ? fromLabels(opts.segments as ArrayLike<number>, h, w, caller)
        : segmentImage(
            xi,
            [h, w, c],
            {
              method: opts.segments as SegmentMethod | undefined,
              nSegments: opts.nSegments,
              compactness: opts.compactness,
            },
            caller,
          );
      if (seg.count < 2) fail(caller, `got ${seg.count} segment; Kernel SHAP needs at least 2`);
      const one = sliceExplained(explained, i, 1);
      const scoring: Scoring = { model, explained: one, kind: 'values', relu: 'normal', caller };
      const r = await explainOne(xi, bi, [h, w, c], seg, scoring, opts, loop, n - i);
      perImage.push(r);
      for (let p = 0; p < h * w; p++) pixelValues[i * h * w + p] = r.values[seg.labels[p]];
    }
    const attributions = tf.tensor(pixelValues, batch.batched ? [n, h, w] : [h, w]);
    return { attributions, perImage };
  });
}

/**
 * Kernel SHAP values of image segments for a class (default: the predicted class): [H, W], each
 * pixel holding its segment's value (batch: [N, H, W]). With `details: true`: per-segment values,
 * the segmentation, the scores and the efficiency check.
 */
export async function kernelShap(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: KernelShapOptions & { details: true },
): Promise<KernelShapResult>;
export async function kernelShap(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts?: KernelShapOptions & { details?: false },
): Promise<tf.Tensor>;
export async function kernelShap(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: KernelShapOptions & { details?: boolean } = {},
): Promise<tf.Tensor | KernelShapResult> {
  const result = await run(model, image, opts);
  return opts.details ? result : result.attributions;
}
