/**
 * Saliency map (Simonyan, Vedaldi & Zisserman 2014): the gradient of the class score with
 * respect to the pixels; large where a small change of the pixel changes the score most.
 */
import * as tf from '@tensorflow/tfjs';
import { begin, mapOnBatch } from '../core/harness';
import { inputGradient, resolveExplained, TargetOptions } from '../core/objective';
import { checkChoice } from '../../common';
import { Reduce, REDUCE_CHOICES, reduceChannels } from './reduce';

export { reduceChannels, REDUCE_CHOICES } from './reduce';
export type { Reduce } from './reduce';

export interface SaliencyOptions extends TargetOptions {
  /** 'maxAbs' (the paper's choice, default), 'l2' norm, signed 'sum', or 'none' to keep the channels. */
  reduce?: Reduce;
}

/**
 * Gradient of the target's score (before the softmax by default) with respect to the input.
 * One image [H, W, C] gives [H, W] (or [H, W, C] with reduce 'none'); a batch gives [N, ...].
 * `{ layer, channel }` explains a unit inside the network instead of a class.
 */
export async function saliency(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: SaliencyOptions = {},
): Promise<tf.Tensor> {
  const caller = 'saliency';
  await begin(caller);
  const reduce = checkChoice(caller, 'reduce', opts.reduce, REDUCE_CHOICES, 'maxAbs');
  return mapOnBatch(model, image, caller, (batch) => {
    const explained = resolveExplained(model, opts, batch.x, caller);
    return tf.tidy(() => {
      const g = inputGradient(model, batch.x, explained, 'normal', caller);
      return reduce === 'none' ? g : reduceChannels(g, reduce);
    });
  });
}
