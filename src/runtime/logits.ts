/**
 * The logits rule, once for the whole package: a model's class scores before its final squash (a
 * softmax or a sigmoid, as an activation or a layer of its own), and its probabilities (the output
 * as it is, with a softmax added when the model ends in no squash). core/forward, the pool's batch
 * tasks and the explorer page all use these; only tfjs is imported, so the page bundles this same
 * module.
 */
import * as tf from '@tensorflow/tfjs';
import { activation, activationName, internals, isModel, one, patch, Restore } from './layer_patch';

export type Squash = 'softmax' | 'sigmoid';
const SQUASHES: readonly string[] = ['softmax', 'sigmoid'];

/** The layer whose output is the model's output (descending into a nested model at the end). */
export function outputLayer(model: tf.LayersModel): tf.layers.Layer {
  const last = model.outputLayers?.[0] ?? model.layers[model.layers.length - 1];
  return isModel(last) ? outputLayer(last) : last;
}

/** The squashing function at the model's output, if any. */
export function finalSquash(model: tf.LayersModel): Squash | undefined {
  const last = outputLayer(model);
  if (last.getClassName() === 'Softmax') return 'softmax';
  const act = activationName(last);
  return act !== undefined && SQUASHES.includes(act) ? (act as Squash) : undefined;
}

/** Patches that make the model's output its logits (restore them, in reverse, after the call). */
export function skipFinalSquash(model: tf.LayersModel): Restore[] {
  if (finalSquash(model) === undefined) return [];
  const last = outputLayer(model);
  const cls = last.getClassName();
  if (cls === 'Softmax' || cls === 'Activation') return [patch(last, 'call', (inputs) => tf.clone(one(inputs)))];
  if (internals(last).activation)
    return [
      patch(
        last,
        'activation',
        activation('cnnviz_linear', (x) => x),
      ),
    ];
  return [];
}

/** The model's logits for `x` [N, classes], by running it with its final squash skipped (synchronous). */
export function logits(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const restores = skipFinalSquash(model);
  try {
    return one(model.apply(x, { training: false }) as tf.Tensor | tf.Tensor[]);
  } finally {
    for (const r of restores.reverse()) r();
  }
}

/**
 * Where the logits can be read without patching a layer (a sub-model to them shares the weights, as the pool's
 * worker needs): the model's output when it ends in no squash, else the input of a final squash layer of its own.
 * Undefined when the squash is another layer's activation (a Dense with softmax) or inside a nested model.
 */
export function logitsOutput(model: tf.LayersModel): tf.SymbolicTensor | undefined {
  if (finalSquash(model) === undefined) return model.outputs[0];
  const last = model.layers[model.layers.length - 1];
  if (outputLayer(model) !== last || last.inboundNodes.length !== 1) return undefined;
  const cls = last.getClassName();
  return cls === 'Softmax' || cls === 'Activation' ? (last.input as tf.SymbolicTensor) : undefined;
}

/** Probabilities from the model's output `y`: as they are after a final squash, else a softmax over the classes. */
export function probabilities(model: tf.LayersModel, y: tf.Tensor): tf.Tensor {
  return finalSquash(model) === undefined && (y.shape[y.shape.length - 1] ?? 1) > 1 ? tf.softmax(y) : y;
}
