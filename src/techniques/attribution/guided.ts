/**
 * Guided backpropagation (Springenberg et al. 2015) and the deconvnet of Zeiler & Fergus (2014):
 * the input gradient of a class or of one unit, with the backward pass through every ReLU
 * changed. Guided: only positive gradients, and only where the forward input was positive.
 * Deconvnet: only positive gradients, whatever the forward input. The change lasts for the call.
 */
import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../../runtime/backend';
import { refuseInsideCheck } from '../../runtime/guard';
import { releaseBatch, toBatch, unbatch } from '../core/inputs';
import { ReluMode } from '../core/forward';
import { inputGradient, resolveExplained, TargetOptions } from '../core/objective';

export type GuidedOptions = TargetOptions;

async function modifiedGradient(model: tf.LayersModel, image: tf.Tensor, opts: GuidedOptions, mode: ReluMode, caller: string): Promise<tf.Tensor> {
  await ensureBackend();
  const batch = toBatch(model, image, caller);
  try {
    const explained = resolveExplained(model, opts, batch.x, caller);
    return unbatch(inputGradient(model, batch.x, explained, mode, caller), batch.batched);
  } finally {
    releaseBatch(batch);
  }
}

/**
 * Guided backprop of a class (`{ target }`, default the predicted class) or of a unit
 * (`{ layer, channel }`, optionally at `y`, `x`). Returns [H, W, C] (batch: [N, H, W, C]).
 * Needs ReLU activations; any other non-linearity is an error that names its layer.
 */
export async function guidedBackprop(model: tf.LayersModel, image: tf.Tensor, opts: GuidedOptions = {}): Promise<tf.Tensor> {
  refuseInsideCheck('guidedBackprop');
  return modifiedGradient(model, image, opts, 'guided', 'guidedBackprop');
}

/** Zeiler & Fergus's deconvnet reconstruction of a class or unit; same call as guidedBackprop. */
export async function deconvnet(model: tf.LayersModel, image: tf.Tensor, opts: GuidedOptions = {}): Promise<tf.Tensor> {
  refuseInsideCheck('deconvnet');
  return modifiedGradient(model, image, opts, 'deconvnet', 'deconvnet');
}
