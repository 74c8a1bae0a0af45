/**
 * Feature visualization (Olah, Mordvintsev & Schubert 2017; Lucid's `render_vis`): the image that a
 * class, a channel, a neuron, a layer or a direction responds to most, optimised with Adam over a
 * scaled Fourier spectrum with decorrelated colours (`fourier`), each step seen through random
 * padding, jitter, scaling and rotation (`transforms`).
 *
 *   const img = await featureVisualization(net, 'conv_pw_5_relu:7');
 *   const four = await featureVisualization(net, objectives.channel(l, 7).plus(objectives.diversity(l).times(50)),
 *     { batch: 4 });
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../common/random';
import { Cancellable, Work } from '../../runtime/cancel';
import { imageShapeOf } from '../core/inputs';
import { begin } from '../core/harness';
import { fail, checkNumber, checkInt } from '../../common';
import { reserveWasmHeap } from '../../runtime/wasm_guard';
import { layers as layerInfo } from '../../models/layers';
import { dftBasisTensors, fourierImage, randomSpectrum, rfftWidth, spectrumScale, spectrumShape } from './fourier';
import { affineSample, drawTransform, LUCID_TRANSFORMS, NO_TRANSFORMS, RobustnessOptions } from './transforms';
import { evaluate, ObjectiveLike, prepare, toObjective } from './objectives';

/** Steps beyond this are a typo (Lucid's longest renders take a few thousand). */
export const MAX_STEPS = 10000;
/** Sides beyond this would not fit the basis matrices and the gradient in memory. */
export const MAX_SIZE = 1024;

export interface FeatureVisualizationStep {
  /** 1-based step number. */
  step: number;
  steps: number;
  /** The objective of the (transformed) batch this step started from. */
  score: number;
  /** The first image of the batch before this step, HWC values at the optimised size, on snapshot steps. */
  image?: Float32Array;
  shape: [number, number, number];
}

export interface FeatureVisualizationOptions extends Cancellable {
  /** Side of the returned images (default: the model's input size; 224 for a model that takes any size). */
  size?: number;
  /**
   * Side at which the image is optimised (default: `size`). Smaller is faster; the spectrum is then drawn at
   * `size` (its smooth interpolation). Only for models that take any input size.
   */
  optimizeSize?: number;
  /** Adam steps (default 256). */
  steps?: number;
  /** Adam's learning rate on the spectrum (default 0.05, Lucid's). */
  learningRate?: number;
  /** Images optimised together (returned as [n, H, W, C]); terms may name one image, diversity compares them. */
  batch?: number;
  /** Random pad, jitter (pixels at 128 px), scale and rotation each step; false for none. Default Lucid's. */
  transforms?: RobustnessOptions | false;
  /** ImageNet's colour decorrelation (default true; only for 3 channels). */
  decorrelate?: boolean;
  /**
   * Exponent of the 1/f spectrum scaling: 1 is Lucid's (for its 512 steps); the default 1.5 favours large shapes
   * more, so that a recognisable image forms within the few dozen steps 2 cores allow; 0 is a plain Fourier basis.
   */
  decayPower?: number;
  seed?: number;
  onStep?: (s: FeatureVisualizationStep) => void | Promise<void>;
  /** How often onStep receives the image (default 10). */
  snapshotEvery?: number;
}

/** Wasm heap a gradient of one image takes, as a multiple of its activations (MobileNet: 174 MB for 44.5 MB). */
export const GRADIENT_HEAP_FACTOR = 4;

/** Bytes of every layer's output for one image (at the model's declared size, or `side` where it takes any). */
export function activationBytes(model: tf.LayersModel, side?: number): number {
  let total = 0;
  for (const layer of model.layers) {
    const shape = layer.outputShape as (number | null)[] | (number | null)[][];
    const shapes = Array.isArray(shape[0]) ? (shape as (number | null)[][]) : [shape as (number | null)[]];
    for (const s of shapes) total += s.slice(1).reduce<number>((a, b) => a * (b ?? side ?? 1), 1);
  }
  return 4 * total;
}

/** Smallest side the network can see: its largest stride (a smaller image has no position left at the end). */
export function minimumSize(model: tf.LayersModel): number {
  let most = 1;
  for (const l of layerInfo(model)) if (l.receptiveField) most = Math.max(most, ...l.receptiveField.stride);
  return most;
}

const anySize = new WeakMap<tf.LayersModel, boolean>();

/**
 * Whether a model declared for one input size also runs at others (a convolutional network ending in a
 * global pooling, as MobileNet): no Flatten, and a forward pass at another size gives the same output shape.
 */
export function takesAnySize(model: tf.LayersModel): boolean {
  const [h, w, c] = model.inputs[0].shape.slice(1) as (number | null)[];
  if (h === null || w === null) return true;
  let known = anySize.get(model);
  if (known === undefined) {
    known = false;
    if (!model.layers.some((l) => l.getClassName() === 'Flatten')) {
      const probe = Math.max(minimumSize(model), 8) * 2;
      try {
        const out = tf.tidy(() => model.apply(tf.zeros([1, probe, probe, c ?? 3]), { training: false }) as tf.Tensor);
        known = out.shape.slice(1).join() === (model.outputs[0].shape.slice(1) as number[]).join();
        out.dispose();
      } catch {
        known = false;
      }
    }
    anySize.set(model, known);
  }
  return known;
}

function side(v: unknown, fallback: number, caller: string, name: string, min: number): number {
  const n = checkInt(caller, name, v as number | undefined, { dflt: fallback });
  if (n < min) fail(caller, `${name} ${n} is below this network's minimum of ${min} pixels (its largest stride)`);
  if (n > MAX_SIZE) fail(caller, `${name} ${n} is over the limit of ${MAX_SIZE} pixels`);
  return n;
}

