import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { ensureBackend } from '../runtime/backend';
import { IMAGENET_MODELS, loadImagenet } from './imagenet';
import { fileIO } from './io';
import type { ModelCard } from './model_card';
import { fail } from '../common';

export type { ModelCard } from './model_card';

/** Models shipped in the package's models/ folder. */
export const SHIPPED_MODELS = ['mnist-cnn', 'fashion-cnn', 'cifar-cnn'] as const;

/** Every model `load` takes by name: the shipped ones, then the ImageNet ones from the data folder. */
export function modelNames(): string[] {
  return [...SHIPPED_MODELS, ...Object.keys(IMAGENET_MODELS)];
}

/** The package's models/ folder (works from src/ and from the compiled build/src/). */
export function modelsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'models');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  fail('cnnviz', 'cannot find the package models/ folder');
}

export function shippedPath(name: string): string {
  return path.join(modelsDir(), name, 'model.json');
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.endsWith('.json') || s.startsWith('.');
}

/** Load a shipped model by name, or any TensorFlow.js layers model by path or URL. */
export async function load(nameOrPath: string): Promise<tf.LayersModel> {
  if (typeof nameOrPath !== 'string' || nameOrPath.length === 0) {
    fail(
      'models.load',
      `expected a model name (${modelNames().join(', ')}), a path or a URL, got ${JSON.stringify(nameOrPath)}`,
    );
  }
  await ensureBackend();
  if (Object.prototype.hasOwnProperty.call(IMAGENET_MODELS, nameOrPath)) return loadImagenet(nameOrPath);
  if (/^https?:\/\//i.test(nameOrPath)) {
    try {
      return await tf.loadLayersModel(nameOrPath);
    } catch (err) {
      fail('models.load', `could not load ${nameOrPath} (${(err as Error).message})`);
    }
  }
  let location = nameOrPath;
  if ((SHIPPED_MODELS as readonly string[]).includes(nameOrPath)) {
    location = shippedPath(nameOrPath);
    if (!fs.existsSync(location)) {
      fail(
        'models.load',
        `shipped model '${nameOrPath}' has no weights at ${location}; run 'npm run train' to make them`,
      );
    }
  } else if (!looksLikePath(nameOrPath) && !fs.existsSync(nameOrPath)) {
    fail(
      'models.load',
      `unknown model '${nameOrPath}'; by name: ${modelNames().join(', ')}, or give a path or URL to a model.json`,
    );
  }
  const model = await tf.loadLayersModel(fileIO(location));
  return model;
}

/** Save a model as model.json + weights.bin in `dir` (created if missing). */
export async function save(model: tf.LayersModel, dir: string, card?: ModelCard): Promise<void> {
  if (card) model.setUserDefinedMetadata({ ...(model.getUserDefinedMetadata() ?? {}), ...card });
  await model.save(fileIO(dir));
}

/** The card stored with a model (class names, dataset, accuracy), if any. */
export function card(model: tf.LayersModel): ModelCard {
  return (model.getUserDefinedMetadata() as ModelCard | undefined) ?? {};
}

/** Class names stored with the model, else '0'..'n-1'. */
export function classNames(model: tf.LayersModel): string[] {
  const names = card(model).classNames;
  const n = (model.outputs[0].shape[model.outputs[0].shape.length - 1] as number) ?? 0;
  if (Array.isArray(names) && names.length === n) return names;
  return Array.from({ length: n }, (_, i) => String(i));
}
