/**
 * The gradient-ascent checks (class visualization, Simonyan et al. 2014; Yosinski et al. 2015),
 * in the three pieces the assignment asks for, each against the package's classVisualization:
 *  - ascentStep: x + lr * g (the lecture's update), or x + lr * g / rms(g) or x + lr * g / |g|
 *    (normalised, as classVisualization does), g the gradient of the class score before the softmax;
 *  - regularize: L2 decay towards 0, Gaussian blur every k steps, clip to [0, 1];
 *  - gradientAscent: the loop, which must call the step and regularizer it is given: the check
 *    passes its own (watched) ones, so the loop is graded apart from the pieces.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../common/random';
import { gaussianBlur } from '../techniques/core/blur';
import { classVisualization } from '../techniques/features/class_visualization';
import { classObjective, forward } from '../techniques/core/forward';
import { saliency as referenceSaliency } from '../techniques/attribution/saliency';
import { show } from '../widgets/show';
import { compareValues, explain, KnownMistake, readValue, takeValue, takeValues, Values } from './compare';
import { Hidden, hiddenSets } from './hidden';
import { callStudent, CheckOptions, CheckResult, finish, leakNote, nameOf, failed, StudentCalls } from './report';
import { GRADIENT_REFUSES } from './saliency';

/** What the student's gradient-ascent pieces may not call: the reference, and the gradient in one call. */
export const ASCENT_REFUSES = ['classVisualization', ...GRADIENT_REFUSES] as const;

export type AscentStepFunction = (
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
  learningRate: number,
) => tf.Tensor | Promise<tf.Tensor>;

export interface RegularizeOptions {
  l2Decay: number;
  blurEvery: number;
  blurSigma: number;
}
export type RegularizeFunction = (
  image: tf.Tensor3D,
  step: number,
  opts: RegularizeOptions,
) => tf.Tensor | Promise<tf.Tensor>;

export interface GradientAscentOptions extends RegularizeOptions {
  steps: number;
  learningRate: number;
  /** The start image [H, W, C]. */
  init: tf.Tensor3D;
}
/** The loop; `step` and `regularize` are the functions it must call (the student's own by default). */
export type GradientAscentFunction = (
  model: tf.LayersModel,
  target: number,
  opts: GradientAscentOptions,
  step?: (model: tf.LayersModel, image: tf.Tensor3D, target: number, learningRate: number) => tf.Tensor3D,
  regularize?: (image: tf.Tensor3D, step: number, opts: RegularizeOptions) => tf.Tensor3D,
) => tf.Tensor | Promise<tf.Tensor>;

export interface AscentCheckOptions extends CheckOptions {
  model?: tf.LayersModel;
}

function minus(a: Values, b: Float32Array): Values {
  return { shape: a.shape, data: a.data.map((v, i) => v - b[i]) };
}

