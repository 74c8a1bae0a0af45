/**
 * Guided backpropagation (Springenberg et al. 2015) and the deconvnet of Zeiler & Fergus (2014):
 * the input gradient of a class or of one unit, with the backward pass through every ReLU
 * changed. Guided: only positive gradients, and only where the forward input was positive.
 * Deconvnet: only positive gradients, whatever the forward input. The change lasts for the call.
 */
import * as tf from '@tensorflow/tfjs';
import { begin, mapOnBatch } from '../core/harness';
import { ReluMode } from '../core/forward';
import { inputGradient, resolveExplained, TargetOptions } from '../core/objective';

export type GuidedOptions = TargetOptions;

async function modifiedGradient(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: GuidedOptions,
  mode: ReluMode,
  caller: string,
): Promise<tf.Tensor> {
  await begin(caller);
  return mapOnBatch(model, image, caller, (batch) =>
    inputGradient(model, batch.x, resolveExplained(model, opts, batch.x, caller), mode, caller),
  );
}

/**
 * Guided backprop of a class (`{ target }`, default the predicted class) or of a unit
 * (`{ layer, channel }`, optionally at `y`, `x`). Returns [H, W, C] (batch: [N, H, W, C]).
 * Needs ReLU activations; any other non-linearity is an error that names its layer.
 */
export async function guidedBackprop(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: GuidedOptions = {},
): Promise<tf.Tensor> {
  return modifiedGradient(model, image, opts, 'guided', 'guidedBackprop');
}

/** Zeiler & Fergus's deconvnet reconstruction of a class or unit; same call as guidedBackprop. */
export async function deconvnet(model: tf.LayersModel, image: tf.Tensor, opts: GuidedOptions = {}): Promise<tf.Tensor> {
  return modifiedGradient(model, image, opts, 'deconvnet', 'deconvnet');
}
