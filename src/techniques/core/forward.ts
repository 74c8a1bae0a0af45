/**
 * Running a model with temporary changes, for the length of one synchronous call:
 * the final softmax (or sigmoid) skipped (to explain the class score, not the probability), the ReLU
 * gradient replaced (guided backprop, deconvnet), or a layer's output tapped (Grad-CAM).
 * The model object is patched and restored in `finally`; nothing outlives the call, and no
 * await happens in between, so no other code sees the patched model.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { oneHotRows, ScoreOutput } from './inputs';
import { fail } from '../../common';
import { ActivationLike, internals, one, patch, Restore } from './layer_patch';

export type ReluMode = 'normal' | 'guided' | 'deconvnet';

export interface ForwardOptions {
  /**
   * 'logits' (default) skips a final softmax or sigmoid; 'probs' returns probabilities (softmax added if the model
   * ends in neither).
   */
  output?: ScoreOutput;
  /**
   * How gradients pass ReLUs: unchanged, only positive where the input was positive (guided), or only positive
   * (deconvnet).
   */
  relu?: ReluMode;
  /** Replace a layer's output with fn(output), e.g. to add a zero tensor whose gradient is the layer's gradient. */
  taps?: Record<string, (output: tf.Tensor) => tf.Tensor>;
  /** Stop at this layer and return its output. */
  upTo?: string;
  /** Layers whose activation is skipped (their output is the pre-activation), e.g. to ascend a silent ReLU unit. */
  linear?: string[];
  /** Name used in error messages. */
  caller?: string;
}

function activation(name: string, fn: (x: tf.Tensor) => tf.Tensor): ActivationLike {
  return { apply: fn, getClassName: () => name };
}

function isModel(layer: tf.layers.Layer): layer is tf.LayersModel {
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

function activationName(layer: tf.layers.Layer): string | undefined {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === 'string' ? a : undefined;
}

/** The layer whose output is the model's output (descending into a nested model at the end). */
function outputLayer(model: tf.LayersModel): tf.layers.Layer {
  const last = model.outputLayers?.[0] ?? model.layers[model.layers.length - 1];
  return isModel(last) ? outputLayer(last) : last;
}

const SQUASHES = ['softmax', 'sigmoid'];

/**
 * The squashing function at the model's output ('softmax' or 'sigmoid', as an activation or a layer of its own), if
 * any.
 */
export function finalSquash(model: tf.LayersModel): string | undefined {
  const last = outputLayer(model);
  if (last.getClassName() === 'Softmax') return 'softmax';
  const act = activationName(last);
  return act !== undefined && SQUASHES.includes(act) ? act : undefined;
}

function dropFinalSquash(model: tf.LayersModel): Restore[] {
  const last = outputLayer(model);
  if (finalSquash(model) === undefined) return [];
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

const RELU_ACTIVATIONS = ['relu', 'relu6'];
const HARMLESS_ACTIVATIONS = ['linear'];
const NONLINEAR_LAYERS = ['LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU'];

/**
 * ReLU whose backward pass follows `mode`; the forward pass is the ordinary (capped) ReLU, or a
 * leaky one with slope `leak` below zero (Darknet's), whose guided gradient keeps that slope.
 */
function modifiedRelu(mode: Exclude<ReluMode, 'normal'>, cap: number | null, leak = 0): (x: tf.Tensor) => tf.Tensor {
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

function overrideRelus(model: tf.LayersModel, mode: Exclude<ReluMode, 'normal'>, caller: string): Restore[] {
  const { relus, others } = nonReluActivations(model);
  if (others.length > 0) {
    fail(
      caller,
      `${mode === 'guided' ? 'guided backprop' : 'deconvnet'} needs a ReLU network, ` +
        `but ${others.join(', ')} ${others.length > 1 ? 'are' : 'is'} not ReLU or linear`,
    );
  }
  if (relus.length === 0)
    fail(caller, `${mode === 'guided' ? 'guided backprop' : 'deconvnet'} needs ReLU activations; this model has none`);
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

/** Skip a layer's activation (ReLU-like layers become the identity). */
function linearize(layer: tf.layers.Layer): Restore {
  if (internals(layer).activation)
    return patch(
      layer,
      'activation',
      activation('cnnviz_linear', (x) => x),
    );
  if (NONLINEAR_LAYERS.includes(layer.getClassName()) || layer.getClassName() === 'ReLU')
    return patch(layer, 'call', (inputs) => tf.clone(one(inputs)));
  return () => undefined;
}

function tapLayer(layer: tf.layers.Layer, fn: (t: tf.Tensor) => tf.Tensor): Restore {
  const inner = internals(layer).call.bind(layer);
  return patch(layer, 'call', (inputs, kwargs) => fn(one(inner(inputs, kwargs))));
}

const subModels = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

/** A model from the input to `layerName`'s output, sharing weights (cached per model). */
export function modelUpTo(model: tf.LayersModel, layerName: string, caller: string): tf.LayersModel {
  const layer = getLayer(model, layerName, caller);
  let cache = subModels.get(model);
  if (!cache) subModels.set(model, (cache = new Map()));
  let sub = cache.get(layerName);
  if (!sub) {
    const out = layer.inboundNodes.length > 1 ? layer.getOutputAt(0) : layer.output;
    sub = tf.model({ inputs: model.inputs, outputs: out as tf.SymbolicTensor });
    cache.set(layerName, sub);
  }
  return sub;
}

/** Run the model (synchronously) with the requested changes in place only during the call. */
export function forward(model: tf.LayersModel, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
  const caller = opts.caller ?? 'cnnviz';
  const output = opts.output ?? 'logits';
  const runner = opts.upTo !== undefined ? modelUpTo(model, opts.upTo, caller) : model;
  for (const name of Object.keys(opts.taps ?? {})) getLayer(model, name, caller);
  const restores: Restore[] = [];
  try {
    const wholeModel = opts.upTo === undefined;
    // ReLUs first: their check reads the layers' configs, which the other patches change.
    if (opts.relu && opts.relu !== 'normal') restores.push(...overrideRelus(model, opts.relu, caller));
    if (wholeModel && output === 'logits') restores.push(...dropFinalSquash(model));
    for (const name of opts.linear ?? []) restores.push(linearize(getLayer(model, name, caller)));
    for (const [name, fn] of Object.entries(opts.taps ?? {}))
      restores.push(tapLayer(getLayer(model, name, caller), fn));
    const y = one(runner.apply(x, { training: false }) as tf.Tensor | tf.Tensor[]);
    if (wholeModel && output === 'probs' && finalSquash(model) === undefined && y.shape[y.shape.length - 1]! > 1)
      return tf.softmax(y);
    return y;
  } finally {
    for (const r of restores.reverse()) r();
  }
}

/** Sum over the batch of each image's target class score: the objective whose gradient explains the targets. */
export function classObjective(scores: tf.Tensor, targets: Int32Array): tf.Scalar {
  const classes = scores.shape[scores.shape.length - 1]!;
  return tf.tidy(() => tf.sum(tf.mul(scores, oneHotRows(targets, classes))));
}

/** Predicted class per image (argmax of the output). */
export function predictedClasses(model: tf.LayersModel, x: tf.Tensor4D): Int32Array {
  // The tensor leaves tidy, not the array: tidy walks whatever it returns, element by element.
  const arg = tf.tidy(() => tf.argMax(forward(model, x, { output: 'logits' }), -1));
  const out = new Int32Array(arg.dataSync());
  arg.dispose();
  return out;
}