/** `fn(model, image, target, learningRate)` against one gradient step: plain or normalised, each accepted. */
export async function ascentStep(fn: AscentStepFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'ascentStep';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 3, 2);
  const lrs = [0.1, 0.05, 0.2];
  const student = new StudentCalls(fn, fnName, { check: name, refuse: ASCENT_REFUSES });
  const kinds = new Set<string>();
  for (const h of sets) {
    for (let k = 0; k < h.cases.length; k++) {
      const c = h.cases[k];
      const lr = lrs[k % lrs.length];
      const input = c.image.clone();
      const run = await student.call([h.model, input, c.target, lr], [input]);
      if (run.error) return failed(name, run.error, 0, opts);
      const got = takeValue(run.value, `the image ${fnName} returned for ${c.name}`);
      if (typeof got === 'string') return failed(name, got, 0, opts);
      const x = Float32Array.from(c.image.dataSync());
      // The raw gradient of the class score, and of its probability, for the accepted updates and the hints.
      const g = (await takeValues(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'none' }))).data;
      const gp = (
        await takeValues(referenceSaliency(h.model, c.image, { target: c.target, output: 'probs', reduce: 'none' }))
      ).data;
      const n = g.length;
      const rms = (v: Float32Array) => Math.sqrt(v.reduce((t, y) => t + y * y, 0) / n) + 1e-12;
      const norm = (v: Float32Array) => Math.sqrt(v.reduce((t, y) => t + y * y, 0)) + 1e-12;
      const accepted: Array<{ kind: string; step: Float32Array }> = [
        { kind: 'plain (x + lr * g)', step: g.map((v) => lr * v) },
        { kind: 'RMS-normalised (x + lr * g / rms(g))', step: g.map((v) => (lr * v) / rms(g)) },
        { kind: 'norm-normalised (x + lr * g / |g|)', step: g.map((v) => (lr * v) / norm(g)) },
      ];
      const shape = [...c.image.shape];
      if (got.shape.join() !== shape.join()) {
        const cmp = compareValues(got, { shape, data: x }, { what: `the image ${fnName} returned for ${c.name}` });
        return failed(name, cmp.message, student.count, opts);
      }
      const step = minus(got, x);
      const match = accepted.find(
        (a) => compareValues(step, { shape, data: a.step }, { what: '', tolerance: 2e-3 }).ok,
      );
      if (match) {
        kinds.add(match.kind);
        continue;
      }
      const clip = (d: Float32Array) => d.map((v, i) => Math.min(1, Math.max(0, x[i] + v)) - x[i]);
      const mistakes: KnownMistake[] = [
        ...accepted.map((a) => ({
          values: a.step.map((v) => -v),
          hint: 'you stepped down the gradient (x - ...): gradient ascent adds the step, to raise the score',
        })),
        {
          values: gp.map((v) => lr * v),
          hint:
            "you climbed the probability (after the softmax); climb the class score before it, the 'logits' " +
            "layer's output",
        },
        {
          values: gp.map((v) => (lr * v) / rms(gp)),
          hint:
            "you climbed the probability (after the softmax); climb the class score before it, the 'logits' " +
            "layer's output",
        },
        ...accepted.map((a) => ({
          values: clip(a.step),
          hint:
            'you clipped to [0, 1] inside the step; clipping belongs to regularize(), the step only adds the ' +
            'gradient step',
        })),
        { values: g.map((v) => v), hint: 'you added the gradient without the learning rate: x + learningRate * g' },
      ];
      const cmp = compareValues(
        step,
        { shape, data: accepted[0].step },
        {
          what: `your step (the returned image minus the input) for ${c.name}, learning rate ${lr}`,
          mistakes,
          tolerance: 2e-3,
        },
      );
      const message = cmp.message.replace(
        /\n {2}expected: /,
        `\n  expected: the plain step learningRate * g (a normalised step g / rms(g) or g / |g| is accepted too): `,
      );
      return failed(name, message, student.count, opts, leakNote(student.leaked, student.count, fnName));
    }
  }
  const where = sets.map((h) => `${h.cases.length} of ${h.modelName}`).join(' and ');
  return finish(
    {
      name,
      passed: true,
      message: `${fnName} takes a correct ${[...kinds].join(' / ')} step on ${student.count} hidden images (${where})`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}

const REG: RegularizeOptions = { l2Decay: 0.1, blurEvery: 2, blurSigma: 1 };

/** What regularize would give with one piece changed, for the hints. */
function regVariant(
  x: tf.Tensor3D,
  step: number,
  o: RegularizeOptions,
  change: 'none' | 'noClip' | 'keepFraction' | 'blurAlways' | 'clipThenBlur' | 'noBlur',
): tf.Tensor3D {
  return tf.tidy(() => {
    let y = tf.mul(x, change === 'keepFraction' ? o.l2Decay : 1 - o.l2Decay) as tf.Tensor3D;
    const blurNow = change === 'blurAlways' || (change !== 'noBlur' && o.blurEvery > 0 && step % o.blurEvery === 0);
    const blur = (t: tf.Tensor3D) =>
      tf.squeeze(gaussianBlur(tf.expandDims(t, 0) as tf.Tensor4D, o.blurSigma), [0]) as tf.Tensor3D;
    if (change === 'clipThenBlur')
      return blurNow ? blur(tf.clipByValue(y, 0, 1) as tf.Tensor3D) : (tf.clipByValue(y, 0, 1) as tf.Tensor3D);
    if (blurNow) y = blur(y);
    return change === 'noClip' ? y : (tf.clipByValue(y, 0, 1) as tf.Tensor3D);
  });
}

/**
 * `fn(image, step, { l2Decay, blurEvery, blurSigma })` against classVisualization's regularizers (learning rate 0),
 * steps 1..3, on a gray and a colour image.
 */
export async function regularize(fn: RegularizeFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'regularize';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 1, 1);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: ASCENT_REFUSES });
  for (const h of sets) {
    // Values outside [0, 1], so clipping is seen.
    const start = tf.tidy(() => tf.sub(tf.mul(h.cases[0].image, 1.6), 0.3) as tf.Tensor3D);
    let current = start.clone();
    try {
      for (let step = 1; step <= 3; step++) {
        const input = current.clone();
        const run = await student.call([input, step, { ...REG }], [input]);
        if (run.error) return failed(name, run.error, 0, opts);
        const what =
          `the image ${fnName} returned at step ${step} for an image [${current.shape.join(', ')}] ` +
          `(l2Decay ${REG.l2Decay}, blurEvery ${REG.blurEvery}, blurSigma ${REG.blurSigma})`;
        const got = takeValue(run.value, what);
        if (typeof got === 'string') return failed(name, got, 0, opts);
        const ref = await takeValues(
          classVisualization(h.model, { target: 0, init: start, steps: step, learningRate: 0, ...REG }),
        );
        const variant = async (change: Parameters<typeof regVariant>[3]) =>
          takeValues(regVariant(current, step, REG, change));
        const mistakes: KnownMistake[] = [
          {
            values: (await variant('noClip')).data,
            hint: 'clip the result to [0, 1] at the end (tf.clipByValue(x, 0, 1))',
          },
          {
            values: (await variant('keepFraction')).data,
            hint: 'L2 decay keeps the fraction (1 - l2Decay) of the image: multiply by 1 - l2Decay, not by l2Decay',
          },
          {
            values: (await variant('clipThenBlur')).data,
            hint: 'blur before clipping: decay, then blur (on the steps where step % blurEvery === 0), then clip',
          },
          {
            values: (await variant(step % REG.blurEvery === 0 ? 'noBlur' : 'blurAlways')).data,
            hint:
              step % REG.blurEvery === 0
                ? `step ${step} is a blur step (step % blurEvery === 0): blur with cnnviz's gaussianBlur(x4d, ` +
                  `blurSigma)`
                : `blur only on the steps where step % blurEvery === 0; step ${step} is not one of them`,
          },
        ];
        const cmp = compareValues(got, ref, { what, mistakes });
        if (!cmp.ok)
          return failed(name, cmp.message, student.count, opts, leakNote(student.leaked, student.count, fnName));
        current.dispose();
        current = tf.tensor3d(ref.data, ref.shape as [number, number, number]);
      }
    } finally {
      current.dispose();
      start.dispose();
    }
  }
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} matches the reference regularizers over steps 1-3 on a gray and a colour image (decay, blur on ` +
        `even steps, clip)`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}

/** A start image: faint seeded noise. */
function startImage(shape: [number, number, number], seed: number): tf.Tensor3D {
  const rand = mulberry32(seed);
  return tf.tensor3d(
    Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => 0.2 * rand()),
    shape,
  );
}

/** The reference step and regularizer, synchronous (the student's loop calls them as its own), counting their calls. */
function spies(h: Hidden) {
  const log = {
    steps: [] as Array<{ lr: number; target: number; sameModel: boolean }>,
    regs: [] as number[],
    bad: [] as string[],
  };
  const step = (model: tf.LayersModel, image: tf.Tensor3D, target: number, learningRate: number): tf.Tensor3D => {
    log.steps.push({ lr: learningRate, target, sameModel: model === h.model });
    if (!(image instanceof tf.Tensor) || image.isDisposed) {
      log.bad.push(
        `step was called with ${image instanceof tf.Tensor ? 'a disposed tensor' : String(image)} as the image`,
      );
      return tf.zeros(h.cases[0].image.shape) as tf.Tensor3D;
    }
    return tf.tidy(() => {
      const grad = tf.grad((x: tf.Tensor) =>
        classObjective(
          forward(model, tf.expandDims(x, 0), { output: 'logits', caller: 'check.gradientAscent' }),
          Int32Array.of(target),
        ),
      )(image);
      return tf.add(
        image,
        tf.mul(learningRate, tf.div(grad, tf.add(tf.sqrt(tf.mean(tf.square(grad))), 1e-12))),
      ) as tf.Tensor3D;
    });
  };
  const reg = (image: tf.Tensor3D, n: number, o: RegularizeOptions): tf.Tensor3D => {
    log.regs.push(n);
    if (!(image instanceof tf.Tensor) || image.isDisposed) {
      log.bad.push(
        `regularize was called with ${image instanceof tf.Tensor ? 'a disposed tensor' : String(image)} as the image`,
      );
      return tf.zeros(h.cases[0].image.shape) as tf.Tensor3D;
    }
    return regVariant(image, n, o, 'none');
  };
  return { log, step, reg };
}

/**
 * `fn(model, target, { steps, learningRate, l2Decay, blurEvery, blurSigma, init }, step, regularize)` against
 * classVisualization.
 */
export async function gradientAscent(fn: GradientAscentFunction, opts: AscentCheckOptions = {}): Promise<CheckResult> {
  const name = 'gradientAscent';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 2, 1);
  const settings: Omit<GradientAscentOptions, 'init'> = {
    steps: 12,
    learningRate: 0.1,
    l2Decay: 0.01,
    blurEvery: 4,
    blurSigma: 0.5,
  };
  let leaked = 0;
  const pairs: Array<{ got: Values; ref: Values; target: number }> = [];
  for (const h of sets) {
    const shape = h.cases[0].image.shape as [number, number, number];
    for (let k = 0; k < h.cases.length; k++) {
      const target = h.cases[k].target;
      const init = startImage(shape, 7 + k);
      const input = init.clone();
      const spy = spies(h);
      const run = await callStudent(fn, fnName, [h.model, target, { ...settings, init: input }, spy.step, spy.reg], {
        check: name,
        refuse: ASCENT_REFUSES,
      });
      if (!input.isDisposed) input.dispose();
      leaked += run.leaked;
      const fail = (message: string, cases: number) => {
        init.dispose();
        if (run.value instanceof tf.Tensor && !run.value.isDisposed) run.value.dispose();
        return failed(name, message, cases, opts);
      };
      if (run.error) return fail(run.error, 0);
      const hint =
        `in the loop, call step(model, x, target, opts.learningRate) and then reg(x, stepNumber, opts), the two ` +
        `functions ${fnName} is given as its 4th and 5th arguments (your own ascentStep and regularize by default), ` +
        `for stepNumber = 1 .. opts.steps`;
      const count = (what: string, got: number) =>
        explain(
          `${fnName} did not call ${what} it was given the expected number of times (${h.modelName}, ` +
            `target ${target}).`,
          `${settings.steps} calls`,
          `${got}`,
          hint,
        );
      if (spy.log.bad.length)
        return fail(
          explain(
            `${fnName} passed a wrong image to its step or regularizer.`,
            'the current image, a live tensor',
            spy.log.bad[0],
            'dispose an image only after the step or regularizer made the next one from it',
          ),
          0,
        );
      if (spy.log.steps.length !== settings.steps) return fail(count('the step function', spy.log.steps.length), 0);
      if (spy.log.regs.length !== settings.steps) return fail(count('the regularizer', spy.log.regs.length), 0);
      const wrongLr = spy.log.steps.find((c) => c.lr !== settings.learningRate || c.target !== target || !c.sameModel);
      if (wrongLr)
        return fail(
          explain(
            `${fnName} called step with the wrong arguments.`,
            `step(model, x, ${target}, ${settings.learningRate})`,
            `step(${wrongLr.sameModel ? 'model' : 'another model'}, x, ${wrongLr.target}, ${wrongLr.lr})`,
            'pass the model, the target and opts.learningRate through unchanged',
          ),
          0,
        );
      const numbers = spy.log.regs.join(', ');
      const wanted = Array.from({ length: settings.steps }, (_, i) => i + 1).join(', ');
      if (numbers !== wanted)
        return fail(
          explain(
            `${fnName} gave the regularizer the wrong step numbers.`,
            wanted,
            numbers,
            'count the steps from 1: blur happens when step % blurEvery === 0, so the numbers matter',
          ),
          0,
        );
      const what = `the image ${fnName} returned for ${h.modelName}, target ${target}, after ${settings.steps} steps`;
      const got = readValue(run.value, what);
      if (typeof got === 'string') return fail(got, 0);
      if (run.value instanceof tf.Tensor) run.value.dispose();
      const ref = await takeValues(classVisualization(h.model, { target, init, ...settings }));
      init.dispose();
      const cmp = compareValues(got, ref, { what, tolerance: 5e-3, exactOnly: true });
      pairs.push({ got, ref, target });
      if (!cmp.ok) {
        if (opts.show !== false) showPairs(pairs);
        const message = cmp.message.replace(
          /\n {2}hint: .*$/s,
          `\n  hint: the calls were right, so look at what you return and what you pass on: each step must start ` +
            `from the image the previous regularize returned`,
        );
        return failed(name, message, pairs.length, opts, leakNote(leaked, pairs.length, fnName));
      }
    }
  }
  if (opts.show !== false) showPairs(pairs);
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} calls the step and the regularizer it is given, in order, and makes the same images as the ` +
        `reference (${settings.steps} steps, ${pairs.length} classes of ${sets.length} hidden models)`,
      cases: pairs.length,
      notes: leakNote(leaked, pairs.length, fnName),
    },
    opts,
  );
}

function showPairs(pairs: Array<{ got: Values; ref: Values; target: number }>): void {
  const ok = pairs.filter(
    (p) => p.got.shape.join() === p.ref.shape.join() && p.got.shape.length === 3 && p.got.shape[2] === 1,
  );
  if (!ok.length) return;
  const px = (v: Values) => ({ height: v.shape[0], width: v.shape[1], channels: v.shape[2], data: v.data });
  show.images(
    ok.flatMap((p) => [px(p.got), px(p.ref)]),
    {
      captions: ok.flatMap((p) => [`yours, class ${p.target}`, `reference, class ${p.target}`]),
      cols: 4,
      title: 'gradient ascent: yours beside the reference',
    },
  );
}
