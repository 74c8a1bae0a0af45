/** Reference images: the start of Integrated Gradients' path, the "absent" value for SHAP and deletion scores. */
import * as tf from '@tensorflow/tfjs';
import { gaussianBlur } from '../core/blur';
import { fail, shapeText } from '../../common';

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
