// Notebook 09's tests of the explanations themselves, one call each: show.deletion (deletion and insertion scores
// of six methods against a random map, Petsiuk et al. 2018), show.sanity (Adebayo et al.'s randomization check,
// every layer with weights from the top down) and show.randomizedMaps (the dog's maps along that cascade). Each
// heavy result is stored (remember) under the name and key notebook 09 shipped it with.
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import type { Progress } from '../runtime/cancel';
import { deletionScore, insertionScore } from '../techniques/attribution/deletion';
import { gradCam } from '../techniques/attribution/gradcam';
import { guidedBackprop } from '../techniques/attribution/guided';
import { integratedGradients } from '../techniques/attribution/integrated_gradients';
import { randomizationCheck } from '../techniques/attribution/randomization';
import { saliency } from '../techniques/attribution/saliency';
import { smoothGrad } from '../techniques/attribution/smoothgrad';
import type { Fit } from '../data/images';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { echoAsFigure } from './attribution_common';
import { netName, className, imageName, imageOf, netOf } from './resolve';
import { SHAP_SETTINGS, shapValues } from './attribution_shap';
import { namedAsync, remember } from './remember';
import type { Net } from './resolve';

/** Photos by name, each with its fit (one for all, or one each). */
export interface PhotosOptions {
  /** how each photo is made to fit the model's input: one for all (default 'fill') or one per photo */
  fit?: Fit | readonly Fit[];
  /** compute again even when stored results exist */
  recompute?: boolean;
}

/** The photos as a batch, each one's best class and its probability (the caller owns xs and batch). */
interface PhotoSet {
  names: string[];
  xs: tf.Tensor3D[];
  batch: tf.Tensor4D;
  best: number[];
}

async function photoSet(
  model: tf.LayersModel,
  photos: readonly string[],
  o: PhotosOptions,
  caller: string,
): Promise<PhotoSet> {
  if (!Array.isArray(photos) || photos.length === 0) fail(caller, "expected a list of photos, e.g. ['dog', 'eagle']");
  const fits = Array.isArray(o.fit) ? o.fit : photos.map(() => o.fit as Fit | undefined);
  if (fits.length !== photos.length) fail(caller, `fit: ${fits.length} fits for ${photos.length} photos`);
  const xs: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < photos.length; i++) xs.push(await imageOf(model, photos[i], caller, { fit: fits[i] }));
  } catch (err) {
    tf.dispose(xs);
    throw err;
  }
  const batch = tf.stack(xs) as tf.Tensor4D;
  const probs = tf.tidy(() => (model.predict(batch) as tf.Tensor2D).arraySync());
  const best = probs.map((p) => p.indexOf(Math.max(...p)));
  const names = photos.map((p) => imageName(p));
  names.forEach((p, i) => console.log(`${p}: ${className(model, best[i])} ${probs[i][best[i]].toFixed(3)}`));
  return { names, xs, batch, best };
}

const dispose = (s: PhotoSet) => tf.dispose([...s.xs, s.batch]);

interface Scores {
  method: string;
  deletion: number;
  insertion: number;
  fractions: Float32Array;
  curve: Float32Array;
}

/** The six methods and the random map of the deletion test, on the photos' batch (each for its best class). */
function deletionMethods(net: Net, model: tf.LayersModel, s: PhotoSet): [string, () => Promise<tf.Tensor>][] {
  const { batch, best, xs, names } = s;
  return [
    ['saliency', () => saliency(model, batch, { target: best })],
    ['guided backprop', () => guidedBackprop(model, batch, { target: best })],
    ['SmoothGrad', () => smoothGrad(model, batch, { target: best, samples: 16, seed: 0 })],
    ['Integrated Gradients', () => integratedGradients(model, batch, { target: best, steps: 16, tolerance: Infinity })],
    ['Grad-CAM', () => gradCam(model, batch, { target: best })],
    [
      'Kernel SHAP',
      async () => {
        const maps: tf.Tensor2D[] = [];
        for (let i = 0; i < xs.length; i++) {
          const r = await shapValues(net, model, names[i], xs[i], best[i], 'probs', {});
          maps.push(
            tf.tensor2d(
              Float32Array.from(r.segments, (v) => r.values[v]),
              xs[i].shape.slice(0, 2) as never,
            ),
          );
        }
        const out = tf.stack(maps);
        tf.dispose(maps);
        return out;
      },
    ],
    ['random', async () => tf.randomUniform(batch.shape.slice(0, 3), 0, 1, 'float32', 7)],
  ];
}

