/**
 * The feature-space checks (assignment 04):
 *  - check.knn: k-nearest-neighbour classification, Euclidean distance, majority vote, a tie
 *    going to the smallest class index (what argMax of the vote counts gives);
 *  - check.features: the vectors of a model's 'features' layer (the penultimate layer).
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../common/random';
import { featureVectors } from '../techniques/features/features';
import { compareValues, explain, KnownMistake, takeValue, takeValues, Values } from './compare';
import { hiddenSets, NOTEBOOK_SEED } from './hidden';
import { CheckOptions, CheckResult, finish, leakNote, nameOf, failed, StudentCalls } from './report';

/** (database [N, D], labels, queries [Q, D], k) => predicted label per query. */
export type KnnFunction = (
  database: tf.Tensor2D,
  labels: Int32Array,
  queries: tf.Tensor2D,
  k: number,
) => tf.Tensor | number[] | Int32Array | Promise<tf.Tensor | number[] | Int32Array>;
/** (model, images [N, H, W, C]) => [N, D], the output of the layer named 'features'. */
export type FeaturesFunction = (model: tf.LayersModel, images: tf.Tensor4D) => tf.Tensor | Promise<tf.Tensor>;

export const KNN_REFUSES = ['nearestNeighbors'] as const;
export const FEATURES_REFUSES = ['featureVectors'] as const;

interface KnnCase {
  db: Float32Array;
  labels: Int32Array;
  q: Float32Array;
  n: number;
  nq: number;
  d: number;
  classes: number;
}

function knnCases(seed: number): KnnCase[] {
  const rand = mulberry32(seed * 31 + 5);
  const make = (n: number, nq: number, d: number, classes: number): KnnCase => {
    // Clustered points, so the vote means something and several classes compete near each query.
    const centers = Float32Array.from({ length: classes * d }, () => rand() * 4);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * classes));
    const db = Float32Array.from(
      { length: n * d },
      (_, i) => centers[labels[Math.floor(i / d)] * d + (i % d)] + (rand() - 0.5) * 3,
    );
    const q = Float32Array.from({ length: nq * d }, () => rand() * 4);
    return { db, labels, q, n, nq, d, classes };
  };
  return [make(37, 15, 5, 4), make(60, 21, 11, 6)];
}

/** Reference: sorted Euclidean neighbours (index breaks distance ties), majority vote, smallest label on a tie. */
function knnReference(
  c: KnnCase,
  k: number,
  variant: 'right' | 'farthest' | 'tieHigh' | 'kPlus1' | 'indices' = 'right',
): Float32Array {
  const out = new Float32Array(c.nq);
  for (let i = 0; i < c.nq; i++) {
    const dist = Array.from({ length: c.n }, (_, j) => {
      let s = 0;
      for (let t = 0; t < c.d; t++) s += (c.q[i * c.d + t] - c.db[j * c.d + t]) ** 2;
      return { j, s };
    }).sort((a, b) => (variant === 'farthest' ? b.s - a.s : a.s - b.s) || a.j - b.j);
    const kk = variant === 'kPlus1' ? k + 1 : k;
    if (variant === 'indices') {
      out[i] = dist[0].j;
      continue;
    }
    const votes = new Array(c.classes).fill(0);
    for (const { j } of dist.slice(0, kk)) votes[c.labels[j]]++;
    let best = variant === 'tieHigh' ? c.classes - 1 : 0;
    for (let cl = 0; cl < c.classes; cl++) {
      if (variant === 'tieHigh' ? votes[cl] >= votes[best] : votes[cl] > votes[best]) best = cl;
    }
    out[i] = best;
  }
  return out;
}