/** Images that maximise the objective: [H, W, C] for one, [n, H, W, C] when `batch` is given. */
export async function featureVisualization(
  model: tf.LayersModel,
  objective: ObjectiveLike,
  opts: FeatureVisualizationOptions & { batch: number },
): Promise<tf.Tensor4D>;
export async function featureVisualization(
  model: tf.LayersModel,
  objective: ObjectiveLike,
  opts?: FeatureVisualizationOptions,
): Promise<tf.Tensor3D>;
export async function featureVisualization(
  model: tf.LayersModel,
  objective: ObjectiveLike,
  opts: FeatureVisualizationOptions = {},
): Promise<tf.Tensor3D | tf.Tensor4D> {
  return renderFeatures(model, objective, opts, 'featureVisualization');
}

/** featureVisualization under the name of the public function that called it. */
export async function renderFeatures(
  model: tf.LayersModel,
  objective: ObjectiveLike,
  opts: FeatureVisualizationOptions,
  caller: string,
): Promise<tf.Tensor3D | tf.Tensor4D> {
  await begin(caller);
  const [mh, mw, c] = imageShapeOf(model, caller);
  const fixed = !takesAnySize(model);
  if (fixed && mh !== mw) fail(caller, `the model takes ${mh}x${mw} images; only square inputs are supported`);
  const min = fixed ? mh! : minimumSize(model);
  const size = side(opts.size, mh ?? 224, caller, 'size', min);
  const optSize = side(opts.optimizeSize, fixed ? mh! : size, caller, 'optimizeSize', min);
  if (fixed && optSize !== mh)
    fail(caller, `optimizeSize ${optSize}: this model takes ${mh}x${mw} images only; leave optimizeSize out`);
  const steps = opts.steps === 0 ? 0 : checkInt(caller, 'steps', opts.steps, { dflt: 256, max: MAX_STEPS });
  const lr = checkNumber(caller, 'learningRate', opts.learningRate, { dflt: 0.05, min: 0 });
  const batch = checkInt(caller, 'batch', opts.batch, { dflt: 1 });
  const decayPower = checkNumber(caller, 'decayPower', opts.decayPower, { dflt: 1.5, min: 0, max: 4 });
  const snapshotEvery = checkInt(caller, 'snapshotEvery', opts.snapshotEvery, { dflt: 10 });
  const t = opts.transforms === false ? NO_TRANSFORMS : { ...LUCID_TRANSFORMS, ...(opts.transforms ?? {}) };
  for (const key of Object.keys(t) as (keyof RobustnessOptions)[])
    checkNumber(caller, `transforms.${key}`, t[key], {
      dflt: 0,
      min: 0,
      max: key === 'scale' ? 0.9 : key === 'rotate' ? 180 : 1000,
    });
  const prepared = prepare(model, toObjective(objective, caller), batch, caller);
  const work = new Work(caller, opts);
  const rand = mulberry32(opts.seed ?? 0);
  const decorrelate = opts.decorrelate ?? true;

  const pad = Math.round((t.pad * optSize) / 128);
  // A model of fixed size sees the padded image shrunk into its frame; one of any size sees it larger.
  const seen = fixed ? optSize : optSize + 2 * pad;
  const shrink = fixed ? optSize / (optSize + 2 * pad) : 1;
  const shape = spectrumShape(batch, c, optSize, optSize);
  const start = tf.tensor(randomSpectrum(shape, rand), shape);
  const spectrum = tf.variable(start);
  start.dispose();
  const scale = tf.tensor(spectrumScale(optSize, optSize, decayPower), [1, optSize, 1, 1, rfftWidth(optSize)]);
  const basis = dftBasisTensors(optSize, optSize);
  const optimizer = tf.train.adam(lr);
  try {
    if (work.signal && steps > 0)
      await reserveWasmHeap(GRADIENT_HEAP_FACTOR * batch * activationBytes(model, seen), () => work.tick());
    for (let step = 1; step <= steps; step++) {
      await work.tick();
      const draw = drawTransform(t, optSize, rand);
      draw.scale *= shrink;
      let score = 0;
      let snapshot: Float32Array | undefined;
      const wantImage = opts.onStep !== undefined && (step % snapshotEvery === 0 || step === steps);
      if (wantImage)
        snapshot = tf.tidy(() =>
          fourierImage(tf.slice(spectrum, [0, 0, 0, 0, 0], [-1, -1, 1, -1, -1]), scale, basis, decorrelate).dataSync(),
        ) as Float32Array;
      const cost = optimizer.minimize(
        () => {
          const images = fourierImage(spectrum, scale, basis, decorrelate);
          const seenImages = t === NO_TRANSFORMS && !fixed ? images : affineSample(images, draw, seen, seen);
          return tf.neg(evaluate(model, prepared, seenImages, caller));
        },
        true,
        [spectrum],
      );
      score = -(cost as tf.Scalar).dataSync()[0];
      cost?.dispose();
      if (!Number.isFinite(score)) fail(caller, `the objective became ${score} at step ${step}; lower learningRate`);
      await work.call('onStep', opts.onStep, { step, steps, score, image: snapshot, shape: [optSize, optSize, c] });
    }
    const basisOut = size === optSize ? basis : dftBasisTensors(optSize, optSize, size, size);
    try {
      const out = fourierImage(spectrum, scale, basisOut, decorrelate);
      if (opts.batch !== undefined) return out;
      const one = tf.squeeze(out, [0]) as tf.Tensor3D;
      out.dispose();
      return one;
    } finally {
      if (basisOut !== basis) tf.dispose([basisOut.alongX, basisOut.alongY]);
    }
  } finally {
    optimizer.dispose();
    tf.dispose([spectrum, scale, basis.alongX, basis.alongY]);
  }
}
