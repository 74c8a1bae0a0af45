/**
 * A data set in feature space for the short forms of notebooks 02-04: its images (at the size they are drawn),
 * its labels and (for 'imagenet-sample') WordNet groups, each image's feature vector from the network and its
 * pixel vector. ImageNet photos take MobileNet's stored features (`sampleActivations`, shipped in
 * notebooks/results); other data sets' features are computed once and cached by weights, data and layer.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { load as loadDataset, DATASET_NAMES } from '../data/datasets';
import { imagenetClasses, IMAGENET_GROUPS } from '../data/imagenet/classes';
import type { Dataset } from '../data/types';
import { getLayer } from '../models/layers';
import { featureVectors, pixelVectors } from '../techniques/features/features';
import { sampleActivations, sampleFeatureLayer } from '../techniques/features/sample_activations';
import type { Progress } from '../runtime/cancel';
import { ProgressDisplay } from '../widgets/progress';
import { remember } from './remember';

/** A data set: a name `datasets.load` knows ('cifar-10', 'imagenet-sample', a folder) or a loaded Dataset. */
export type DataRef = string | Dataset;

export interface SpaceDataOptions {
  /** the layer whose output is an image's feature vector (default: the model's feature layer) */
  layer?: string;
  /** for a data set by name: its split (default 'test') */
  split?: 'train' | 'test' | 'all';
  /** for a data set by name: its first `limit` images only (default all; 'imagenet-sample' has 1,000) */
  limit?: number;
  /** compute the features again even when stored (default false) */
  recompute?: boolean;
  /** 'imagenet-sample': the side the photos are drawn at (default 112) */
  imageSize?: number;
}

export interface SpaceData {
  /** 'ImageNet photos', 'CIFAR-10 test images' */
  title: string;
  /** the data set's name as given ('cifar-10') */
  name: string;
  /** the images as drawn (ImageNet photos at 112 x 112); the caller disposes (`dispose`) */
  images: tf.Tensor4D;
  labels: Int32Array;
  classNames: string[];
  /** WordNet group of each image and the groups' names, for 'imagenet-sample' (every class there once) */
  groups?: Int32Array;
  groupNames?: string[];
  /** [N, D] feature vectors of `layer`, computed (or read from the cache) on the first call; disposed by `dispose` */
  features: () => Promise<tf.Tensor2D>;
  layer: string;
  /** the length of a feature vector (the layer's output size) */
  dim: number;
  /** [N, P] pixel vectors (ImageNet photos at 56 x 56), made on the first call; disposed by `dispose` */
  pixels: () => tf.Tensor2D;
  /**
   * what the cache keys of results on these features start with: weights, data, layer (and, for a data set cut
   * by `limit` or given as tensors, the count and the images)
   */
  key: { weights: tf.LayersModel; data: string; layer: string; n?: number; images?: tf.Tensor4D };
  /** the start of cache names of results on this data set: 'cifar', 'imagenet' */
  prefix: string;
  /** the side pixel vectors are taken at, [H, W] */
  pixelSize: [number, number];
  /** 'imagenet-sample': the model's best class for each photo (its top-5 are stored with the features) */
  top1?: Int32Array;
  dispose(): void;
}

const IMAGENET = 'imagenet-sample';
/** The network each data set's results are named without: its own ('cifar-tsne', but 'cifar-mobilenet-tsne'). */
const OWN: Record<string, string> = {
  cifar: 'cifar-cnn',
  mnist: 'mnist-cnn',
  fashion: 'fashion-cnn',
  imagenet: 'mobilenet',
};

/** The network's part of a result's cache name: '' for the data set's own network, '-mobilenet' otherwise. */
export function netPart(name: string, prefix: string): string {
  return name === OWN[prefix] ? '' : `-${name}`;
}

/** ImageNet photos are drawn at 112 and compared by pixels at 56 (finer pixels find the same neighbours). */
const PHOTO_SIZE = 112;
const PHOTO_PIXELS = 56;

const TITLES: Record<string, string> = {
  'cifar-10': 'CIFAR-10',
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
};