/** Compares `fn(database, labels, queries, k)` with the exact k-NN vote on hidden point clouds, k = 1, 3, 4, 6. */
export async function knn(fn: KnnFunction, opts: CheckOptions = {}): Promise<CheckResult> {
  const name = 'knn';
  const fnName = nameOf(fn);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: KNN_REFUSES });
  for (const c of knnCases(opts.seed ?? NOTEBOOK_SEED)) {
    for (const k of [1, 3, 4, 6]) {
      const db = tf.tensor2d(c.db, [c.n, c.d]);
      const q = tf.tensor2d(c.q, [c.nq, c.d]);
      const run = await student.call([db, Int32Array.from(c.labels), q, k], [db, q]);
      if (run.error) return failed(name, run.error, 0, opts);
      const what =
        `the labels ${fnName} predicted for ${c.nq} hidden queries among ${c.n} points of ${c.d} dimensions, ` +
        `k = ${k}`;
      const got = takeValue(run.value, what);
      if (typeof got === 'string') return failed(name, got, 0, opts);
      const ref: Values = { shape: [c.nq], data: knnReference(c, k) };
      if (got.shape.join() === ref.shape.join() && got.data.every((v, i) => v === ref.data[i])) continue;
      const mistakes: KnownMistake[] = [
        {
          values: knnReference(c, k, 'farthest'),
          hint:
            'you voted among the farthest points; sort the distances in increasing order (or take topk of the ' +
            'negated distances)',
        },
        { values: knnReference(c, k, 'kPlus1'), hint: 'you let k + 1 neighbours vote; exactly k vote' },
        {
          values: knnReference(c, k, 'tieHigh'),
          hint:
            'a tie between classes goes to the smallest class index (what argMax of the vote counts gives), not the ' +
            'largest',
        },
        {
          values: knnReference(c, k, 'indices'),
          hint:
            'these are indices of database points; return the predicted label of each query (labels[index], then ' +
            'the vote)',
        },
        ...(k > 1
          ? [
              {
                values: knnReference(c, 1),
                hint: `this is the label of the single nearest point; let the k = ${k} nearest vote`,
              },
            ]
          : []),
      ];
      const wrong =
        got.shape.join() === ref.shape.join() ? got.data.reduce((n, v, i) => n + (v === ref.data[i] ? 0 : 1), 0) : -1;
      const cmp = compareValues(got, ref, { what, mistakes, exactOnly: true, tolerance: 1e-6 });
      const message =
        wrong > 0 && cmp.message.includes('differs from the reference')
          ? explain(
              `${what}: ${wrong} of ${c.nq} are wrong.`,
              `[${Array.from(ref.data).join(', ')}]`,
              `[${Array.from(got.data).join(', ')}]`,
              'Euclidean distance from each query to every database point, the k smallest, then a majority vote of ' +
                'their labels (a tie goes to the smallest label)',
            )
          : cmp.message;
      return failed(name, message, student.count, opts, leakNote(student.leaked, student.count, fnName));
    }
  }
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} predicts the same labels as the exact k-NN vote on ${student.count} hidden cases ` +
        `(2 point clouds, k = 1, 3, 4, 6)`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}

/**
 * Compares `fn(model, images)` with the 'features' layer's output on hidden images of mnist-cnn and of the 3-channel
 * model.
 */
export async function features(
  fn: FeaturesFunction,
  opts: CheckOptions & { model?: tf.LayersModel } = {},
): Promise<CheckResult> {
  const name = 'features';
  const fnName = nameOf(fn);
  const sets = await hiddenSets(opts, 4, 3);
  const student = new StudentCalls(fn, fnName, { check: name, refuse: FEATURES_REFUSES });
  for (const h of sets) {
    const batch = tf.stack(h.cases.map((c) => c.image)) as tf.Tensor4D;
    const input = batch.clone();
    const run = await student.call([h.model, input], [input]);
    const what = `the vectors ${fnName} returned for ${h.cases.length} hidden images of ${h.modelName}`;
    if (run.error) {
      batch.dispose();
      return failed(name, run.error, 0, opts);
    }
    const got = takeValue(run.value, what);
    if (typeof got === 'string') {
      batch.dispose();
      return failed(name, got, 0, opts);
    }
    const ref = await takeValues(featureVectors(h.model, batch, { layer: 'features' }));
    const mistakes: KnownMistake[] = [];
    for (const [layer, hint] of [
      [
        'logits',
        "these are the class scores (layer 'logits'); the feature vector is the layer before them, named 'features'",
      ],
      [
        'flatten',
        "this is the flattened output of the last conv block (layer 'flatten'); take the layer named 'features'",
      ],
    ] as const) {
      const v = await takeValues(featureVectors(h.model, batch, { layer }));
      if (v.data.length === got.data.length) mistakes.push({ values: v.data, hint });
    }
    batch.dispose();
    const cmp = compareValues(got, ref, {
      what,
      mistakes,
      shapeHint: (g, e) =>
        g.length === 2 && g[0] === e[0] && g[1] !== e[1]
          ? `${g[1]} values per image; the 'features' layer has ${e[1]}: build the model up to ` +
            `model.getLayer('features').output`
          : undefined,
    });
    if (!cmp.ok) return failed(name, cmp.message, student.count, opts, leakNote(student.leaked, student.count, fnName));
  }
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} gives the 'features' layer's vectors ` +
        `on ${sets.map((h) => `${h.cases.length} images of ${h.modelName}`).join(' and ')}`,
      cases: student.count,
      notes: leakNote(student.leaked, student.count, fnName),
    },
    opts,
  );
}
