/**
 * The hidden inputs of the checks: a model and a few images with targets the student does not
 * choose (fixed by a seed, so every run checks the same cases). The default model is the shipped
 * mnist-cnn; where it has no weights yet, a seeded untrained copy of the same architecture
 * serves, since the checks compare computations, not accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../data/datasets';
import { mulberry32 } from '../data/random';
import { lectureCnn } from '../models/architectures';
import { load as loadModel } from '../models/zoo';
import { ensureBackend } from '../runtime/backend';

export interface HiddenCase {
  /** [H, W, C] */
  image: tf.Tensor3D;
  target: number;
  /** What the case is, for messages ("hidden image 2, target 7"). */
  name: string;
}

export interface Hidden {
  model: tf.LayersModel;
  modelName: string;
  cases: HiddenCase[];
}

const SEED = 442;
let shared: Promise<Hidden> | undefined;

async function defaultModel(): Promise<{ model: tf.LayersModel; name: string }> {
  try {
    return { model: await loadModel('mnist-cnn'), name: 'mnist-cnn' };
  } catch {
    return { model: lectureCnn({ seed: 15 }), name: 'an untrained mnist-cnn (the shipped weights are missing)' };
  }
}

async function casesFor(model: tf.LayersModel, count: number): Promise<HiddenCase[]> {
  const shape = model.inputs[0].shape;
  const [h, w, c] = [shape[1] ?? 28, shape[2] ?? 28, shape[3] ?? 1] as number[];
  const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const rand = mulberry32(SEED);
  const cases: HiddenCase[] = [];
  if (h === 28 && w === 28 && c === 1) {
    const ds = await loadDataset('mnist', { split: 'test', limit: 500 });
    try {
      for (let k = 0; k < count; k++) {
        const i = Math.floor(rand() * 500);
        const label = ds.labels[i];
        // Half the cases explain the true class, half another one (so "the predicted class" is not enough).
        const target = k % 2 === 0 ? label % classes : (label + 1 + Math.floor(rand() * (classes - 1))) % classes;
        cases.push({ image: tf.tidy(() => tf.squeeze(tf.slice(ds.images, [i, 0, 0, 0], [1, h, w, c]), [0]) as tf.Tensor3D), target, name: `hidden image ${k + 1} (target ${target})` });
      }
    } finally {
      ds.images.dispose();
    }
  } else {
    for (let k = 0; k < count; k++) {
      const values = Float32Array.from({ length: h * w * c }, () => rand());
      const target = Math.floor(rand() * classes);
      cases.push({ image: tf.tensor3d(values, [h, w, c]), target, name: `hidden image ${k + 1} (target ${target})` });
    }
  }
  return cases;
}

/** The default hidden inputs (loaded once per kernel), or cases for the model the caller gives. */
export async function hidden(model?: tf.LayersModel, count = 4): Promise<Hidden> {
  await ensureBackend();
  if (model) return { model, modelName: model.name, cases: await casesFor(model, count) };
  shared ??= (async () => {
    const { model: m, name } = await defaultModel();
    return { model: m, modelName: name, cases: await casesFor(m, 4) };
  })();
  let h: Hidden;
  try {
    h = await shared;
  } catch (err) {
    // Not remembered: the next check tries again (e.g. after the backend is fixed).
    shared = undefined;
    throw err;
  }
  return { ...h, cases: h.cases.slice(0, count) };
}
