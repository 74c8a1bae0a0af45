/**
 * First-layer filters: the kernels of a convolution as small images (the lecture's AlexNet
 * conv1 grid). Only the first layer's filters look at pixels, so only they read as pictures.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { ensureBackend } from '../../runtime/backend';
import { checkModel, fail, checkChoice } from '../../common';

/** 'none': raw weights; 'filter': each filter stretched to [0, 1]; 'shared': one scale for all, 0 maps to 0.5. */
export type FilterNormalization = 'none' | 'filter' | 'shared';
export const FILTER_NORMALIZATIONS: readonly FilterNormalization[] = ['none', 'filter', 'shared'];

export interface FirstLayerFiltersOptions {
  /** A Conv2D or DepthwiseConv2D layer (default: the first one). */
  layer?: string;
  /** Scaling for display (default 'none': the weights as they are). */
  normalize?: FilterNormalization;
}

const CONV_TYPES = ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'];

function convLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => CONV_TYPES.includes(l.getClassName()));
}

/**
 * The layer's kernels as [n, kh, kw, c]: filter i is kernel[:, :, :, i] (Conv2D keeps them
 * as [kh, kw, c, n]). Depthwise layers give one filter per input channel and multiplier, c = 1.
 */
export async function firstLayerFilters(
  model: tf.LayersModel,
  opts: FirstLayerFiltersOptions = {},
): Promise<tf.Tensor4D> {
  const caller = 'firstLayerFilters';
  checkModel(model, caller);
  await ensureBackend();
  const normalize = checkChoice(caller, 'normalize', opts.normalize, FILTER_NORMALIZATIONS, 'none');
  const convs = convLayers(model);
  let layer: tf.layers.Layer;
  if (opts.layer === undefined) {
    if (convs.length === 0)
      fail(
        caller,
        `this model has no convolution layer; its ` +
          `layers: ${model.layers.map((l) => `${l.name} (${l.getClassName()})`).join(', ')}`,
      );
    layer = convs[0];
  } else {
    layer = getLayer(model, opts.layer, caller);
    if (!convs.includes(layer)) {
      fail(
        caller,
        `layer '${layer.name}' (${layer.getClassName()}) has no convolution kernel; conv ` +
          `layers: ${convs.map((l) => l.name).join(', ') || 'none'}`,
      );
    }
  }
  const kernel = layer.getWeights()[0] as tf.Tensor4D;
  return tf.tidy(() => {
    let filters: tf.Tensor4D;
    const [kh, kw, c, m] = kernel.shape;
    if (layer.getClassName() === 'Conv2D') filters = tf.transpose(kernel, [3, 0, 1, 2]);
    else filters = tf.reshape(tf.transpose(kernel, [2, 3, 0, 1]), [c * m, kh, kw, 1]);
    if (normalize === 'filter') {
      const lo = tf.min(filters, [1, 2, 3], true);
      const hi = tf.max(filters, [1, 2, 3], true);
      filters = tf.div(tf.sub(filters, lo), tf.maximum(tf.sub(hi, lo), 1e-12));
    } else if (normalize === 'shared') {
      const scale = tf.maximum(tf.max(tf.abs(filters)), 1e-12);
      filters = tf.add(0.5, tf.div(filters, tf.mul(2, scale)));
    }
    return filters;
  });
}
