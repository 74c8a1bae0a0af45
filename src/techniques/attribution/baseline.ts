/** Reference images: the start of Integrated Gradients' path, the "absent" value for SHAP and deletion scores. */
import * as tf from '@tensorflow/tfjs';
import { LongWorkOptions } from '../../runtime/cancel';
import { gaussianBlur } from '../core/blur';
import { onBatch } from '../core/harness';
import { Batch, ClassTargetOptions, SCORE_OUTPUTS, ScoreOutput } from '../core/inputs';
import { Explained, resolveExplained } from '../core/objective';
import { PerturbationLoop } from '../core/perturbation';
import { fail, checkChoice, shapeText } from '../../common';

/**
 * 'black' (zeros), 'mean' (each image's mean colour), 'blur' (a Gaussian-blurred copy), a number
 * (every pixel), one number per channel, or a tensor [H, W, C] / [N, H, W, C].
 */
export type BaselineChoice = 'black' | 'mean' | 'blur' | number | readonly number[] | tf.Tensor;
export const BASELINE_NAMES = ['black', 'mean', 'blur'] as const;

/** Default blur for 'blur' baselines: a tenth of the shorter side, at least one pixel. */
export function defaultBlurSigma(h: number, w: number): number {
  return Math.max(1, Math.min(h, w) / 10);
}

/** The baseline for every image of x, shaped like x (the caller owns it). */
export function baselineBatch(choice: BaselineChoice, x: tf.Tensor4D, caller: string, blurSigma?: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const tensor = `a tensor ${shapeText([h, w, c])}`;
  const expected = `'black', 'mean', 'blur', a number, ${c} numbers (one per channel), or ${tensor}`;
  if (typeof choice === 'number') {
    if (!Number.isFinite(choice)) fail(caller, `baseline ${choice} is not a finite number`);
    return tf.fill(x.shape, choice) as tf.Tensor4D;
  }
  if (typeof choice === 'string') {
    if (choice === 'black') return tf.zerosLike(x);
    if (choice === 'mean') return tf.tidy(() => tf.mul(tf.onesLike(x), tf.mean(x, [1, 2], true)) as tf.Tensor4D);
    if (choice === 'blur') return gaussianBlur(x, blurSigma ?? defaultBlurSigma(h, w));
    fail(caller, `unknown baseline '${choice}'; valid choices: ${expected}`);
  }
  if (Array.isArray(choice)) {
    if (choice.length !== c || !choice.every((v) => Number.isFinite(v)))
      fail(caller, `baseline ${JSON.stringify(choice)} should be ${c} finite numbers (one per channel)`);
    return tf.tidy(() => tf.mul(tf.onesLike(x), tf.tensor1d(choice as number[])) as tf.Tensor4D);
  }
  if (choice instanceof tf.Tensor) {
    const s = choice.shape;
    const ok =
      (s.length === 3 && s[0] === h && s[1] === w && s[2] === c) ||
      (s.length === 4 && (s[0] === n || s[0] === 1) && s[1] === h && s[2] === w && s[3] === c);
    if (!ok)
      fail(
        caller,
        `baseline has shape ${shapeText(s)}; expected ${shapeText([h, w, c])} or ${shapeText([n, h, w, c])}`,
      );
    const values = choice.dataSync();
    if (values.some((v) => !Number.isFinite(v))) fail(caller, 'baseline contains NaN or infinite values');
    return tf.tidy(
      () =>
        tf.mul(tf.onesLike(x), tf.cast(s.length === 3 ? tf.expandDims(choice, 0) : choice, 'float32')) as tf.Tensor4D,
    );
  }
  return fail(caller, `baseline should be ${expected}; got ${typeof choice}`);
}

/** What Kernel SHAP and deletion/insertion read of their options in common. */
export interface BaselineRunOptions extends LongWorkOptions, ClassTargetOptions {
  baseline?: BaselineChoice;
  output?: ScoreOutput;
}

/** One baseline method's call: the batch, its baseline images, what is explained, and the loop. */
export interface BaselineRun<P> {
  batch: Batch;
  base: tf.Tensor4D;
  explained: Explained;
  loop: PerturbationLoop;
  /** What `prepare` returned. */
  prepared: P;
}

/**
 * The opening and closing Kernel SHAP and deletion/insertion share (the backend is the caller's):
 * the output option, one perturbation loop (progress and cancellation), the checked batch,
 * `prepare` on it (checks of the method's own inputs), its baseline images, what is explained,
 * then `body`; the baseline images are freed however it ends.
 */
export async function onBaselineBatch<R, P = undefined>(
  model: tf.LayersModel,
  image: tf.Tensor,
  caller: string,
  opts: BaselineRunOptions,
  defaultBaseline: BaselineChoice,
  body: (run: BaselineRun<P>) => Promise<R>,
  prepare: (batch: Batch) => P = () => undefined as P,
): Promise<R> {
  const output = checkChoice(caller, 'output', opts.output, SCORE_OUTPUTS, 'probs');
  const loop = new PerturbationLoop(caller, opts, 0);
  return onBatch(model, image, caller, async (batch) => {
    let base: tf.Tensor4D | undefined;
    try {
      const prepared = prepare(batch);
      base = baselineBatch(opts.baseline ?? defaultBaseline, batch.x, caller);
      const explained = resolveExplained(model, { target: opts.target, output }, batch.x, caller);
      return await body({ batch, base, explained, loop, prepared });
    } finally {
      base?.dispose();
    }
  });
}
