/**
 * Checks for student assignments: run the student's function and the reference on inputs the
 * student does not see (a fixed, seeded lecture-sized CNN and seeded images), and explain any
 * mismatch in words: the shape, the sign, the scale, or a known slip (probability instead of
 * score, missing absolute value). A check never throws; it returns (and prints) its verdict.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../data/random';
import { lectureCnn } from '../models/architectures';
import { ensureBackend } from '../runtime/backend';
import { shapeText } from './common';
import { explainedValues, inputGradient } from './objective';
import { occlusion as referenceOcclusion } from './occlusion';
import { saliency as referenceSaliency } from './saliency';
import { pearson } from './stats';

export interface CheckResult {
  passed: boolean;
  /** What happened, for people: printed by the check unless quiet. */
  message: string;
  /** How many hidden cases ran before the verdict. */
  cases: number;
}

export interface CheckOptions {
  /** Don't print the verdict (it is still returned). */
  quiet?: boolean;
  /** Relative tolerance on the largest difference (default 1e-3). */
  tolerance?: number;
}

type MaybePromise<T> = T | Promise<T>;
export type StudentSaliency = (model: tf.LayersModel, image: tf.Tensor3D, target: number) => MaybePromise<tf.Tensor>;
export type StudentOcclusion = (model: tf.LayersModel, image: tf.Tensor3D, target: number, opts: { window: number; stride: number; fill: number }) => MaybePromise<tf.Tensor>;
export type StudentAscentStep = (model: tf.LayersModel, image: tf.Tensor3D, target: number, learningRate: number) => MaybePromise<tf.Tensor>;
export type StudentClassVisualization = (model: tf.LayersModel, target: number, opts: { steps: number; learningRate: number }) => MaybePromise<tf.Tensor>;

/** The hidden model: the shipped architecture with seeded weights and small non-zero biases. */
function hiddenModel(): tf.LayersModel {
  const model = lectureCnn({ seed: 4242 });
  const rand = mulberry32(99);
  for (const layer of model.layers) {
    const w = layer.getWeights();
    if (w.length === 2) {
      const bias = tf.tensor1d(Float32Array.from({ length: w[1].size }, () => (rand() - 0.3) * 0.1));
      layer.setWeights([w[0], bias]);
      bias.dispose();
    }
  }
  return model;
}

/** Seeded stroke-like images: a few bright blurred bars on black, like digits. */
function hiddenImages(count: number, seed: number): tf.Tensor3D[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const img = new Float32Array(28 * 28);
    for (let bar = 0; bar < 3; bar++) {
      const [y0, x0, y1, x1] = [4 + rand() * 20, 4 + rand() * 20, 4 + rand() * 20, 4 + rand() * 20];
      for (let t = 0; t <= 1; t += 0.02) {
        const y = Math.round(y0 + t * (y1 - y0));
        const x = Math.round(x0 + t * (x1 - x0));
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) img[(y + dy) * 28 + x + dx] = Math.max(img[(y + dy) * 28 + x + dx], dy || dx ? 0.5 : 1);
      }
    }
    return tf.tensor3d(img, [28, 28, 1]);
  });
}

function report(result: CheckResult, opts: CheckOptions): CheckResult {
  if (!opts.quiet) console.log(result.message);
  return result;
}

/** Why two arrays differ, in words; undefined when they agree. */
function compare(mine: Float32Array, ref: Float32Array, tolerance: number, known: { name: string; values: Float32Array; hint: string }[]): string | undefined {
  let maxDiff = 0;
  let at = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    const d = Math.abs(mine[i] - ref[i]);
    if (d > maxDiff || Number.isNaN(d)) [maxDiff, at] = [Number.isNaN(d) ? Infinity : d, i];
  }
  if (maxDiff <= tolerance * Math.max(scale, 1e-12)) return undefined;
  if (mine.some((v) => !Number.isFinite(v))) return 'your result contains NaN or infinite values.';
  for (const k of known) {
    let worst = 0;
    let kScale = 0;
    for (let i = 0; i < k.values.length; i++) {
      worst = Math.max(worst, Math.abs(mine[i] - k.values[i]));
      kScale = Math.max(kScale, Math.abs(k.values[i]));
    }
    if (worst <= tolerance * Math.max(kScale, 1e-12)) return `your result equals ${k.name}: ${k.hint}`;
  }
  const r = pearson(mine, ref);
  if (r < -0.999) return 'your result has the opposite sign of the reference everywhere: check the direction of a subtraction, or whether you took the gradient of minus the score.';
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    dot += mine[i] * ref[i];
    norm += ref[i] * ref[i];
  }
  const factor = norm > 0 ? dot / norm : 0;
  if (r > 0.999) return `your result has the right pattern but is ${factor.toPrecision(3)} times the reference: check for a normalisation or a missing/extra factor.`;
  return `largest difference ${maxDiff.toPrecision(3)} at flat index ${at} (yours ${mine[at].toPrecision(4)}, reference ${ref[at].toPrecision(4)}); correlation with the reference ${r.toFixed(3)}.`;
}

