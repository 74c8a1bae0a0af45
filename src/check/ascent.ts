/**
 * The gradient-ascent checks (class visualization, Simonyan et al. 2014; Yosinski et al. 2015),
 * in the three pieces the assignment asks for, each against the package's classVisualization:
 *  - ascentStep: x + lr * g / rms(g), g the gradient of the class score before the softmax;
 *  - regularize: L2 decay towards 0, Gaussian blur every k steps, clip to [0, 1];
 *  - gradientAscent: the loop of both, from a given start image.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../data/random';
import { gaussianBlur } from '../techniques/blur';
import { classVisualization } from '../techniques/class_visualization';
import { saliency as referenceSaliency } from '../techniques/saliency';
import { show } from '../widgets/show';
import { compareValues, KnownMistake, readValue, Values } from './compare';
import { hidden } from './hidden';
import { callStudent, CheckOptions, CheckResult, finish, leakNote } from './report';

export type AscentStepFunction = (model: tf.LayersModel, image: tf.Tensor3D, target: number, learningRate: number) => tf.Tensor | Promise<tf.Tensor>;

export interface RegularizeOptions {
  l2Decay: number;
  blurEvery: number;
  blurSigma: number;
}
export type RegularizeFunction = (image: tf.Tensor3D, step: number, opts: RegularizeOptions) => tf.Tensor | Promise<tf.Tensor>;

export interface GradientAscentOptions extends RegularizeOptions {
  steps: number;
  learningRate: number;
  /** The start image [H, W, C]. */
  init: tf.Tensor3D;
}
export type GradientAscentFunction = (model: tf.LayersModel, target: number, opts: GradientAscentOptions) => tf.Tensor | Promise<tf.Tensor>;

export interface AscentCheckOptions extends CheckOptions {
  model?: tf.LayersModel;
}

function valuesOf(t: tf.Tensor): Values {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

async function take(p: Promise<tf.Tensor> | tf.Tensor): Promise<Values> {
  const t = await p;
  const v = valuesOf(t);
  t.dispose();
  return v;
}

function minus(a: Values, b: Float32Array): Values {
  return { shape: a.shape, data: a.data.map((v, i) => v - b[i]) };
}

/** `fn(model, image, target, learningRate)` against one step of classVisualization. */
export async function ascentStep(fn: AscentStepFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'ascentStep';
  const fnName = typeof fn === 'function' && fn.name ? fn.name : 'your function';
  const h = await hidden(opts.model, 3);
  const lrs = [0.1, 0.05, 0.2];
  let leaked = 0;
  for (let k = 0; k < h.cases.length; k++) {
    const c = h.cases[k];
    const lr = lrs[k % lrs.length];
    const input = c.image.clone();
    const run = await callStudent(fn, fnName, [h.model, input, c.target, lr]);
    input.dispose();
    leaked += run.leaked;
    if (run.error) return finish({ name, passed: false, message: run.error, cases: 0, notes: [] }, opts);
    const got = readValue(run.value, `the image ${fnName} returned for ${c.name}`);
    if (run.value instanceof tf.Tensor) run.value.dispose();
    if (typeof got === 'string') return finish({ name, passed: false, message: got, cases: 0, notes: [] }, opts);
    const x = Float32Array.from(c.image.dataSync());
    const ref = await take(classVisualization(h.model, { target: c.target, init: c.image, steps: 1, learningRate: lr, range: [-1e6, 1e6] }));
    if (got.shape.join() !== ref.shape.join()) {
      const cmp = compareValues(got, ref, { what: `the image ${fnName} returned for ${c.name}` });
      return finish({ name, passed: false, message: cmp.message, cases: k, notes: [] }, opts);
    }
    const refStep = minus(ref, x);
    // The raw gradient of the class score, and of its probability, for the hints.
    const g = (await take(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'none' }))).data;
    const gp = (await take(referenceSaliency(h.model, c.image, { target: c.target, output: 'probs', reduce: 'none' }))).data;
    const n = g.length;
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    const rmsP = Math.sqrt(gp.reduce((s, v) => s + v * v, 0) / n) + 1e-12;
    const mistakes: KnownMistake[] = [
      { values: g.map((v) => lr * v), hint: 'you added learningRate * gradient. Divide the gradient by its root-mean-square first, g / sqrt(mean(g^2)), so each step moves the pixels by about learningRate whatever the scale of the score' },
      { values: g.map((v) => (lr * v) / norm), hint: `you divided by the norm sqrt(sum(g^2)); divide by the root-mean-square sqrt(mean(g^2)) (the two differ by sqrt(${n}))` },
      { values: refStep.data.map((v) => -v), hint: 'you stepped down the gradient (x - ...): gradient ascent adds the step, to raise the score' },
      { values: gp.map((v) => (lr * v) / rmsP), hint: "you climbed the probability (after the softmax); climb the class score before it, the 'logits' layer's output" },
      { values: ref.data.map((v) => Math.min(1, Math.max(0, v))).map((v, i) => v - x[i]), hint: 'you clipped to [0, 1] inside the step; clipping belongs to regularize(), the step only adds the normalised gradient' },
    ];
    const cmp = compareValues(minus(got, x), refStep, { what: `your step (the returned image minus the input) for ${c.name}`, mistakes, tolerance: 2e-3 });
    if (!cmp.ok) return finish({ name, passed: false, message: cmp.message, cases: k + 1, notes: leakNote(leaked, k + 1, fnName) }, opts);
  }
  return finish({ name, passed: true, message: `${fnName} takes the same step as the reference on ${h.cases.length} hidden images of ${h.modelName}`, cases: h.cases.length, notes: leakNote(leaked, h.cases.length, fnName) }, opts);
}

