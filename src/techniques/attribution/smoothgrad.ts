/**
 * SmoothGrad (Smilkov et al. 2017): average the gradient over noisy copies of the image, which
 * removes much of the speckle of a plain saliency map. Variants: the mean gradient, the mean
 * squared gradient (SmoothGrad-Squared), and the variance over the copies (VarGrad).
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32, normalSource } from '../../common/random';
import { LongWorkOptions } from '../../runtime/cancel';
import { begin, mapOnBatch } from '../core/harness';
import { batchForModel, readImage } from '../core/inputs';
import { PerturbationLoop } from '../core/perturbation';
import { ReluMode } from '../core/forward';
import { resolveExplained, sliceExplained, TargetOptions } from '../core/objective';
import { Reduce, REDUCE_CHOICES, reduceChannels } from './reduce';
import { checkNumber, checkChoice, checkInt } from '../../common';

export type SmoothGradVariant = 'mean' | 'squared' | 'variance';
export const SMOOTHGRAD_VARIANTS: readonly SmoothGradVariant[] = ['mean', 'squared', 'variance'];

export interface SmoothGradOptions extends TargetOptions, LongWorkOptions {
  /** Noisy copies per image (default 25). */
  samples?: number;
  /** Noise standard deviation as a fraction of the image's value range max - min (default 0.15). */
  noiseLevel?: number;
  /** 'mean' (default), 'squared' (mean of squared gradients) or 'variance' (VarGrad). */
  variant?: SmoothGradVariant;
  /** Which gradient is smoothed: plain ('saliency', default) or guided backprop ('guided'). */
  gradient?: 'saliency' | 'guided';
  /** Channel reduction as in saliency (default 'maxAbs'; 'none' keeps [H, W, C]). */
  reduce?: Reduce;
  /** Noisy copies per forward/backward pass (default 32). */
  batchSize?: number;
  /** Seed of the noise (default 0): same seed, same map. */
  seed?: number;
}

/**
 * SmoothGrad map of a class (or unit), shaped like saliency's result: [H, W] for one image with
 * the default reduce, [N, ...] for a batch.
 */
export async function smoothGrad(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: SmoothGradOptions = {},
): Promise<tf.Tensor> {
  const caller = 'smoothGrad';
  await begin(caller);
  const samples = checkInt(caller, 'samples', opts.samples, { dflt: 25, max: 10000 });
  const noiseLevel = checkNumber(caller, 'noiseLevel', opts.noiseLevel, { dflt: 0.15, min: 0 });
  const variant = checkChoice(caller, 'variant', opts.variant, SMOOTHGRAD_VARIANTS, 'mean');
  const reduce = checkChoice(caller, 'reduce', opts.reduce, REDUCE_CHOICES, 'maxAbs');
  const gradient = checkChoice(caller, 'gradient', opts.gradient, ['saliency', 'guided'] as const, 'saliency');
  const batchSize = checkInt(caller, 'batchSize', opts.batchSize, {
    dflt: Math.max(1, Math.floor(batchForModel(model, image, 64, caller) / 2)),
  });
  const relu: ReluMode = gradient === 'guided' ? 'guided' : 'normal';
  const normal = normalSource(mulberry32(opts.seed ?? 0));
  const loop = new PerturbationLoop(caller, opts, 0);
  return mapOnBatch(model, image, caller, async (batch) => {
    const explained = resolveExplained(model, opts, batch.x, caller);
    const [n, h, w, c] = batch.x.shape;
    const size = h * w * c;
    const result = new Float32Array(n * size);
    loop.expect(n * samples);
    for (let i = 0; i < n; i++) {
      const pixels = await readImage(batch.x, i);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of pixels) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const sigma = noiseLevel * (hi - lo);
      const sum = new Float64Array(size);
      // The mean needs no squares; the two other variants do.
      const sumSq = variant === 'mean' ? undefined : new Float64Array(size);
      const one = sliceExplained(explained, i, 1);
      const make = (_start: number, b: number): tf.Tensor4D => {
        const noisy = new Float32Array(b * size);
        for (let k = 0; k < b; k++) for (let p = 0; p < size; p++) noisy[k * size + p] = pixels[p] + sigma * normal();
        return tf.tensor4d(noisy, [b, h, w, c]);
      };
      const scoring = { model, explained: one, kind: 'gradient' as const, relu, caller };
      await loop.runScored(samples, batchSize, make, scoring, (g, _start, b) => {
        for (let k = 0; k < b; k++) {
          const at = k * size;
          if (sumSq) {
            for (let p = 0; p < size; p++) {
              const v = g[at + p];
              sum[p] += v;
              sumSq[p] += v * v;
            }
          } else for (let p = 0; p < size; p++) sum[p] += g[at + p];
        }
      });
      for (let p = 0; p < size; p++) {
        const mean = sum[p] / samples;
        const meanSq = sumSq ? sumSq[p] / samples : 0;
        result[i * size + p] =
          variant === 'mean' ? mean : variant === 'squared' ? meanSq : Math.max(0, meanSq - mean * mean);
      }
    }
    return tf.tidy(() => reduceChannels(tf.tensor4d(result, [n, h, w, c]), reduce));
  });
}