/** Runs the student function once; a thrown error, a wrong type or shape becomes a message. */
async function call(fn: () => MaybePromise<tf.Tensor>, accepted: number[][], what: string): Promise<{ values?: Float32Array; shape?: number[]; problem?: string }> {
  let out: tf.Tensor;
  const expected = accepted.map(shapeText).join(' or ');
  try {
    out = await fn();
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    return { problem: `your ${what} threw an error: ${msg.split('\n')[0]}` };
  }
  if (!(out instanceof tf.Tensor)) return { problem: `your ${what} returned ${out === undefined ? 'nothing' : typeof out}; it should return a tf.Tensor of shape ${expected}` };
  const s = out.shape;
  const match = accepted.find((e) => s.length === e.length && s.every((d, i) => d === e[i]));
  if (!match) {
    const e = accepted[0];
    let hint = '';
    if (s.length === e.length + 1 && s[0] === 1) hint = ' (a batch axis of 1 is left: squeeze it)';
    else if (s.length === e.length + 1 && s[s.length - 1] === 1) hint = ' (a channel axis of 1 is left: reduce or squeeze it)';
    else if (s.length + 1 === e.length && e[e.length - 1] === 1) hint = ' (the channel axis is missing)';
    out.dispose();
    return { problem: `your ${what} returned shape ${shapeText(s)}; expected ${expected}${hint}.` };
  }
  const values = Float32Array.from(out.dataSync());
  out.dispose();
  return { values, shape: match };
}

async function runCases(
  title: string,
  count: number,
  opts: CheckOptions,
  one: (model: tf.LayersModel, image: tf.Tensor3D, k: number) => Promise<string | undefined>,
): Promise<CheckResult> {
  await ensureBackend();
  const model = hiddenModel();
  const images = hiddenImages(count, 7);
  try {
    for (let k = 0; k < count; k++) {
      const problem = await one(model, images[k], k);
      if (problem) return report({ passed: false, message: `✗ ${title}, hidden case ${k + 1} of ${count}: ${problem}`, cases: k + 1 }, opts);
    }
    return report({ passed: true, message: `✓ ${title}: matches the reference on ${count} hidden cases.`, cases: count }, opts);
  } finally {
    tf.dispose(images);
    model.dispose();
  }
}

/**
 * Checks a student's saliency map: fn(model, image [28, 28, 1], target) should return the
 * gradient of the class score (before the softmax) as [28, 28] with the absolute value taken
 * (max over channels), or the raw gradient [28, 28, 1].
 */
export async function saliency(fn: StudentSaliency, opts: CheckOptions = {}): Promise<CheckResult> {
  const tol = opts.tolerance ?? 1e-3;
  return runCases('saliency', 3, opts, async (model, image, k) => {
    const target = [3, 7, 1][k];
    const raw = await referenceSaliency(model, image, { target, reduce: 'none' });
    const rawProbs = await referenceSaliency(model, image, { target, reduce: 'none', output: 'probs' });
    const rawValues = Float32Array.from(raw.dataSync());
    const probsValues = Float32Array.from(rawProbs.dataSync());
    tf.dispose([raw, rawProbs]);
    const res = await call(() => fn(model, image, target), [[28, 28], [28, 28, 1]], 'saliency function');
    if (!res.values) return res.problem;
    const expectAbs = res.shape!.length === 2;
    const ref = expectAbs ? rawValues.map(Math.abs) : rawValues;
    const probs = expectAbs ? probsValues.map(Math.abs) : probsValues;
    const known = [
      { name: 'the gradient of the probability', values: probs, hint: "take the score before the softmax (the 'logits' layer's output), as Simonyan et al. do." },
      ...(expectAbs ? [{ name: 'the signed gradient', values: rawValues, hint: 'take the absolute value (the map shows how much, not which way).' }] : []),
    ];
    return compare(res.values, ref, tol, known);
  });
}

/**
 * Checks a student's occlusion map: fn(model, image, target, { window, stride, fill }) should
 * return the target probability with the patch (filled with `fill`) at each position, shaped
 * [rows, cols] with rows = floor((28 - window) / stride) + 1.
 */