const REG: RegularizeOptions = { l2Decay: 0.1, blurEvery: 2, blurSigma: 1 };

/** What regularize would give with one piece changed, for the hints. */
function regVariant(x: tf.Tensor3D, step: number, o: RegularizeOptions, change: 'noClip' | 'keepFraction' | 'blurAlways' | 'clipThenBlur' | 'noBlur'): tf.Tensor3D {
  return tf.tidy(() => {
    let y = tf.mul(x, change === 'keepFraction' ? o.l2Decay : 1 - o.l2Decay) as tf.Tensor3D;
    const blurNow = change === 'blurAlways' || (change !== 'noBlur' && o.blurEvery > 0 && step % o.blurEvery === 0);
    const blur = (t: tf.Tensor3D) => tf.squeeze(gaussianBlur(tf.expandDims(t, 0) as tf.Tensor4D, o.blurSigma), [0]) as tf.Tensor3D;
    if (change === 'clipThenBlur') return blurNow ? blur(tf.clipByValue(y, 0, 1) as tf.Tensor3D) : (tf.clipByValue(y, 0, 1) as tf.Tensor3D);
    if (blurNow) y = blur(y);
    return change === 'noClip' ? y : (tf.clipByValue(y, 0, 1) as tf.Tensor3D);
  });
}

/** `fn(image, step, { l2Decay, blurEvery, blurSigma })` against classVisualization's regularizers (learning rate 0), steps 1..3. */
export async function regularize(fn: RegularizeFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'regularize';
  const fnName = typeof fn === 'function' && fn.name ? fn.name : 'your function';
  const h = await hidden(opts.model, 1);
  // Values outside [0, 1], so clipping is seen.
  const start = tf.tidy(() => tf.sub(tf.mul(h.cases[0].image, 1.6), 0.3) as tf.Tensor3D);
  let leaked = 0;
  let current = start.clone();
  try {
    for (let step = 1; step <= 3; step++) {
      const input = current.clone();
      const run = await callStudent(fn, fnName, [input, step, { ...REG }]);
      input.dispose();
      leaked += run.leaked;
      if (run.error) return finish({ name, passed: false, message: run.error, cases: 0, notes: [] }, opts);
      const what = `the image ${fnName} returned at step ${step} (l2Decay ${REG.l2Decay}, blurEvery ${REG.blurEvery}, blurSigma ${REG.blurSigma})`;
      const got = readValue(run.value, what);
      if (run.value instanceof tf.Tensor) run.value.dispose();
      if (typeof got === 'string') return finish({ name, passed: false, message: got, cases: 0, notes: [] }, opts);
      const ref = await take(classVisualization(h.model, { target: 0, init: start, steps: step, learningRate: 0, ...REG }));
      const variant = async (change: Parameters<typeof regVariant>[3]) => take(regVariant(current, step, REG, change));
      const mistakes: KnownMistake[] = [
        { values: (await variant('noClip')).data, hint: 'clip the result to [0, 1] at the end (tf.clipByValue(x, 0, 1))' },
        { values: (await variant('keepFraction')).data, hint: 'L2 decay keeps the fraction (1 - l2Decay) of the image: multiply by 1 - l2Decay, not by l2Decay' },
        { values: (await variant('clipThenBlur')).data, hint: 'blur before clipping: decay, then blur (on the steps where step % blurEvery === 0), then clip' },
        {
          values: (await variant(step % REG.blurEvery === 0 ? 'noBlur' : 'blurAlways')).data,
          hint: step % REG.blurEvery === 0 ? `step ${step} is a blur step (step % blurEvery === 0): blur with cnnviz's gaussianBlur(x4d, blurSigma)` : `blur only on the steps where step % blurEvery === 0; step ${step} is not one of them`,
        },
      ];
      const cmp = compareValues(got, ref, { what, mistakes });
      if (!cmp.ok) return finish({ name, passed: false, message: cmp.message, cases: step, notes: leakNote(leaked, step, fnName) }, opts);
      current.dispose();
      current = tf.tensor3d(ref.data, ref.shape as [number, number, number]);
    }
  } finally {
    current.dispose();
    start.dispose();
  }
  return finish({ name, passed: true, message: `${fnName} matches the reference regularizers over steps 1-3 (decay, blur on even steps, clip)`, cases: 3, notes: leakNote(leaked, 3, fnName) }, opts);
}

