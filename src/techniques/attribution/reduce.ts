/**
 * How the channels of a gradient become one value per pixel. Only tfjs is imported, so the explorer page bundles
 * this same module for its saliency map.
 */
import * as tf from '@tensorflow/tfjs';

export type Reduce = 'maxAbs' | 'l2' | 'sum' | 'none';
export const REDUCE_CHOICES: readonly Reduce[] = ['maxAbs', 'l2', 'sum', 'none'];

/** Channel reduction of [..., C] attributions; 'none' returns the input unchanged (same tensor). */
export function reduceChannels(t: tf.Tensor, reduce: Reduce): tf.Tensor {
  switch (reduce) {
    case 'none':
      return t;
    case 'maxAbs':
      return tf.max(tf.abs(t), -1);
    case 'l2':
      return tf.sqrt(tf.sum(tf.square(t), -1));
    case 'sum':
      return tf.sum(t, -1);
  }
}