export interface DeletionShort {
  scores: Scores[];
  figure: Figure;
}

async function deletion(net: Net, photos: readonly string[], o: PhotosOptions = {}): Promise<DeletionShort> {
  const caller = 'show.deletion';
  const model = await netOf(net, caller);
  const s = await photoSet(model, photos, o, caller);
  try {
    const methods = deletionMethods(net, model, s);
    const key = {
      weights: model,
      images: s.batch,
      methods: methods.map(([m]) => m),
      steps: 24,
      shap: SHAP_SETTINGS,
    };
    const compute = async (onProgress?: (p: Progress) => void): Promise<Scores[]> => {
      const rows: Scores[] = [];
      for (const [method, explain] of methods) {
        const map = await explain();
        try {
          const del = await deletionScore(model, s.batch, map, { target: s.best, steps: 24 });
          const ins = await insertionScore(model, s.batch, map, { target: s.best, steps: 24 });
          rows.push({ method, deletion: del.auc, insertion: ins.auc, fractions: del.fractions, curve: del.curve });
        } finally {
          map.dispose();
        }
        onProgress?.({ done: rows.length, total: methods.length });
      }
      return rows;
    };
    const scores = await remember(`deletion-insertion-${netName(net, model)}`, key, compute, {
      recompute: o.recompute,
      title: 'deletion and insertion (computing once; cached afterwards)',
    });
    console.table(
      scores.map((r) => ({
        method: r.method,
        'deletion AUC (lower is better)': r.deletion.toFixed(3),
        'insertion AUC (higher is better)': r.insertion.toFixed(3),
      })),
    );
    const random = scores.find((r) => r.method === 'random');
    if (!random) fail(caller, 'the stored scores have no random map');
    const rest = scores.filter((r) => r !== random);
    const byDel = [...scores].sort((a, b) => a.deletion - b.deletion);
    const byIns = [...scores].sort((a, b) => b.insertion - a.insertion);
    const list = (rs: Scores[]) => rs.map((r) => r.method).join(', ') || 'none';
    console.log(
      `best deletion: ${byDel[0].method}; best insertion: ${byIns[0].method}; worse than random on deletion: ` +
        `${list(rest.filter((r) => r.deletion >= random.deletion))}; on insertion: ` +
        `${list(rest.filter((r) => r.insertion <= random.insertion))}`,
    );
    const both = rest.filter((r) => r.deletion < random.deletion && r.insertion > random.insertion);
    const cam = scores.find((r) => r.method === 'Grad-CAM');
    const camLine = cam
      ? `; Grad-CAM's deletion AUC is ${(cam.deletion / random.deletion).toFixed(1)} times random's`
      : '';
    console.log(`beat random on both scores: ${list(both)}${camLine}`);
    const figure = widgetShow.curves(
      { curves: scores.map((r) => ({ name: r.method, x: r.fractions, y: r.curve, dashed: r.method === 'random' })) },
      {
        title: `deletion curves, mean over ${photos.length} photos (lower is better)`,
        xTitle: 'fraction of pixels deleted (set to black), highest-ranked first',
        yTitle: 'probability of the class',
        width: 720,
        height: 400,
      },
    );
    return echoAsFigure({ scores, figure }, figure);
  } finally {
    dispose(s);
  }
}

/**
 * `await show.deletion('mobilenet', ['dog', 'eagle'])`: each photo's best class, then the deletion and insertion
 * areas of saliency, guided backprop, SmoothGrad, Integrated Gradients, Grad-CAM, Kernel SHAP and a random map
 * (a table, the methods that beat random), and the deletion curves; computed once and stored.
 */
export const showDeletion = namedAsync('show.deletion', deletion);

/** Every layer with weights, top first: randomizationCheck's default cascade. */
export function cascadeOf(model: tf.LayersModel): string[] {
  return model.layers
    .filter((l) => l.getWeights().length > 0)
    .map((l) => l.name)
    .reverse();
}

