/**
 * How gradients pass the ReLUs for guided backprop (Springenberg 2015) and the deconvnet (Zeiler & Fergus 2014),
 * and which networks they mean anything for. Only tfjs is imported (and common/errors, which imports nothing), so the
 * explorer page bundles this same module for its guided backprop.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../../common/errors';
import {
  activation,
  activationName,
  allLayers,
  internals,
  isModel,
  one,
  patch,
  Restore,
} from '../../runtime/layer_patch';
import { outputLayer } from '../../runtime/logits';

export type ReluMode = 'normal' | 'guided' | 'deconvnet';

const RELU_ACTIVATIONS = ['relu', 'relu6'];
const HARMLESS_ACTIVATIONS = ['linear'];
const SQUASHES = ['softmax', 'sigmoid'];
/** Layers that are an activation of their own and not a ReLU (LeakyReLU counts as one: Darknet's). */
export const NONLINEAR_LAYERS = ['LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU'];

/**
 * ReLU whose backward pass follows `mode`; the forward pass is the ordinary (capped) ReLU, or a
 * leaky one with slope `leak` below zero (Darknet's), whose guided gradient keeps that slope.
 */
export function modifiedRelu(
  mode: Exclude<ReluMode, 'normal'>,
  cap: number | null,
  leak = 0,
): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = leak > 0 ? tf.leakyRelu(x, leak) : cap === null ? tf.relu(x) : tf.clipByValue(x, 0, cap);
    save([x]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const positiveDy = tf.greater(dy, 0);
        if (mode === 'deconvnet') return tf.where(positiveDy, dy, tf.zerosLike(dy));
        const xs = saved[0];
        if (leak > 0) return tf.where(positiveDy, tf.where(tf.greater(xs, 0), dy, tf.mul(dy, leak)), tf.zerosLike(dy));
        let open = tf.greater(xs, 0);
        if (cap !== null) open = tf.logicalAnd(open, tf.less(xs, cap));
        return tf.where(tf.logicalAnd(open, positiveDy), dy, tf.zerosLike(dy));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

/** Names and activations of the layers that stop guided backprop / deconvnet from meaning anything. */
export function nonReluActivations(model: tf.LayersModel): { relus: string[]; others: string[] } {
  const last = outputLayer(model);
  const relus: string[] = [];
  const others: string[] = [];
  for (const layer of allLayers(model)) {
    if (isModel(layer)) continue;
    const cls = layer.getClassName();
    const act = activationName(layer);
    if (cls === 'ReLU' || cls === 'LeakyReLU' || (act !== undefined && RELU_ACTIVATIONS.includes(act)))
      relus.push(layer.name);
    else if (NONLINEAR_LAYERS.includes(cls)) others.push(`'${layer.name}' (${cls})`);
    else if (act !== undefined && !HARMLESS_ACTIVATIONS.includes(act) && !(layer === last && SQUASHES.includes(act))) {
      others.push(`'${layer.name}' (activation '${act}')`);
    }
  }
  return { relus, others };
}

/**
 * Why guided backprop / the deconvnet cannot run on this model (a message without the caller's name), or null when
 * it can.
 */
export function reluProblem(model: tf.LayersModel, mode: Exclude<ReluMode, 'normal'>): string | null {
  const { relus, others } = nonReluActivations(model);
  const what = mode === 'guided' ? 'guided backprop' : 'deconvnet';
  const are = others.length > 1 ? 'are' : 'is';
  if (others.length > 0) return `${what} needs a ReLU network, but ${others.join(', ')} ${are} not ReLU or linear`;
  if (relus.length === 0) return `${what} needs ReLU activations; this model has none`;
  return null;
}

/** Patches every ReLU of the model to pass gradients by `mode` (restore them, in reverse, after the call). */
export function overrideRelus(model: tf.LayersModel, mode: Exclude<ReluMode, 'normal'>, caller: string): Restore[] {
  const problem = reluProblem(model, mode);
  if (problem) fail(caller, problem);
  const { relus } = nonReluActivations(model);
  const restores: Restore[] = [];
  for (const layer of allLayers(model)) {
    if (!relus.includes(layer.name)) continue;
    if (layer.getClassName() === 'LeakyReLU') {
      const alpha = (layer.getConfig() as { alpha?: number }).alpha ?? 0.3;
      const f = modifiedRelu(mode, null, alpha);
      restores.push(patch(layer, 'call', (inputs) => f(one(inputs))));
    } else if (layer.getClassName() === 'ReLU') {
      const cap = internals(layer).maxValue ?? null;
      const f = modifiedRelu(mode, cap);
      restores.push(patch(layer, 'call', (inputs) => f(one(inputs))));
    } else {
      const f = modifiedRelu(mode, activationName(layer) === 'relu6' ? 6 : null);
      restores.push(patch(layer, 'activation', activation(`cnnviz_${mode}_relu`, f)));
    }
  }
  return restores;
}
