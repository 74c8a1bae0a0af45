/**
 * The guided-backprop checks (assignment 06, Springenberg et al. 2015):
 *  - check.guidedRelu: a ReLU made with tf.customGrad whose backward pass lets a gradient through
 *    only where the forward input was positive and the gradient itself is positive;
 *  - check.guidedBackprop: the input gradient of a class through such ReLUs, against cnnviz's
 *    guidedBackprop on hidden images of mnist-cnn and of the hidden 3-channel model.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../common/random';
import { guidedBackprop as referenceGuided, deconvnet } from '../techniques/attribution/guided';
import { saliency as referenceSaliency } from '../techniques/attribution/saliency';
import { compareValues, explain, KnownMistake, readValue, takeValue, takeValues, Values } from './compare';
import { hiddenSets, NOTEBOOK_SEED } from './hidden';
import { callStudent, CheckOptions, CheckResult, finish, leakNote, nameOf, failed, StudentCalls } from './report';
import { GRADIENT_REFUSES } from './saliency';

export type GuidedReluFunction = (x: tf.Tensor) => tf.Tensor;
export type GuidedBackpropFunction = (
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
) => tf.Tensor | Promise<tf.Tensor>;

export const GUIDED_REFUSES = GRADIENT_REFUSES;

/** `relu(x)` forward and its gradient for an upstream gradient dy, against the guided rule dy * (x > 0) * (dy > 0). */
export async function guidedRelu(fn: GuidedReluFunction, opts: CheckOptions = {}): Promise<CheckResult> {
  const name = 'guidedRelu';
  // tf.customGrad returns an anonymous function.
  const fnName = nameOf(fn, 'guidedRelu');
  const rand = mulberry32((opts.seed ?? NOTEBOOK_SEED) * 3 + 11);
  const shape = [5, 7];
  const n = 35;
  // Every sign combination of x and dy occurs.
  const xs = Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) * (0.1 + rand()));
  const dys = Float32Array.from({ length: n }, (_, i) => (Math.floor(i / 2) % 2 === 0 ? 1 : -1) * (0.1 + rand()));
  const x = tf.tensor(xs, shape);
  const dy = tf.tensor(dys, shape);
  let leaked = 0;
  try {
    const fwd = await callStudent(fn, fnName, [x], { check: name, refuse: GUIDED_REFUSES });
    leaked += fwd.leaked;
    if (fwd.error) return failed(name, fwd.error, 0, opts);
    const got = readValue(fwd.value, `${fnName}(x) for a hidden x [5, 7]`);
    if (fwd.value instanceof tf.Tensor) fwd.value.dispose();
    if (typeof got === 'string') return failed(name, got, 0, opts);
    const relu: Values = { shape, data: xs.map((v) => Math.max(0, v)) };
    const f = compareValues(got, relu, {
      what: `the forward value ${fnName}(x)`,
      mistakes: [
        {
          values: xs.map((v) => (v > 0 ? 1 : 0)),
          hint: 'the forward pass returns relu(x) itself (tf.relu(x)); the mask belongs to the gradient',
        },
      ],
    });
    if (!f.ok) return failed(name, f.message, 1, opts);
    // The gradient that flows back through fn when the loss is sum(fn(x) * dy) is fn's backward pass applied to dy.
    const back = await callStudent(
      () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fn(t), dy)))(x)),
      fnName,
      [],
      { check: name, refuse: GUIDED_REFUSES },
    );
    leaked += back.leaked;
    if (back.error)
      return finish(
        {
          name,
          passed: false,
          message: back.error.replace(/threw an error\./, 'failed in its backward pass.'),
          cases: 1,
          notes: [],
        },
        opts,
      );
    const g = readValue(back.value, `the gradient through ${fnName}`);
    if (back.value instanceof tf.Tensor) back.value.dispose();
    if (typeof g === 'string') return failed(name, g, 1, opts);
    const want: Values = { shape, data: xs.map((v, i) => (v > 0 && dys[i] > 0 ? dys[i] : 0)) };
    const mistakes: KnownMistake[] = [
      {
        values: xs.map((v, i) => (v > 0 ? dys[i] : 0)),
        hint:
          'this is the ordinary ReLU gradient, dy where x > 0. Guided backprop also drops the negative gradients: dy ' +
          '* (x > 0) * (dy > 0)',
      },
      {
        values: dys.map((v) => (v > 0 ? v : 0)),
        hint:
          "this is the deconvnet's rule (only dy > 0, whatever x was). Guided backprop also needs the forward input " +
          'positive: dy * (x > 0) * (dy > 0)',
      },
      { values: xs.map((v, i) => (v > 0 && dys[i] > 0 ? 1 : 0)), hint: 'this is the mask alone; multiply it by dy' },
      {
        values: dys,
        hint:
          'the gradient passes unchanged: did gradFunc return dy? It returns dy * (x > 0) * (dy > 0), with x saved ' +
          'by save([x])',
      },
    ];
    const cmp = compareValues(g, want, {
      what: `the gradient ${fnName} passes back (for a hidden x and upstream dy)`,
      mistakes,
    });
    if (!cmp.ok) return failed(name, cmp.message, 2, opts, leakNote(leaked, 2, fnName));
    return finish(
      {
        name,
        passed: true,
        message: `${fnName} is relu forward, and lets the gradient back only where x > 0 and dy > 0`,
        cases: 2,
        notes: leakNote(leaked, 2, fnName),
      },
      opts,
    );
  } finally {
    tf.dispose([x, dy]);
  }
}

/** Compares `fn(model, image, target)` with guidedBackprop(model, image, { target }) on hidden images. */
export async function guidedBackprop(
  fn: GuidedBackpropFunction,
  opts: CheckOptions & { model?: tf.LayersModel } = {},
): Promise<CheckResult> {
  const name = 'guidedBackprop';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 3, 2);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: GUIDED_REFUSES });
  for (const h of sets) {
    for (const c of h.cases) {
      const input = c.image.clone();
      const run = await student.call([h.model, input, c.target], [input]);
      if (run.error) return failed(name, run.error, 0, opts);
      const what = `the map ${fnName} returned for ${c.name}`;
      const got = takeValue(run.value, what);
      if (typeof got === 'string') return failed(name, got, 0, opts);
      const ref = await takeValues(referenceGuided(h.model, c.image, { target: c.target }));
      const mistakes: KnownMistake[] = [
        {
          values: (await takeValues(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'none' }))).data,
          hint: 'this is the ordinary gradient: every ReLU of the forward pass must be your guidedRelu',
        },
        {
          values: (await takeValues(deconvnet(h.model, c.image, { target: c.target }))).data,
          hint: "this is the deconvnet's rule; guidedRelu must also require x > 0",
        },
      ];
      const cmp = compareValues(got, ref, {
        what,
        mistakes,
        shapeHint: (g, e) =>
          g.length === 2 && e.length === 3
            ? `guided backprop keeps the ${e[2]} channels: return the gradient [H, W, C] itself, no reduction`
            : undefined,
      });
      if (!cmp.ok)
        return failed(name, cmp.message, student.count, opts, leakNote(student.leaked, student.count, fnName));
    }
  }
  if (sets.length === 0)
    return finish(
      {
        name,
        passed: false,
        message: explain('check.guidedBackprop could not run.', 'hidden models', 'none', 'run setup() first'),
        cases: 0,
        notes: [],
      },
      opts,
    );
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} matches guidedBackprop on ${student.count} hidden images ` +
        `(${sets.map((h) => `${h.cases.length} of ${h.modelName}`).join(' and ')})`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}
