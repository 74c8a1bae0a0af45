/**
 * check.occlusion: the student's occlusion map (Zeiler & Fergus 2014) against the package's: the
 * probability of the target class with a square patch of the image's mean pixel value at each
 * position (top-left corners 0, stride, 2 stride, ... while the patch fits).
 */
import * as tf from '@tensorflow/tfjs';
import { occlusion as referenceOcclusion, OcclusionOptions } from '../techniques/attribution/occlusion';
import { show } from '../widgets/show';
import { compareValues, KnownMistake, takeValue, Values } from './compare';
import { hiddenSets } from './hidden';
import { CheckOptions, CheckResult, finish, leakNote, nameOf, failed, StudentCalls } from './report';

/**
 * What a student's occlusion may not call: occlusion, and Kernel SHAP, which scores masked copies of the image the
 * same way.
 */
export const OCCLUSION_REFUSES = ['occlusion', 'kernelShap'] as const;

/** (model, image [H, W, C], target, window, stride) => probabilities [rows, cols]. */
export type OcclusionFunction = (
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
  window: number,
  stride: number,
) => tf.Tensor | number[][] | Promise<tf.Tensor | number[][]>;

export interface OcclusionCheckOptions extends CheckOptions {
  model?: tf.LayersModel;
}

const SETTINGS: Array<{ window: number; stride: number }> = [
  { window: 7, stride: 3 },
  { window: 5, stride: 4 },
];

async function mapOf(
  model: tf.LayersModel,
  image: tf.Tensor3D,
  o: OcclusionOptions,
): Promise<Values & { score: number }> {
  // The assignment's grid is Zeiler & Fergus': positions only while the patch fits (no window flush with the edge).
  const r = await referenceOcclusion(model, image, { ...o, edges: 'none', batchSize: 256, details: true });
  const v = { shape: [...r.map.shape], data: Float32Array.from(r.map.dataSync()), score: r.score[0] };
  tf.dispose([r.map, r.drop]);
  return v;
}

function setText(h: { cases: unknown[]; modelName: string }): string {
  return `${h.cases.length} image${h.cases.length > 1 ? 's' : ''} of ${h.modelName}`;
}

/** Compares `fn(model, image, target, window, stride)` with `occlusion(...)`'s probability map on hidden cases. */
export async function occlusion(fn: OcclusionFunction, opts: OcclusionCheckOptions = {}): Promise<CheckResult> {
  const name = 'occlusion';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 2, 1);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: OCCLUSION_REFUSES });
  let shown = false;
  for (const h of sets)
    for (const s of SETTINGS) {
      for (const c of h.cases) {
        const input = c.image.clone();
        const run = await student.call([h.model, input, c.target, s.window, s.stride], [input]);
        if (run.error) return failed(name, run.error, 0, opts);
        const got = takeValue(
          run.value,
          `the map ${fnName} returned for ${c.name}, window ${s.window}, stride ${s.stride}`,
        );
        if (typeof got === 'string') return failed(name, got, 0, opts);
        const base = { target: c.target, window: s.window, stride: s.stride };
        const ref = await mapOf(h.model, c.image, { ...base, fill: 'mean', output: 'probs' });
        const [H, W] = c.image.shape;
        const shapeHint = (g: number[], e: number[]): string | undefined => {
          if (g.length !== 2 || e.length !== 2) return undefined;
          if (g[0] === e[1] && g[1] === e[0] && e[0] !== e[1])
            return 'rows and columns are swapped: rows follow the patch down the image (y), columns across (x)';
          return (
            `the patch's top-left corner takes the positions 0, ${s.stride}, ${2 * s.stride}, ... while the patch ` +
            `still fits inside the image: floor((${H} - ${s.window}) / ${s.stride}) + 1 = ${e[0]} rows and ` +
            `floor((${W} - ${s.window}) / ${s.stride}) + 1 = ${e[1]} columns`
          );
        };
        const channels = c.image.shape[2];
        const overall = channels > 1 ? tf.tidy(() => c.image.mean().dataSync()[0]) : undefined;
        const mistakes: KnownMistake[] = [
          ...(overall !== undefined
            ? [
                {
                  values: (await mapOf(h.model, c.image, { ...base, fill: overall, output: 'probs' })).data,
                  hint:
                    `you covered the patch with one gray value, the mean over all pixels and all ${channels} ` +
                    "channels (image.mean()); cover it with the image's mean colour, each channel's own mean " +
                    '(image.mean([0, 1]))',
                },
              ]
            : []),
          {
            values: (await mapOf(h.model, c.image, { ...base, fill: 'black', output: 'probs' })).data,
            hint:
              "you covered the patch with 0 (black); cover it with the image's mean colour (image.mean([0, 1]), " +
              'one value per channel)',
          },
          {
            values: (await mapOf(h.model, c.image, { ...base, fill: 0.5, output: 'probs' })).data,
            hint:
              "you covered the patch with 0.5; cover it with the image's own mean colour (image.mean([0, 1]), " +
              'one value per channel)',
          },
          {
            values: (await mapOf(h.model, c.image, { ...base, fill: 'mean', output: 'logits' })).data,
            hint:
              'these are class scores before the softmax; record the probability of the target ' +
              '(model.predict gives probabilities)',
          },
          {
            values: ref.data.map((v) => ref.score - v),
            hint: 'you recorded the drop (unoccluded minus occluded probability); record the probability itself',
          },
        ];
        const cmp = compareValues(got, ref, {
          what: `your map for ${c.name}, window ${s.window}, stride ${s.stride}`,
          axes: ['row', 'column'],
          mistakes,
          shapeHint,
        });
        if (!cmp.ok || (!shown && c.image.shape[2] === 1)) {
          if (opts.show !== false && got.shape.join() === ref.shape.join()) {
            const field = (v: Values) => ({ height: v.shape[0], width: v.shape[1], data: v.data });
            show.heatmap([field(got), field(ref)], null, {
              mode: 'heat',
              clip: 100,
              resample: 'nearest',
              labels: ['yours', 'reference'],
              title: `occlusion, ${c.name}: probability per patch position`,
            });
          }
          shown = true;
        }
        if (!cmp.ok)
          return failed(name, cmp.message, student.count, opts, leakNote(student.leaked, student.count, fnName));
      }
    }
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} matches the reference on ${student.count} hidden cases (${sets.map(setText).join(' and ')}, ` +
        '2 window/stride settings each)',
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}