/** What the cascade's layers are: '28 convolutions, 27 batch norms' (the kinds present, in that order). */
function kinds(model: tf.LayersModel, cascade: string[]): string {
  const kind = (l: string) => {
    const c = model.getLayer(l).getClassName();
    return /Conv/.test(c)
      ? 'convolutions'
      : c === 'Dense'
        ? 'dense layers'
        : c === 'BatchNormalization'
          ? 'batch norms'
          : 'others';
  };
  const counts = new Map<string, number>();
  for (const l of cascade) counts.set(kind(l), (counts.get(kind(l)) ?? 0) + 1);
  return ['convolutions', 'dense layers', 'batch norms', 'others']
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${k}`)
    .join(', ');
}

/** Where each stage of the printed table ends in the cascade (MobileNet's blocks; else a few evenly spaced). */
function stagesOf(cascade: string[]): [string, number][] {
  const blocks = [13, 10, 7, 4, 1].filter((b) => cascade.includes(`conv_dw_${b}`));
  const middle: [string, number][] = blocks.length
    ? blocks.map((b) => [`block ${b}`, cascade.indexOf(`conv_dw_${b}`)])
    : [1, 2, 3].map((k) => {
        const i = Math.round((k * (cascade.length - 1)) / 4);
        return [`to ${cascade[i]}`, i];
      });
  return [[cascade[0], 0], ...middle, ['every layer', cascade.length - 1]];
}

type Check = [string, (m: tf.LayersModel, x: tf.Tensor) => Promise<tf.Tensor>];

interface Cascade {
  method: string;
  layers: string[];
  means: number[];
}

export interface SanityShort {
  cascade: string[];
  rows: Cascade[];
  figure: Figure;
}

async function sanity(net: Net, photos: readonly string[], o: PhotosOptions = {}): Promise<SanityShort> {
  const caller = 'show.sanity';
  const model = await netOf(net, caller);
  const s = await photoSet(model, photos, o, caller);
  try {
    const cascade = cascadeOf(model);
    console.log(
      `randomized in turn, top down: ${cascade.length} layers with weights (${kinds(model, cascade)}): ` +
        cascade.join(' -> '),
    );
    const best = s.best;
    const checks: Check[] = [
      ['saliency', (m, x) => saliency(m, x, { target: best })],
      ['guided backprop', (m, x) => guidedBackprop(m, x, { target: best })],
      ['Grad-CAM', (m, x) => gradCam(m, x, { target: best })],
      ['Integrated Gradients', (m, x) => integratedGradients(m, x, { target: best, steps: 8, tolerance: Infinity })],
    ];
    const key = { weights: model, images: s.batch, layers: cascade, methods: checks.map(([m]) => m), seed: 0 };
    const compute = async (onProgress?: (p: Progress) => void): Promise<Cascade[]> => {
      const rows: Cascade[] = [];
      for (const [method, explain] of checks) {
        const r = await randomizationCheck(model, explain, s.batch, { seed: 0 }); // no layers: the default
        rows.push({ method, layers: r.steps.map((t) => t.layer), means: r.steps.map((t) => t.mean) });
        onProgress?.({ done: rows.length, total: checks.length });
      }
      return rows;
    };
    const rows = await remember(`randomization-${netName(net, model)}-every-layer`, key, compute, {
      recompute: o.recompute,
      title: `randomization check, ${cascade.length} layers (computing once; cached afterwards)`,
    });
    const same = rows.every((r) => r.layers.join() === cascade.join());
    console.log(
      `steps computed: ${rows.map((r) => r.means.length).join(', ')}; the same layers as the cascade above: ${same}`,
    );
    const stages = stagesOf(cascade);
    console.log(`mean Spearman correlation with the trained model's maps, randomized down to:`);
    console.table(
      rows.map((r) => ({
        method: r.method,
        ...Object.fromEntries(stages.map(([st, i]) => [st, Number(r.means[i].toFixed(2))])),
      })),
    );
    for (const r of rows) {
      const below = r.means.findIndex((m) => m < 0.5);
      const where =
        below < 0
          ? 'never below 0.5'
          : `first below 0.5 with ${below + 1} of ${cascade.length} layers random (down to ${cascade[below]})`;
      console.log(
        `${r.method}: ${r.means[0].toFixed(2)} after ${cascade[0]}, ${r.means[stages[1][1]].toFixed(2)} after ` +
          `${stages[1][0]}, ${r.means[r.means.length - 1].toFixed(2)} with every layer random; ${where}`,
      );
    }
    const label = (l: string, i: number) =>
      i === 0 ? 'classifier' : i === cascade.length - 1 ? l : /^conv_dw_\d+$/.test(l) ? `block ${l.slice(8)}` : '';
    const figure = widgetShow.curves(
      { curves: rows.map((r) => ({ name: r.method, x: r.means.map((_, i) => i), y: r.means })) },
      {
        title: 'rank correlation with the trained maps as layers are randomized, top down',
        xLabels: cascade.map(label),
        xTitle: 'randomized down to (each block: its two convolutions and their batch norms)',
        yTitle: 'mean Spearman correlation',
        yRange: [-0.2, 1],
        width: 900,
        height: 420,
      },
    );
    return echoAsFigure({ cascade, rows, figure }, figure);
  } finally {
    dispose(s);
  }
}

