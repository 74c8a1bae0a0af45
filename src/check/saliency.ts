/**
 * check.saliency: the student's saliency map (Simonyan et al. 2014) against the package's, on
 * hidden images and targets: |d score_target / d pixel|, max over channels, score before softmax.
 */
import * as tf from '@tensorflow/tfjs';
import { saliency as referenceSaliency } from '../techniques/saliency';
import { show } from '../widgets/show';
import { compareValues, KnownMistake, readValue, Values } from './compare';
import { hidden } from './hidden';
import { callStudent, CheckOptions, CheckResult, finish, leakNote } from './report';

/** (model, image [H, W, C], target class) => map [H, W]. */
export type SaliencyFunction = (model: tf.LayersModel, image: tf.Tensor3D, target: number) => tf.Tensor | Promise<tf.Tensor>;

export interface SaliencyCheckOptions extends CheckOptions {
  /** Check on this model instead of the shipped mnist-cnn. */
  model?: tf.LayersModel;
}

async function values(t: Promise<tf.Tensor>): Promise<Values> {
  const x = await t;
  const v = { shape: [...x.shape], data: Float32Array.from(x.dataSync()) };
  x.dispose();
  return v;
}

/** Compares `fn(model, image, target)` with `saliency(model, image, { target })` on hidden cases. */
export async function saliency(fn: SaliencyFunction, opts: SaliencyCheckOptions = {}): Promise<CheckResult> {
  const name = 'saliency';
  const fnName = typeof fn === 'function' && fn.name ? fn.name : 'your function';
  const h = await hidden(opts.model);
  let leaked = 0;
  let firstShown = false;
  for (const c of h.cases) {
    const input = c.image.clone();
    const run = await callStudent(fn, fnName, [h.model, input, c.target]);
    input.dispose();
    leaked += run.leaked;
    if (run.error) return finish({ name, passed: false, message: run.error, cases: 0, notes: [] }, opts);
    const got = readValue(run.value, `the map ${fnName} returned for ${c.name}`);
    if (run.value instanceof tf.Tensor) run.value.dispose();
    if (typeof got === 'string') return finish({ name, passed: false, message: got, cases: 0, notes: [] }, opts);
    const ref = await values(referenceSaliency(h.model, c.image, { target: c.target }));
    const mistakes: KnownMistake[] = [
      {
        values: (await values(referenceSaliency(h.model, c.image, { target: c.target, output: 'probs' }))).data,
        hint: "it is the gradient of the probability (after the softmax). Saliency differentiates the class score before the softmax: use the output of the 'logits' layer",
      },
      {
        values: (await values(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'sum' }))).data,
        hint: 'you kept the sign of the gradient. The saliency map is its magnitude: take the absolute value (max over channels of |gradient|)',
      },
    ];
    const predicted = await values(referenceSaliency(h.model, c.image, {}));
    mistakes.push({ values: predicted.data, hint: `it is the map of the class the model predicts; explain the target you are given (${c.target})` });
    const cmp = compareValues(got, ref, { what: `your map for ${c.name}`, axes: ['row', 'column'], mistakes });
    if (!cmp.ok) {
      if (opts.show !== false && got.shape.join() === ref.shape.join()) showPair(got, ref, c.image);
      return finish({ name, passed: false, message: cmp.message, cases: h.cases.length, notes: leakNote(leaked, h.cases.length, fnName) }, opts);
    }
    if (!firstShown && opts.show !== false) {
      showPair(got, ref, c.image);
      firstShown = true;
    }
  }
  return finish({ name, passed: true, message: `${fnName} matches the reference on ${h.cases.length} hidden images of ${h.modelName}`, cases: h.cases.length, notes: leakNote(leaked, h.cases.length, fnName) }, opts);
}

function showPair(got: Values, ref: Values, image: tf.Tensor3D): void {
  const field = (v: Values) => ({ height: v.shape[0], width: v.shape[1], data: v.data });
  show.heatmap([field(got), field(ref)], [image, image], { mode: 'heat', labels: ['yours', 'reference'], title: 'saliency: yours and the reference' });
}
