/**
 * Patching a layer's internals for the length of one synchronous call, and putting them back; the
 * few facts about layers that patching needs. Only tfjs is imported, so the explorer page bundles
 * this same module (see tools/check_layers.mjs).
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

export function isModel(layer: tf.layers.Layer): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

/** All layers, descending into models used as layers. */
export function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const l of model.layers) {
    out.push(l);
    if (isModel(l)) out.push(...allLayers(l));
  }
  return out;
}

/** A layer's activation by name ('relu', 'softmax', ...), when its config has one. */
export function activationName(layer: tf.layers.Layer): string | undefined {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === 'string' ? a : undefined;
}

/** An activation object that patch(layer, 'activation', ...) can put in. */
export function activation(name: string, fn: (x: tf.Tensor) => tf.Tensor): ActivationLike {
  return { apply: fn, getClassName: () => name };
}
