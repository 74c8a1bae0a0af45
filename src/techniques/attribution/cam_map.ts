/**
 * Grad-CAM's map from the class score's gradient at a layer and the layer's activation (Selvaraju et al. 2017), and
 * its upsampling to the image. Only tfjs is imported, so the explorer page bundles this same module.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * A CAM variant's one difference: channel weights [N, 1, 1, c] from the score's gradient at
 * the layer and the layer's activation (both [N, h, w, c]). The map is then the weighted sum of
 * the channels. Grad-CAM++ or Score-CAM would be another function of this type.
 */
export type CamWeighting = (gradients: tf.Tensor4D, activation: tf.Tensor4D) => tf.Tensor4D;

/** Grad-CAM's weights: the spatial mean of the gradient in each channel. */
export const gradCamWeights: CamWeighting = (gradients) => tf.mean(gradients, [1, 2], true) as tf.Tensor4D;

/** The channels weighted and summed, [N, h, w]; its positive part unless `relu` is false (the paper keeps it). */
export function camMap(
  gradients: tf.Tensor4D,
  activation: tf.Tensor4D,
  weighting: CamWeighting = gradCamWeights,
  relu = true,
): tf.Tensor3D {
  return tf.tidy(() => {
    const cam = tf.sum(tf.mul(weighting(gradients, activation), activation), -1) as tf.Tensor3D;
    return relu ? tf.relu(cam) : cam;
  });
}

/** Maps [N, h, w] resized (bilinear, corners aligned) to [N, height, width]. */
export function upsampleMaps(maps: tf.Tensor3D, height: number, width: number): tf.Tensor3D {
  return tf.tidy(
    () =>
      tf.squeeze(
        tf.image.resizeBilinear(tf.expandDims(maps, -1) as tf.Tensor4D, [height, width], false, true),
        [3],
      ) as tf.Tensor3D,
  );
}