/** The data set, its features in `model` and its pixels. */
export async function spaceData(
  model: tf.LayersModel,
  data: DataRef,
  caller: string,
  o: SpaceDataOptions = {},
  name = model.name,
): Promise<SpaceData> {
  if (typeof data === 'string' && data.toLowerCase() === IMAGENET) return imagenetSpace(model, caller, o);
  const ds = await datasetOf(data, caller, o);
  const dataName = typeof data === 'string' ? data.toLowerCase() : ds.name;
  // MobileNet's feature layer is its global average pool (notebooks 02-04), the layer feeding its classifier
  const layer = o.layer ?? sampleFeatureLayer(model);
  const dim = (getLayer(model, layer, caller).outputShape as number[]).slice(1).reduce((a, b) => a * b, 1);
  const n = ds.images.shape[0];
  const key = {
    weights: model,
    data: `${dataName}/${ds.split}`,
    layer: layer,
    ...(n !== fullCount(ds, o) || typeof data !== 'string' ? { n: n, images: ds.images } : {}),
  };
  const prefix = dataName.replace(/-10$/, '');
  const lazy = lazyParts(
    async () => {
      const stored = await remember(
        `${prefix}${netPart(name, prefix)}-features`,
        key,
        async (onProgress) => {
          const f = await featureVectors(model, ds.images, { layer: layer, onProgress: onProgress });
          const values = (await f.data()) as Float32Array;
          f.dispose();
          return values;
        },
        { recompute: o.recompute, title: `${model.name} features of ${n} images (computing once; cached afterwards)` },
      );
      return tf.tensor2d(stored, [n, stored.length / n]);
    },
    () => pixelVectors(ds.images),
  );
  const split = ds.split === 'all' ? '' : ` ${ds.split}`;
  return {
    title: `${TITLES[dataName] ?? dataName}${split} images`,
    name: TITLES[dataName] ?? dataName,
    images: ds.images,
    labels: ds.labels,
    classNames: ds.classNames,
    features: lazy.features,
    layer,
    dim,
    pixels: lazy.pixels,
    pixelSize: [ds.images.shape[1], ds.images.shape[2]],
    key,
    prefix,
    dispose: () => {
      if (typeof data === 'string') ds.images.dispose();
      lazy.dispose();
    },
  };
}

/** Features and pixels made once, on first use, and disposed together. */
function lazyParts(features: () => Promise<tf.Tensor2D>, pixels: () => tf.Tensor2D) {
  let f: Promise<tf.Tensor2D> | undefined;
  let made: tf.Tensor2D | undefined;
  let p: tf.Tensor2D | undefined;
  return {
    features: () => (f ??= features().then((t) => (made = t))),
    pixels: () => (p ??= pixels()),
    dispose: () => {
      p?.dispose();
      made?.dispose();
    },
  };
}

/** The count a named data set has without `limit`: when they differ the images join the cache key. */
function fullCount(ds: Dataset, o: SpaceDataOptions): number {
  return o.limit === undefined ? ds.images.shape[0] : -1;
}

async function datasetOf(data: DataRef, caller: string, o: SpaceDataOptions): Promise<Dataset> {
  if (typeof data === 'string') {
    try {
      return await loadDataset(data, { split: o.split ?? 'test', limit: o.limit });
    } catch (err) {
      const msg = err instanceof Error ? err.message.replace(/^datasets\.load: /, '') : String(err);
      fail(caller, msg);
    }
  }
  if (!data || typeof data !== 'object' || !(data.images instanceof tf.Tensor) || !data.labels) {
    fail(caller, `expected a data set: ${DATASET_NAMES.join(', ')}, a folder, or what datasets.load returns`);
  }
  return data;
}

/** The 1,000 ImageNet photos: MobileNet's stored features (notebook 02's), pixels at 56 x 56, WordNet groups. */
async function imagenetSpace(model: tf.LayersModel, caller: string, o: SpaceDataOptions): Promise<SpaceData> {
  const layer = o.layer ?? sampleFeatureLayer(model);
  getLayer(model, layer, caller);
  // sampleActivations keeps its own cache entries (shipped); the bar appears only while it computes.
  let bar: ProgressDisplay | undefined;
  const onProgress = (p: Progress) => {
    bar ??= new ProgressDisplay({
      title: `${model.name} on the 1,000 photos (computing once; cached afterwards)`,
      total: p.total,
    });
    bar.update(p.done, { photos: p.done });
  };
  const a = await sampleActivations(model, { featureLayer: layer, recompute: o.recompute, onProgress: onProgress });
  bar?.done();
  const photos = await loadDataset(IMAGENET, { size: o.imageSize ?? PHOTO_SIZE });
  const classes = imagenetClasses();
  const groupNames = [...IMAGENET_GROUPS];
  const groups = Int32Array.from(photos.labels, (l) => groupNames.indexOf(classes[l].group));
  const lazy = lazyParts(
    async () => tf.tensor2d(a.features, [a.n, a.dim]),
    () => tf.tidy(() => pixelVectors(tf.image.resizeBilinear(photos.images, [PHOTO_PIXELS, PHOTO_PIXELS]))),
  );
  return {
    title: 'ImageNet photos',
    name: 'ImageNet',
    images: photos.images,
    labels: photos.labels,
    classNames: photos.classNames,
    groups,
    groupNames,
    features: lazy.features,
    layer,
    dim: a.dim,
    pixels: lazy.pixels,
    pixelSize: [PHOTO_PIXELS, PHOTO_PIXELS],
    key: { weights: model, data: IMAGENET, layer: layer },
    prefix: 'imagenet',
    top1: Int32Array.from({ length: a.n }, (_, i) => a.top5[5 * i]),
    dispose: () => {
      photos.images.dispose();
      lazy.dispose();
    },
  };
}