export async function occlusion(fn: StudentOcclusion, opts: CheckOptions = {}): Promise<CheckResult> {
  const tol = opts.tolerance ?? 1e-3;
  const settings = [
    { window: 7, stride: 7, fill: 0 },
    { window: 5, stride: 3, fill: 0.5 },
  ];
  return runCases('occlusion', settings.length, opts, async (model, image, k) => {
    const s = settings[k];
    const target = [2, 5][k];
    const ref = await referenceOcclusion(model, image, { target, window: s.window, stride: s.stride, fill: s.fill });
    const refValues = Float32Array.from(ref.map.dataSync());
    const dropValues = Float32Array.from(ref.drop.dataSync());
    const shape = ref.map.shape;
    tf.dispose([ref.map, ref.drop]);
    const logits = await referenceOcclusion(model, image, { target, window: s.window, stride: s.stride, fill: s.fill, output: 'logits' });
    const logitValues = Float32Array.from(logits.map.dataSync());
    tf.dispose([logits.map, logits.drop]);
    const got = await call(() => fn(model, image, target, { ...s }), [shape], 'occlusion function');
    if (!got.values) return got.problem;
    return compare(got.values, refValues, tol, [
      { name: 'the drop in probability (unoccluded minus occluded)', values: dropValues, hint: 'return the probability itself at each position.' },
      { name: 'the score before the softmax', values: logitValues, hint: 'apply the softmax: the map shows the class probability (model.predict does this for the shipped models).' },
    ]);
  });
}

/**
 * Checks one step of gradient ascent: fn(model, image, target, learningRate) should return
 * image + learningRate * d(score)/d(image), the score taken before the softmax.
 */
export async function gradientAscentStep(fn: StudentAscentStep, opts: CheckOptions = {}): Promise<CheckResult> {
  const tol = opts.tolerance ?? 1e-3;
  return runCases('gradient ascent step', 2, opts, async (model, image, k) => {
    const target = [4, 9][k];
    const lr = [0.5, 2][k];
    const x = image.expandDims(0) as tf.Tensor4D;
    const step = (output: 'logits' | 'probs', sign: number) =>
      tf.tidy(() => Float32Array.from(tf.add(x, tf.mul(sign * lr, inputGradient(model, x, { kind: 'class', targets: Int32Array.of(target), output }))).dataSync()));
    const ref = step('logits', 1);
    const known = [
      { name: 'a step downhill (image - lr * gradient)', values: step('logits', -1), hint: 'ascent adds the gradient: the score should go up.' },
      { name: 'a step on the probability', values: step('probs', 1), hint: 'use the score before the softmax.' },
    ];
    x.dispose();
    const got = await call(() => fn(model, image, target, lr), [[28, 28, 1]], 'gradient ascent step');
    if (!got.values) return got.problem;
    return compare(got.values, ref, tol, known);
  });
}

/**
 * Checks a whole class visualization: fn(model, target, { steps, learningRate }) should return an
 * image [28, 28, 1] whose target score is well above that of a black image, and that the model
 * assigns to the target class.
 */
export async function classVisualization(fn: StudentClassVisualization, opts: CheckOptions = {}): Promise<CheckResult> {
  return runCases('class visualization', 2, opts, async (model, _image, k) => {
    const target = [0, 6][k];
    const got = await call(() => fn(model, target, { steps: 100, learningRate: 0.1 }), [[28, 28, 1]], 'class visualization');
    if (!got.values) return got.problem;
    if (got.values.some((v) => !Number.isFinite(v))) return 'the image contains NaN or infinite values.';
    const scores = tf.tidy(() => {
      const both = tf.stack([tf.tensor3d(got.values!, [28, 28, 1]), tf.zeros([28, 28, 1])]) as tf.Tensor4D;
      const all = tf.tidy(() => Array.from(explainedValues(model, both, { kind: 'class', targets: Int32Array.of(target, target), output: 'logits' }).dataSync()));
      const predicted = Array.from(tf.argMax(model.predict(both) as tf.Tensor, -1).dataSync());
      return { all, predicted };
    });
    const [mine, black] = scores.all;
    if (!(mine > black + 1)) return `the target score went from ${black.toFixed(3)} (black image) to only ${mine.toFixed(3)}: are you adding the gradient of the target's score?`;
    if (scores.predicted[0] !== target) return `the target score rose (${black.toFixed(2)} -> ${mine.toFixed(2)}) but the model says class ${scores.predicted[0]}, not ${target}: more steps, or ascend the score of the right class.`;
    return undefined;
  });
}