/** A start image: faint seeded noise. */
function startImage(shape: [number, number, number], seed: number): tf.Tensor3D {
  const rand = mulberry32(seed);
  return tf.tensor3d(Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => 0.2 * rand()), shape);
}

/** `fn(model, target, { steps, learningRate, l2Decay, blurEvery, blurSigma, init })` against classVisualization. */
export async function gradientAscent(fn: GradientAscentFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'gradientAscent';
  const fnName = typeof fn === 'function' && fn.name ? fn.name : 'your function';
  const h = await hidden(opts.model, 2);
  const shape = h.cases[0].image.shape as [number, number, number];
  const settings: Omit<GradientAscentOptions, 'init'> = { steps: 12, learningRate: 0.1, l2Decay: 0.01, blurEvery: 4, blurSigma: 0.5 };
  let leaked = 0;
  const pairs: Array<{ got: Values; ref: Values; target: number }> = [];
  for (let k = 0; k < h.cases.length; k++) {
    const target = h.cases[k].target;
    const init = startImage(shape, 7 + k);
    const input = init.clone();
    const run = await callStudent(fn, fnName, [h.model, target, { ...settings, init: input }]);
    if (!input.isDisposed) input.dispose();
    leaked += run.leaked;
    if (run.error) {
      init.dispose();
      return finish({ name, passed: false, message: run.error, cases: 0, notes: [] }, opts);
    }
    const what = `the image ${fnName} returned for target ${target} after ${settings.steps} steps`;
    const got = readValue(run.value, what);
    if (run.value instanceof tf.Tensor) run.value.dispose();
    if (typeof got === 'string') {
      init.dispose();
      return finish({ name, passed: false, message: got, cases: 0, notes: [] }, opts);
    }
    const ref = await take(classVisualization(h.model, { target, init, ...settings }));
    const plain = async (range: [number, number]) => (await take(classVisualization(h.model, { target, init, steps: settings.steps, learningRate: settings.learningRate, range }))).data;
    const hint = `your image matches plain gradient ascent without the regularizers: after every ascentStep call regularize(x, step, ...) with the step number 1..${settings.steps}`;
    const mistakes: KnownMistake[] = [
      { values: await plain([0, 1]), hint },
      { values: await plain([-1e6, 1e6]), hint },
    ];
    init.dispose();
    const cmp = compareValues(got, ref, { what, mistakes, tolerance: 5e-3, exactOnly: true });
    pairs.push({ got, ref, target });
    if (!cmp.ok) {
      showPairs(pairs);
      return finish({ name, passed: false, message: cmp.message, cases: k + 1, notes: leakNote(leaked, k + 1, fnName) }, opts);
    }
  }
  if (opts.show !== false) showPairs(pairs);
  return finish({ name, passed: true, message: `${fnName} makes the same images as the reference (${settings.steps} steps, 2 classes of ${h.modelName})`, cases: pairs.length, notes: leakNote(leaked, pairs.length, fnName) }, opts);
}

function showPairs(pairs: Array<{ got: Values; ref: Values; target: number }>): void {
  const ok = pairs.filter((p) => p.got.shape.join() === p.ref.shape.join() && p.got.shape.length === 3);
  if (!ok.length) return;
  const px = (v: Values) => ({ height: v.shape[0], width: v.shape[1], channels: v.shape[2], data: v.data });
  show.images(ok.flatMap((p) => [px(p.got), px(p.ref)]), { captions: ok.flatMap((p) => [`yours, class ${p.target}`, `reference, class ${p.target}`]), cols: 4, title: 'gradient ascent: yours beside the reference' });
}
