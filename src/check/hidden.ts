/**
 * The hidden inputs of the checks: models and images with targets the student does not choose.
 * Two sets per check:
 *  - the shipped mnist-cnn on test digits (what the student sees in the notebook); where it has no
 *    weights yet, a seeded untrained copy of the same architecture serves, since the checks compare
 *    computations, not accuracy;
 *  - a small seeded ReLU network with 3 input channels and an odd, non-square input size, on random
 *    images, so a channel reduction, a hard-coded 28 or a swapped axis shows.
 * Everything follows from a seed: the notebook's checks use a fixed one, the grader its own.
 */
import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../data/datasets';
import { mulberry32 } from '../common/random';
import { lectureCnn } from '../models/architectures';
import { load as loadModel } from '../models/zoo';
import { ensureBackend } from '../runtime/backend';

export interface HiddenCase {
  /** [H, W, C] */
  image: tf.Tensor3D;
  target: number;
  /** What the case is, for messages ("hidden image 2 of mnist-cnn (target 7)"). */
  name: string;
}

export interface Hidden {
  model: tf.LayersModel;
  modelName: string;
  cases: HiddenCase[];
}

/** The seed of the checks run in the notebooks. */
export const NOTEBOOK_SEED = 442;

async function defaultModel(): Promise<{ model: tf.LayersModel; name: string }> {
  try {
    return { model: await loadModel('mnist-cnn'), name: 'mnist-cnn' };
  } catch {
    return { model: lectureCnn({ seed: 15 }), name: 'an untrained mnist-cnn (the shipped weights are missing)' };
  }
}

/**
 * A seeded ReLU network with 3 input channels and an odd input size: conv 3x3 -> pool -> conv 3x3
 * (stride 2) -> flatten -> features -> logits -> probs, the layer names of the shipped models.
 */
export function oddModel(seed: number): tf.Sequential {
  const rand = mulberry32(seed * 7919 + 1);
  const pick = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const h = pick(17, 25);
  let w = pick(13, 23);
  if (w === h) w += 2;
  const classes = pick(5, 9);
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 100 + k });
  const model = tf.sequential({ name: `hidden_rgb_${h}x${w}` });
  model.add(
    tf.layers.conv2d({
      name: 'conv1',
      inputShape: [h, w, 3],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(
    tf.layers.conv2d({
      name: 'conv2',
      filters: 12,
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: init(2),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({
      name: 'features',
      units: 24,
      activation: 'relu',
      kernelInitializer: init(3),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'logits',
      units: classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 4 }),
    }),
  );
  model.add(tf.layers.activation({ name: 'probs', activation: 'softmax' }));
  return model;
}

function describe(model: tf.LayersModel): string {
  const s = model.inputs[0].shape;
  return `a hidden ${s[3]}-channel model with input [${s[1]}, ${s[2]}, ${s[3]}]`;
}

async function casesFor(model: tf.LayersModel, modelName: string, count: number, seed: number): Promise<HiddenCase[]> {
  const shape = model.inputs[0].shape;
  const [h, w, c] = [shape[1] ?? 28, shape[2] ?? 28, shape[3] ?? 1] as number[];
  const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const rand = mulberry32(seed);
  const cases: HiddenCase[] = [];
  if (h === 28 && w === 28 && c === 1) {
    const ds = await loadDataset('mnist', { split: 'test', limit: 500 });
    try {
      for (let k = 0; k < count; k++) {
        const i = Math.floor(rand() * 500);
        const label = ds.labels[i];
        // Half the cases explain the true class, half another one (so "the predicted class" is not enough).
        const target = k % 2 === 0 ? label % classes : (label + 1 + Math.floor(rand() * (classes - 1))) % classes;
        cases.push({
          image: tf.tidy(() => tf.squeeze(tf.slice(ds.images, [i, 0, 0, 0], [1, h, w, c]), [0]) as tf.Tensor3D),
          target,
          name: `hidden image ${k + 1} of ${modelName} (target ${target})`,
        });
      }
    } finally {
      ds.images.dispose();
    }
  } else {
    for (let k = 0; k < count; k++) {
      const values = Float32Array.from({ length: h * w * c }, () => rand());
      const target = Math.floor(rand() * classes);
      cases.push({
        image: tf.tensor3d(values, [h, w, c]),
        target,
        name: `hidden image ${k + 1} of ${modelName} (target ${target})`,
      });
    }
  }
  return cases;
}

const mnistSets = new Map<number, Promise<Hidden>>();
const oddSets = new Map<number, Hidden>();

async function remembered(seed: number): Promise<Hidden> {
  let p = mnistSets.get(seed);
  if (!p) {
    p = (async () => {
      const { model, name } = await defaultModel();
      return { model, modelName: name, cases: await casesFor(model, name, 4, seed) };
    })();
    mnistSets.set(seed, p);
  }
  try {
    return await p;
  } catch (err) {
    // Not remembered: the next check tries again (e.g. after the backend is fixed).
    mnistSets.delete(seed);
    throw err;
  }
}

/** The default hidden inputs (loaded once per kernel), or cases for the model the caller gives. */
export async function hidden(model?: tf.LayersModel, count = 4, seed = NOTEBOOK_SEED): Promise<Hidden> {
  await ensureBackend();
  if (model) return { model, modelName: model.name, cases: await casesFor(model, model.name, count, seed) };
  const h = await remembered(seed);
  return { ...h, cases: h.cases.slice(0, count) };
}

/** The 3-channel hidden model of this seed and `count` of its cases. */
export async function hiddenRgb(count = 3, seed = NOTEBOOK_SEED): Promise<Hidden> {
  await ensureBackend();
  let h = oddSets.get(seed);
  if (!h) {
    const model = oddModel(seed);
    const name = describe(model);
    h = { model, modelName: name, cases: await casesFor(model, name, 3, seed + 1) };
    oddSets.set(seed, h);
  }
  return { ...h, cases: h.cases.slice(0, count) };
}

/**
 * The sets a check runs on: the caller's model only when given (tests, a teacher's own model),
 * else mnist-cnn's digits and then the 3-channel hidden model.
 */
export async function hiddenSets(
  opts: { model?: tf.LayersModel; seed?: number },
  count: number,
  rgbCount = Math.min(count, 3),
): Promise<Hidden[]> {
  const seed = opts.seed ?? NOTEBOOK_SEED;
  if (opts.model) return [await hidden(opts.model, count, seed)];
  return [await hidden(undefined, count, seed), await hiddenRgb(rgbCount, seed)];
}
