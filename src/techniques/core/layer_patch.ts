/**
 * Patching a layer's internals for the length of one synchronous call, and putting them back. Only
 * tfjs is imported, so the explorer page (explorer/compute.ts) bundles this same module.
 */
import * as tf from '@tensorflow/tfjs';

export type Restore = () => void;

export interface ActivationLike {
  apply(x: tf.Tensor): tf.Tensor;
  getClassName(): string;
}

/** Patchable view of a layer's internals (tfjs-layers keeps these as plain properties). */
export interface LayerInternals {
  activation?: ActivationLike | null;
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
  maxValue?: number | null;
}

export function internals(layer: tf.layers.Layer): LayerInternals {
  return layer as unknown as LayerInternals;
}

/** Sets `layer[key]` to `value`; the returned function restores the old value (or removes an own property). */
export function patch<K extends keyof LayerInternals>(
  layer: tf.layers.Layer,
  key: K,
  value: LayerInternals[K],
): Restore {
  const target = internals(layer);
  const own = Object.prototype.hasOwnProperty.call(target, key);
  const old = target[key];
  target[key] = value;
  return () => {
    if (own) target[key] = old;
    else delete target[key];
  };
}

/** A layer call's single input. */
export function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}
