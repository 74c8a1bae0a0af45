/**
 * Occlusion (Zeiler & Fergus 2014): slide a patch over the image and record the class score
 * with the patch at each position. Where covering the image lowers the score, the network
 * was looking. All occluded copies are evaluated in batches.
 */
import * as tf from '@tensorflow/tfjs';
import { LongWorkOptions } from '../../runtime/cancel';
import { SCORE_OUTPUTS, ScoreOutput, batchForModel, ClassTargetOptions } from '../core/inputs';
import { PerturbationLoop } from '../core/perturbation';
import { explainedValues, resolveExplained, sliceExplained } from '../core/objective';
import { baselineBatch } from './baseline';
import { fail, InternalError, checkChoice, checkPair, checkInt, shapeText } from '../../common';
import { begin, onBatch } from '../core/harness';
import { defaultStride, defaultWindow, occludedCopies, occlusionGrid, pixelDrops } from './occlusion_grid';
import { OCCLUSION_EDGES, OcclusionEdges } from './occlusion_grid';

export type OcclusionFill = 'mean' | 'blur' | 'black' | number | readonly number[];

export interface OcclusionOptions extends LongWorkOptions, ClassTargetOptions {
  /** Patch size [h, w] or one number (default: a sixth of the shorter side, at least 1). */
  window?: number | [number, number];
  /** Step between patch positions (default: a quarter of the window, at least 1). */
  stride?: number | [number, number];
  /**
   * What covers the patch: the image's 'mean' colour (default), its 'blur'red copy, 'black', a value or one per
   * channel.
   */
  fill?: OcclusionFill;
  /** Score recorded: the probability ('probs', default) or the score before the softmax ('logits'). */
  output?: ScoreOutput;
  /**
   * The grid's far edge: 'flush' (default) adds a last window flush with the bottom and right borders when the
   * strides stop short of them, so every pixel is covered (Captum 0.7 covers them too, with a last window at the next
   * stride cut short by the border); 'none' keeps Zeiler & Fergus' grid (positions only while the window fits).
   */
  edges?: OcclusionEdges;
  /** Occluded copies per forward pass (default 128). */
  batchSize?: number;
  /**
   * With `details`: also return `pixelDrop`, each pixel's mean drop over the windows covering it, aligned to the
   * image.
   */
  upsample?: boolean;
}

export interface OcclusionResult {
  /** Score with the patch at each position: [rows, cols] ([N, rows, cols] for a batch). */
  map: tf.Tensor;
  /** Unoccluded score minus map: positive where the covered region supported the class. */
  drop: tf.Tensor;
  /** [H, W] (or [N, H, W]) when upsample is set. */
  pixelDrop?: tf.Tensor;
  /** Top row of each row of positions, left column of each column of positions. */
  rows: Int32Array;
  cols: Int32Array;
  window: [number, number];
  stride: [number, number];
  /** Class explained, per image. */
  target: Int32Array;
  /** Unoccluded score, per image. */
  score: Float32Array;
  /** What the map holds: the probability ('probs') or the score before the softmax ('logits'). */
  output: ScoreOutput;
}

/**
 * Occlusion map of one image [H, W, C]: the target's score with the patch at each position, [rows, cols] (batch:
 * [N, rows, cols]). With `details: true`: the map beside its drops, the window positions, the targets and the
 * unoccluded scores (what show.occlusion draws from).
 */
export async function occlusion(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: OcclusionOptions & { details: true },
): Promise<OcclusionResult>;
export async function occlusion(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts?: OcclusionOptions & { details?: false },
): Promise<tf.Tensor>;
export async function occlusion(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: OcclusionOptions & { details?: boolean } = {},
): Promise<tf.Tensor | OcclusionResult> {
  const caller = 'occlusion';
  if (opts.details !== undefined && typeof opts.details !== 'boolean')
    fail(caller, `details must be true or false, got ${String(opts.details)}`);
  if (opts.upsample && !opts.details)
    fail(caller, 'upsample adds pixelDrop to the detailed result; pass details: true with it');
  const result = await run(model, image, opts, caller);
  if (opts.details) return result;
  tf.dispose([result.drop, result.pixelDrop]);
  return result.map;
}

async function run(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: OcclusionOptions,
  caller: string,
): Promise<OcclusionResult> {
  await begin(caller);
  const output = checkChoice(caller, 'output', opts.output, SCORE_OUTPUTS, 'probs');
  const edges = checkChoice(caller, 'edges', opts.edges, OCCLUSION_EDGES, 'flush');
  const batchSize = checkInt(caller, 'batchSize', opts.batchSize, { dflt: batchForModel(model, image, 128, caller) });
  const loop = new PerturbationLoop(caller, opts, 0);
  return onBatch(model, image, caller, async (batch) => {
    let fillImages: tf.Tensor4D | undefined;
    try {
      const [n, h, w, c] = batch.x.shape;
      const window = checkPair(caller, 'window', opts.window, defaultWindow(h, w));
      const stride = checkPair(caller, 'stride', opts.stride, defaultStride(window));
      if (window[0] > h || window[1] > w)
        fail(caller, `window ${shapeText(window)} is larger than the image ${shapeText([h, w])}`);
      const fill = opts.fill ?? 'mean';
      if (typeof fill === 'string' && !['mean', 'blur', 'black'].includes(fill))
        fail(
          caller,
          `unknown fill '${fill}'; valid choices: 'mean', 'blur', 'black', a number, or one number per channel`,
        );
      fillImages = baselineBatch(fill, batch.x, caller, Math.max(1, Math.max(...window) / 2));
      const explained = resolveExplained(model, { target: opts.target, output }, batch.x, caller);
      if (explained.kind !== 'class') throw new InternalError('occlusion explains classes');
      const grid = occlusionGrid(h, w, window, stride, edges);
      const { rows, cols } = grid;
      const count = rows.length * cols.length;
      const scores = new Float32Array(n * count);
      const unoccluded = explainedValues(model, batch.x, explained, 'normal', caller);
      const score = new Float32Array(unoccluded.dataSync());
      unoccluded.dispose();
      loop.expect(n * count);
      for (let i = 0; i < n; i++) {
        const one = sliceExplained(explained, i, 1);
        const x = tf.slice(batch.x, [i, 0, 0, 0], [1, h, w, c]);
        const f = tf.slice(fillImages, [i, 0, 0, 0], [1, h, w, c]);
        try {
          const make = (start: number, b: number): tf.Tensor4D => occludedCopies(x, f, grid, start, b);
          const scoring = { model, explained: one, kind: 'values' as const, relu: 'normal' as const, caller };
          await loop.runScored(count, batchSize, make, scoring, (values, start) =>
            scores.set(values, i * count + start),
          );
        } finally {
          tf.dispose([x, f]);
        }
      }
      const drops = scores.map((v, k) => score[Math.floor(k / count)] - v);
      const shape = batch.batched ? [n, rows.length, cols.length] : [rows.length, cols.length];
      const result: OcclusionResult = {
        map: tf.tensor(scores, shape),
        drop: tf.tensor(drops, shape),
        rows,
        cols,
        window,
        stride,
        target: explained.targets,
        score,
        output,
      };
      if (opts.upsample) {
        const pixel = new Float32Array(n * h * w);
        for (let i = 0; i < n; i++)
          pixel.set(pixelDrops(drops.subarray(i * count, (i + 1) * count), grid, h, w), i * h * w);
        result.pixelDrop = tf.tensor(pixel, batch.batched ? [n, h, w] : [h, w]);
      }
      return result;
    } finally {
      fillImages?.dispose();
    }
  });
}
