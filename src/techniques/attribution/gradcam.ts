/**
 * Grad-CAM (Selvaraju et al. 2017): weight each channel of a conv layer's activation map by the
 * spatial mean of the class score's gradient there, sum, keep the positive part. Guided
 * Grad-CAM multiplies guided backprop by that map, upsampled to the image.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { begin, mapOnBatch } from '../core/harness';
import { oneHotRows } from '../core/inputs';
import { forward } from '../core/forward';
import { inputGradient, resolveExplained, TargetOptions } from '../core/objective';
import { checkModel, fail, InternalError } from '../../common';
import { camLayerName, spatialLayers } from './cam_layer';
import { camMap, CamWeighting, gradCamWeights, upsampleMaps } from './cam_map';

export { gradCamWeights } from './cam_map';
export type { CamWeighting } from './cam_map';

export interface GradCamOptions extends Pick<TargetOptions, 'target' | 'output'> {
  /** A layer with a spatial output [h, w, c]. Default: the last convolution. */
  layer?: string;
  /** Resize the map to the image size (bilinear, default true); false returns [h, w] of the layer. */
  upsample?: boolean;
  /** Keep only the positive part, as in the paper (default true). */
  relu?: boolean;
  /** How each channel of the layer is weighted (default: gradCamWeights, the paper's). */
  weighting?: CamWeighting;
}

/**
 * The layer Grad-CAM uses by default: the end of the last convolution block whose map is larger
 * than 1x1 (the last such conv, followed through its batch norm and activation layers), else the
 * last layer with a spatial map. A 1x1 map (MobileNet's `conv_preds`) gives a uniform heat map.
 */
export function defaultCamLayer(model: tf.LayersModel, caller = 'gradCam'): string {
  checkModel(model, caller);
  const name = camLayerName(model);
  if (name === null) fail(caller, 'this model has no layer with a spatial output [h, w, c] larger than 1x1');
  return name;
}

function camLayer(model: tf.LayersModel, name: string | undefined, caller: string): tf.layers.Layer {
  if (name === undefined) return getLayer(model, defaultCamLayer(model, caller), caller);
  const layer = getLayer(model, name, caller);
  if (!spatialLayers(model).includes(layer)) {
    fail(
      caller,
      `layer '${name}' (${layer.getClassName()}) has no spatial map; layers with one: ${spatialLayers(model)
        .map((l) => l.name)
        .join(', ')}`,
    );
  }
  return layer;
}

/** Grad-CAM maps [N, h, w] (or [N, H, W] upsampled) for a checked batch. */
function camMaps(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  opts: GradCamOptions,
  caller: string,
  upsample: boolean,
): tf.Tensor3D {
  const layer = camLayer(model, opts.layer, caller);
  const explained = resolveExplained(model, { target: opts.target, output: opts.output }, x, caller);
  if (explained.kind !== 'class') throw new InternalError('Grad-CAM explains classes');
  return tf.tidy(() => {
    let activation: tf.Tensor | undefined;
    const declared = (layer.outputShape as (number | null)[]).slice(1);
    // Models that take any image size leave the map size open; one forward pass finds it.
    const mapShape = declared.every((d) => d !== null)
      ? (declared as number[])
      : forward(model, x, { upTo: layer.name, caller }).shape.slice(1);
    const zeros = tf.zeros([x.shape[0], ...mapShape]);
    // The gradient with respect to a zero added to the layer's output is the gradient at that output.
    const run = (delta: tf.Tensor): tf.Scalar => {
      const scores = forward(model, x, {
        output: explained.output,
        caller,
        taps: {
          [layer.name]: (out) => {
            activation = tf.keep(out);
            return tf.add(out, delta);
          },
        },
      });
      const classes = scores.shape[scores.shape.length - 1]!;
      return tf.sum(tf.mul(scores, oneHotRows(explained.targets, classes)));
    };
    let grads: tf.Tensor;
    try {
      grads = tf.grad(run)(zeros);
      const cam = camMap(grads as tf.Tensor4D, activation as tf.Tensor4D, opts.weighting ?? gradCamWeights, opts.relu);
      if (!upsample) return cam;
      return upsampleMaps(cam, x.shape[1], x.shape[2]);
    } finally {
      activation?.dispose();
    }
  });
}

/**
 * Grad-CAM heat map of a class (default: the predicted class) at a conv layer (default: the last),
 * [H, W] upsampled to the image (batch: [N, H, W]); with upsample false, the layer's [h, w].
 */
export async function gradCam(model: tf.LayersModel, image: tf.Tensor, opts: GradCamOptions = {}): Promise<tf.Tensor> {
  const caller = 'gradCam';
  await begin(caller);
  return mapOnBatch(model, image, caller, (batch) => {
    // Validate the layer before the shape question so a bad name gets the layer list.
    camLayer(model, opts.layer, caller);
    return camMaps(model, batch.x, opts, caller, opts.upsample !== false);
  });
}

/** Guided Grad-CAM: guided backprop [H, W, C] times the upsampled Grad-CAM map. */
export async function guidedGradCam(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: Omit<GradCamOptions, 'upsample'> = {},
): Promise<tf.Tensor> {
  const caller = 'guidedGradCam';
  await begin(caller);
  return mapOnBatch(model, image, caller, (batch) => {
    const explained = resolveExplained(model, { target: opts.target, output: opts.output }, batch.x, caller);
    const fixed = { ...opts, target: Array.from(explained.kind === 'class' ? explained.targets : []) };
    return tf.tidy(() => {
      const cam = camMaps(model, batch.x, fixed, caller, true);
      const guided = inputGradient(model, batch.x, explained, 'guided', caller);
      return tf.mul(guided, tf.expandDims(cam, -1));
    });
  });
}
