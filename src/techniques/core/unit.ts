/**
 * The value of one unit inside the network, per image: what guided backprop, saliency of a neuron and class
 * visualization of a channel explain. Only tfjs is imported, so the explorer page bundles this same module.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Channel `channel` of a layer's output [N, ..., C]: at (y, x) when both are given, else averaged over the positions
 * (so the value does not grow with the map size); [N].
 */
export function unitValues(out: tf.Tensor, channel: number, y?: number, x?: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (out.rank === 2) return tf.reshape(tf.slice(out, [0, channel], [-1, 1]), [-1]) as tf.Tensor1D;
    if (y !== undefined && x !== undefined)
      return tf.reshape(tf.slice(out, [0, y, x, channel], [-1, 1, 1, 1]), [-1]) as tf.Tensor1D;
    return tf.mean(tf.slice(out, [0, 0, 0, channel], [-1, -1, -1, 1]), [1, 2, 3]) as tf.Tensor1D;
  });
}
