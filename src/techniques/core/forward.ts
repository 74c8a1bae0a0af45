/**
 * Running a model with temporary changes, for the length of one synchronous call:
 * the final softmax (or sigmoid) skipped (to explain the class score, not the probability: the rule
 * of runtime/logits), the ReLU gradient replaced (guided backprop, deconvnet: core/relu_rules), or a
 * layer's output tapped (Grad-CAM).
 * The model object is patched and restored in `finally`; nothing outlives the call, and no
 * await happens in between, so no other code sees the patched model.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { oneHotRows, ScoreOutput } from './inputs';
import { activation, internals, one, patch, Restore } from '../../runtime/layer_patch';
import { probabilities, skipFinalSquash } from '../../runtime/logits';
import { foldBatchNorms } from '../../runtime/fold';
import { NONLINEAR_LAYERS, overrideRelus, ReluMode } from './relu_rules';

export type { ReluMode } from './relu_rules';
export { nonReluActivations } from './relu_rules';
export { allLayers } from '../../runtime/layer_patch';
export { finalSquash } from '../../runtime/logits';

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
    if (wholeModel && output === 'logits') restores.push(...skipFinalSquash(model));
    for (const name of opts.linear ?? []) restores.push(linearize(getLayer(model, name, caller)));
    for (const [name, fn] of Object.entries(opts.taps ?? {}))
      restores.push(tapLayer(getLayer(model, name, caller), fn));
    // Batch norm folded into the convolutions, ReLU6 fused (runtime/fold): the same maps, fewer passes.
    const keep = [
      ...Object.keys(opts.taps ?? {}),
      ...(opts.linear ?? []),
      ...(opts.upTo !== undefined ? [opts.upTo] : []),
    ];
    restores.push(...foldBatchNorms(model, { keep, keepRelus: (opts.relu ?? 'normal') !== 'normal' }));
    const y = one(runner.apply(x, { training: false }) as tf.Tensor | tf.Tensor[]);
    return wholeModel && output === 'probs' ? probabilities(model, y) : y;
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
