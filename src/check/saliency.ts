/**
 * check.saliency: the student's saliency map (Simonyan et al. 2014) against the package's, on
 * hidden images and targets: |d score_target / d pixel|, max over channels, score before softmax.
 * The cases come from mnist-cnn (what the notebook shows) and from a hidden 3-channel model of
 * an odd size, where the channel reduction and the axes matter.
 */
import * as tf from '@tensorflow/tfjs';
import { saliency as referenceSaliency } from '../techniques/attribution/saliency';
import { show } from '../widgets/show';
import { compareValues, KnownMistake, takeValue, takeValues, Values } from './compare';
import { hiddenSets } from './hidden';
import { CheckOptions, CheckResult, finish, leakNote, nameOf, failed, StudentCalls } from './report';

/** (model, image [H, W, C], target class) => map [H, W]. */
export type SaliencyFunction = (
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
) => tf.Tensor | Promise<tf.Tensor>;

export interface SaliencyCheckOptions extends CheckOptions {
  /** Check on this model only, instead of mnist-cnn and the hidden 3-channel model. */
  model?: tf.LayersModel;
}

/** What a student's saliency may not call: the reference, and what gives it in one call. */
/**
 * Every cnnviz routine that hands out an input gradient in some form: integrated gradients with a
 * baseline one below the image and one step is the gradient itself, and Grad-CAM at an early layer
 * is close to it. A check that grades a gradient refuses them all.
 */
export const GRADIENT_REFUSES = [
  'saliency',
  'smoothGrad',
  'integratedGradients',
  'guidedBackprop',
  'deconvnet',
  'gradCam',
  'guidedGradCam',
] as const;

export const SALIENCY_REFUSES = GRADIENT_REFUSES;

/** Compares `fn(model, image, target)` with `saliency(model, image, { target })` on hidden cases. */
export async function saliency(fn: SaliencyFunction, opts: SaliencyCheckOptions = {}): Promise<CheckResult> {
  const name = 'saliency';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 4, 3);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: SALIENCY_REFUSES });
  let firstShown = false;
  for (const h of sets) {
    for (const c of h.cases) {
      const input = c.image.clone();
      const run = await student.call([h.model, input, c.target], [input]);
      if (run.error) return failed(name, run.error, 0, opts);
      const got = takeValue(run.value, `the map ${fnName} returned for ${c.name}`);
      if (typeof got === 'string') return failed(name, got, 0, opts);
      const ref = await takeValues(referenceSaliency(h.model, c.image, { target: c.target }));
      const channels = c.image.shape[2];
      const mistakes: KnownMistake[] = [
        {
          values: (await takeValues(referenceSaliency(h.model, c.image, { target: c.target, output: 'probs' }))).data,
          hint:
            'it is the gradient of the probability (after the softmax). Saliency differentiates the class score ' +
            "before the softmax: use the output of the 'logits' layer",
        },
        {
          values: (await takeValues(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'sum' }))).data,
          hint:
            channels > 1
              ? 'you summed the signed gradient over the channels. The saliency map is the largest magnitude: max ' +
                'over channels of |gradient|'
              : 'you kept the sign of the gradient. The saliency map is its magnitude: take the absolute value (max ' +
                'over channels of |gradient|)',
        },
      ];
      if (channels > 1) {
        const g = await takeValues(referenceSaliency(h.model, c.image, { target: c.target, reduce: 'none' }));
        const per = (f: (vals: number[]) => number) =>
          Float32Array.from({ length: g.data.length / channels }, (_, i) =>
            f(Array.from(g.data.subarray(i * channels, (i + 1) * channels))),
          );
        mistakes.push(
          {
            values: per((v) => v.reduce((s, x) => s + Math.abs(x), 0)),
            hint: `you added |gradient| over the ${channels} channels; take the largest one per pixel (.abs().max(-1))`,
          },
          {
            values: per((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))),
            hint:
              `you took the L2 norm over the ${channels} channels; the saliency map takes the largest |gradient| per ` +
              `pixel (.abs().max(-1))`,
          },
          {
            values: per((v) => v.reduce((s, x) => s + Math.abs(x), 0) / channels),
            hint:
              `you averaged |gradient| over the ${channels} channels; take the largest one per pixel ` +
              `(.abs().max(-1))`,
          },
          {
            values: per((v) => Math.abs(v[0])),
            hint:
              'you kept only the first channel; take the largest |gradient| over all channels per pixel ' +
              '(.abs().max(-1))',
          },
        );
      }
      const predicted = await takeValues(referenceSaliency(h.model, c.image, {}));
      mistakes.push({
        values: predicted.data,
        hint: `it is the map of the class the model predicts; explain the target you are given (${c.target})`,
      });
      const cmp = compareValues(got, ref, {
        what: `your map for ${c.name}`,
        axes: ['row', 'column'],
        mistakes,
        shapeHint: (g, e) =>
          channels > 1 && g.length === 3 && g[0] === e[0] && g[1] === e[1] && g[2] === channels
            ? `it still has the ${channels} channels: reduce them to one value per pixel, the largest |gradient| ` +
              `(.abs().max(-1)); squeeze() only drops axes of size 1`
            : undefined,
      });
      if (!cmp.ok) {
        if (opts.show !== false && got.shape.join() === ref.shape.join()) showPair(got, ref, c.image);
        return failed(name, cmp.message, student.count, opts, leakNote(student.leaked, student.count, fnName));
      }
      if (!firstShown && opts.show !== false && channels === 1) {
        showPair(got, ref, c.image);
        firstShown = true;
      }
    }
  }
  const where = sets.map((h) => `${h.cases.length} of ${h.modelName}`).join(' and ');
  return finish(
    {
      name,
      passed: true,
      message: `${fnName} matches the reference on ${student.count} hidden images (${where})`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}

function showPair(got: Values, ref: Values, image: tf.Tensor3D): void {
  const field = (v: Values) => ({ height: v.shape[0], width: v.shape[1], data: v.data });
  show.heatmap([field(got), field(ref)], [image, image], {
    mode: 'heat',
    labels: ['yours', 'reference'],
    title: 'saliency: yours and the reference',
  });
}