/**
 * `await show.sanity('mobilenet', ['dog', 'eagle'])`: Adebayo et al.'s randomization check of saliency, guided
 * backprop, Grad-CAM and Integrated Gradients, every layer with weights re-initialised in turn from the top: the
 * cascade, a table by stage, each method's line (when it first falls below 0.5) and the curves; stored.
 */
export const showSanity = namedAsync('show.sanity', sanity);

export interface RandomizedMapsOptions extends PhotosOptions {
  size?: number;
}

async function randomizedMaps(net: Net, photo: string, o: RandomizedMapsOptions = {}): Promise<{ figure: Figure }> {
  const caller = 'show.randomizedMaps';
  const model = await netOf(net, caller);
  const s = await photoSet(model, [photo], o, caller);
  const one = s.batch;
  try {
    const [, h, w] = one.shape;
    const cascade = cascadeOf(model);
    const stages = stagesOf(cascade);
    const target = s.best[0];
    const p99 = (t: tf.Tensor) =>
      tf.tidy(() => {
        const a = t.abs().flatten();
        return tf.topk(a, Math.ceil(a.size / 100)).values.min();
      });
    // saliency's magnitude in gray; guided backprop's three channels around gray; both stretched to their p99
    const gray = (m: tf.Tensor) =>
      tf.tidy(() => tf.tile(m.abs().div(p99(m)).clipByValue(0, 1).reshape([h, w, 1]), [1, 1, 3]));
    const rgb = (m: tf.Tensor) => tf.tidy(() => m.div(p99(m).mul(2)).add(0.5).clipByValue(0, 1).reshape([h, w, 3]));
    const methods = [
      ['saliency', saliency, gray],
      ['guided backprop', guidedBackprop, rgb],
    ] as const;
    const key = { weights: model, image: one, layers: cascade, stages: stages.map(([, i]) => i), target, seed: 0 };
    const compute = async (onProgress?: (p: Progress) => void) => {
      const out: Record<string, Uint8Array> = {};
      for (const [name, method, picture] of methods) {
        const r = await randomizationCheck(model, (m, x) => method(m, x, { target }), one, { seed: 0, keepMaps: true });
        const maps = r.maps ?? [];
        const kept = [maps[0], ...stages.map(([, i]) => maps[i + 1])];
        // stored as bytes: stages x H x W x 3
        out[name] = Uint8Array.from(tf.tidy(() => tf.stack(kept.map(picture)).mul(255).round().dataSync()));
        tf.dispose(maps);
        onProgress?.({ done: Object.keys(out).length, total: methods.length });
      }
      return out;
    };
    const seen = await remember(`randomization-maps-${netName(net, model)}-${imageName(photo)}`, key, compute, {
      recompute: o.recompute,
      title: 'randomized maps (computing once; cached afterwards)',
    });
    const columns = [
      'trained',
      ...stages.map(([st], k) =>
        k === 0 ? 'classifier' : k === stages.length - 1 ? 'all random' : `to ${st.replace(/^to /, '')}`,
      ),
    ];
    const side = Math.round((o.size ?? 112) as number);
    const grid = tf.tidy(() =>
      tf.image.resizeBilinear(
        tf.concat(
          methods.map(([m]) =>
            tf.tensor4d(
              Float32Array.from(seen[m], (v) => v / 255),
              [columns.length, h, w, 3],
            ),
          ),
        ),
        [side, side],
      ),
    );
    try {
      const figure = widgetShow.images(grid, {
        cols: columns.length,
        captions: [...columns, ...columns],
        title:
          `saliency (top) and guided backprop (bottom) of ${className(model, target)}, ` +
          'randomized from the top down to:',
      });
      return echoAsFigure({ figure }, figure);
    } finally {
      grid.dispose();
    }
  } finally {
    dispose(s);
  }
}

/**
 * `await show.randomizedMaps('mobilenet', 'dog')`: saliency and guided backprop of the photo's best class along the
 * randomization cascade (trained, the classifier random, then down to block 13, 10, 7, 4, 1, every layer), each map
 * stretched to its own range; stored.
 */
export const showRandomizedMaps = namedAsync('show.randomizedMaps', randomizedMaps);
