import * as tf from '@tensorflow/tfjs';
import { logitsOutput, probabilities } from './logits';
import { withFolded } from './fold';
import { fail } from '../common';

/**
 * Work on one slice of a batch: gets tfjs, the model (a worker's own copy) and the images
 * [n, H, W, C], returns a tensor whose first axis has length n (the caller owns it).
 * Functions sent to worker threads travel as source text, so they must be self-contained:
 * everything they use comes in through their parameters (use the `tf` given, not an import).
 */
export type BatchFn<O = unknown> = (
  tfjs: typeof tf,
  model: tf.LayersModel,
  images: tf.Tensor4D,
  options: O,
) => tf.Tensor | Promise<tf.Tensor>;

/** Tasks every worker knows by name. */
export const BUILTIN_TASKS = ['predict', 'inputGradient', 'layerOutput', 'classScores', 'classGradient'] as const;
export type BuiltinTask = (typeof BUILTIN_TASKS)[number];

/** A function, a built-in task name, or an export of a module the workers can require. */
export type BatchTask<O = unknown> = BatchFn<O> | BuiltinTask | { module: string; name: string };

export interface InputGradientOptions {
  /** Class (output unit) whose score is differentiated, one for all or one per image. */
  target: number | number[];
}

export interface LayerOutputOptions {
  layer: string;
}

/** One class per image, scored before the softmax ('logits') or after it ('probs'). */
export interface ClassScoreOptions {
  targets: number[];
  output: 'logits' | 'probs';
}

const logitsModels = new WeakMap<tf.LayersModel, tf.LayersModel>();

/** The sub-model from the input to the scores before the softmax (see logitsOutput), built once per model. */
export function logitsModel(t: typeof tf, model: tf.LayersModel, caller: string): tf.LayersModel {
  let sub = logitsModels.get(model);
  if (!sub) {
    const out = logitsOutput(model);
    if (!out) {
      fail(
        caller,
        `cannot read the scores before the softmax of this model ` +
          `(needs a final softmax or sigmoid layer of its own, not another layer's activation)`,
      );
    }
    sub = t.model({ inputs: model.inputs, outputs: out });
    logitsModels.set(model, sub);
  }
  return sub;
}

/**
 * The model's class scores: its probabilities, or its logits (the rule of runtime/logits, read from a sub-model so
 * that no layer is patched in the worker). What techniques/core/forward.ts computes on the main thread.
 */
function classScores(t: typeof tf, model: tf.LayersModel, images: tf.Tensor, output: 'logits' | 'probs'): tf.Tensor {
  if (output === 'probs') return probabilities(model, model.predict(images) as tf.Tensor);
  return logitsModel(t, model, 'classScores').predict(images) as tf.Tensor;
}

function pickClasses(t: typeof tf, scores: tf.Tensor, targets: number[]): tf.Tensor1D {
  const classes = scores.shape[scores.shape.length - 1] as number;
  return t.sum(t.mul(scores, t.oneHot(t.tensor1d(targets, 'int32'), classes)), -1) as tf.Tensor1D;
}

function targetsFor(t: typeof tf, target: number | number[], n: number, classes: number): tf.Tensor1D {
  const list = Array.isArray(target) ? target : new Array<number>(n).fill(target);
  if (list.length !== n) fail('inputGradient', `${list.length} targets for ${n} images`);
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      fail('inputGradient', `target ${c} out of range; the model has ${classes} classes (0..${classes - 1})`);
  }
  return t.tensor1d(list, 'int32');
}

export const builtinTasks: Record<BuiltinTask, BatchFn<never>> = {
  predict: (t, model, images) => withFolded(model, () => model.predict(images) as tf.Tensor),
  inputGradient: (t, model, images, options: InputGradientOptions) => {
    const n = images.shape[0];
    const classes = (model.outputs[0].shape[1] as number) ?? 1;
    const picked = targetsFor(t, options.target, n, classes);
    const mask = t.oneHot(picked, classes);
    // Each image's score depends only on that image, so one gradient of the sum gives them all.
    const g = t.grad((x: tf.Tensor) => withFolded(model, () => t.sum(t.mul(model.predict(x) as tf.Tensor, mask))))(
      images,
    );
    t.dispose([picked, mask]);
    return g;
  },
  classScores: (t, model, images, o: ClassScoreOptions) =>
    withFolded(model, () => pickClasses(t, classScores(t, model, images, o.output), o.targets)),
  classGradient: (t, model, images, o: ClassScoreOptions) =>
    t.grad((x: tf.Tensor) =>
      withFolded(model, () => t.sum(pickClasses(t, classScores(t, model, x, o.output), o.targets))),
    )(images),
  layerOutput: (t, model, images, options: LayerOutputOptions) => {
    const names = model.layers.map((l) => l.name);
    if (!names.includes(options.layer))
      fail('layerOutput', `unknown layer '${options.layer}'; layers: ${names.join(', ')}`);
    const sub = t.model({ inputs: model.inputs, outputs: model.getLayer(options.layer).output as tf.SymbolicTensor });
    return withFolded(model, () => sub.predict(images) as tf.Tensor, { keep: [options.layer] });
  },
};

/** How a task's options split with the batch (per-image targets go with their images). */
export type OptionSlicer<O> = (options: O, start: number, end: number) => O;

const sliceTargets = ((o: ClassScoreOptions, start: number, end: number) => ({
  ...o,
  targets: o.targets.slice(start, end),
})) as unknown as OptionSlicer<never>;

export const builtinSlicers: Partial<Record<BuiltinTask, OptionSlicer<never>>> = {
  classScores: sliceTargets,
  classGradient: sliceTargets,
  inputGradient: ((o: InputGradientOptions, start: number, end: number) =>
    Array.isArray(o.target) ? { ...o, target: o.target.slice(start, end) } : o) as unknown as OptionSlicer<never>,
};

/** Resolve a task to a function (in the main thread or a worker). */
export function resolveTask<O>(task: BatchTask<O> | { source: string }): BatchFn<O> {
  if (typeof task === 'function') return task;
  if (typeof task === 'string') {
    if (!(BUILTIN_TASKS as readonly string[]).includes(task))
      fail('runBatched', `unknown task '${task}'; built-in tasks: ${BUILTIN_TASKS.join(', ')}`);
    return builtinTasks[task] as unknown as BatchFn<O>;
  }
  if ('source' in task) {
    return new Function(`return (${task.source});`)() as BatchFn<O>;
  }

  const mod = require(task.module) as Record<string, unknown>;
  const fn = mod[task.name];
  if (typeof fn !== 'function') fail('runBatched', `module ${task.module} has no function '${task.name}'`);
  return fn as BatchFn<O>;
}

/**
 * Call a task and keep only its result: tensors it makes along the way are disposed, even when
 * it is async (a scope around the await, since tf.tidy takes no promises).
 */
export async function callTask<O>(
  fn: BatchFn<O>,
  tfjs: typeof tf,
  model: tf.LayersModel,
  images: tf.Tensor4D,
  options: O,
): Promise<tf.Tensor> {
  const engine = tfjs.engine();
  engine.startScope('cnnviz.batchTask');
  let out: tf.Tensor | undefined;
  try {
    out = await fn(tfjs, model, images, options);
    if (!(out instanceof tfjs.Tensor)) fail('runBatched', `the task returned ${typeof out}, expected a tensor`);
    return out;
  } finally {
    engine.endScope(out);
  }
}

/** One share of a training batch, as a pool worker gets it (or this thread computes it). */
export interface TrainShare {
  /** Class of each image. */
  labels: Int32Array;
  classes: number;
  /** Scale of the summed loss (1 / batch size), so the shares of a batch add up to the batch's mean. */
  weight: number;
}

/** Summed-and-scaled loss and the gradient of each trainable weight (copies, in trainableWeights order). */
export interface TrainGradients {
  loss: number;
  grads: Float32Array[];
}

/**
 * The training task: loss and gradients of one share of a batch under the model's current
 * weights. The same maths in this thread and in a pool worker, so training on one thread or two
 * follows the same path. Cross-entropy is taken on the logits (numerically stable), summed and
 * scaled by `weight`, so the shares of a batch add up exactly.
 */
export function trainGradients(t: typeof tf, model: tf.LayersModel, x: tf.Tensor4D, share: TrainShare): TrainGradients {
  const logits = logitsModel(t, model, 'trainCnn');
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const labels = t.tensor1d(share.labels, 'int32');
  const { value, grads } = t.variableGrads(() => {
    const z = logits.apply(x, { training: true }) as tf.Tensor2D;
    const y = t.oneHot(labels, share.classes).toFloat();
    return t.losses.softmaxCrossEntropy(y, z, undefined, undefined, t.Reduction.SUM).mul(share.weight) as tf.Scalar;
  }, vars);
  const loss = value.dataSync()[0];
  // Copies, not views of backend memory: they are transferred to another thread.
  const out = vars.map((v) => (grads[v.name].dataSync() as Float32Array).slice());
  t.dispose([value, labels, ...Object.values(grads)]);
  return { loss, grads: out };
}

/** Set the model's trainable weights (in trainableWeights order) from plain arrays. */
export function assignTrainable(t: typeof tf, model: tf.LayersModel, weights: Float32Array[]): void {
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  if (weights.length !== vars.length)
    fail('trainCnn', `${weights.length} weight arrays for ${vars.length} trainable weights`);
  t.tidy(() => vars.forEach((v, i) => v.assign(t.tensor(weights[i], v.shape))));
}
