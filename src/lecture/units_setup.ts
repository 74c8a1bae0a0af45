// Notebook 00's short forms, the health check: a data set's first test images (`show.dataset('mnist')`), a shipped
// model's predictions on them with its test accuracy (`show.predictions('fashion-cnn', 'fashion-mnist')`), and an
// ImageNet network's best class for a photo (`show.classify('mobilenet', 'dog')`).
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt, fail } from '../common';
import { load as loadDataset } from '../data/datasets';
import { card } from '../models/zoo';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { namedAsync } from './remember';
import { className, imageName, imageOf, netOf, Net, ImageRef } from './resolve';

const TITLES: Record<string, string> = {
  mnist: 'MNIST test digits',
  'fashion-mnist': 'Fashion-MNIST test images',
  'cifar-10': 'CIFAR-10 test images',
};
/** The data sets the lecture's short forms know by name. */
export const DATASETS = Object.keys(TITLES);
export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar-10';

export interface DatasetShowOptions {
  /** how many of the first test images (default 16) */
  limit?: number;
  title?: string;
}

async function firstImages(name: string, limit: number | undefined, caller: string) {
  const set = checkChoice(caller, 'data set', name, DATASETS);
  return loadDataset(set, { split: 'test', limit: checkInt(caller, 'limit', limit, { max: 100, dflt: 16 }) });
}

/** The first test images of a data set with their labels; prints the tensor's shape and the classes. */
async function dataset(name: string, o: DatasetShowOptions = {}): Promise<Figure> {
  const data = await firstImages(name, o.limit, 'show.dataset');
  try {
    console.log(`${name}: images [${data.images.shape.join(', ')}] in [0, 1]; classes: ${data.classNames.join(', ')}`);
    return widgetShow.images(data.images, {
      labels: data.labels,
      classNames: data.classNames,
      cols: 8,
      size: data.images.shape[1] < 32 ? undefined : 64,
      title: o.title ?? TITLES[name],
    });
  } finally {
    data.images.dispose();
  }
}

/** A shipped model's predictions on a data set's first test images (green right, red wrong) and its accuracy. */
export async function datasetPredictions(net: Net, name: string, o: DatasetShowOptions = {}): Promise<Figure> {
  const caller = 'show.predictions';
  const model = await netOf(net, caller);
  const data = await firstImages(name, o.limit, caller);
  try {
    const predicted = tf.tidy(() => (model.predict(data.images) as tf.Tensor2D).argMax(-1).dataSync());
    const c = card(model);
    const label = typeof net === 'string' ? net : model.name;
    if (c.testAccuracy !== undefined)
      console.log(`${label}: ${(100 * c.testAccuracy).toFixed(1)}% on the ${c.testCount} test images`);
    return widgetShow.images(data.images, {
      labels: data.labels,
      predictions: Int32Array.from(predicted),
      classNames: data.classNames,
      cols: 8,
      size: data.images.shape[1] < 32 ? undefined : 64,
      title: o.title ?? `${label}: predictions (green = right, red = wrong)`,
    });
  } finally {
    data.images.dispose();
  }
}

/** One network's best class for a photo, as it sees the photo (squeezed to its input size): its printed line. */
async function bestClass(net: Net, image: ImageRef, caller: string) {
  const model = await netOf(net, caller);
  const x = await imageOf(model, image, caller);
  const p = tf.tidy(() => (model.predict(x.expandDims(0)) as tf.Tensor2D).squeeze([0]).arraySync() as number[]);
  const best = p.indexOf(Math.max(...p));
  const [h, w] = x.shape;
  const name = typeof net === 'string' ? net : model.name;
  const params = model.countParams().toLocaleString('en');
  const answer = `${className(model, best)} (${p[best].toFixed(3)})`;
  console.log(`${name}: ${params} weights, input ${h}x${w}; on the ${imageName(image)} photo: ${answer}`);
  return { x, size: `${h}x${w}`, caption: `${name}: ${answer}` };
}

/**
 * ImageNet networks' best class for a photo, each as it sees the photo (squeezed to its input size); the photo is
 * drawn once per input size, captioned with each network's answer.
 */
async function classify(nets: Net | readonly Net[], image: ImageRef): Promise<Figure> {
  const caller = 'show.classify';
  const list: Net[] = Array.isArray(nets) ? [...nets] : [nets as Net];
  if (list.length === 0) fail(caller, 'give a network, or a list of networks');
  const seen: { x: tf.Tensor3D; size: string; captions: string[] }[] = [];
  try {
    for (const net of list) {
      const r = await bestClass(net, image, caller);
      const same = seen.find((v) => v.size === r.size);
      if (same) {
        same.captions.push(r.caption);
        r.x.dispose();
      } else seen.push({ x: r.x, size: r.size, captions: [r.caption] });
    }
    const photo = imageName(image);
    return widgetShow.images(
      seen.map((v) => v.x),
      {
        size: 224,
        captions: seen.map((v) => v.captions),
        title:
          `the ${photo} photo as the network${list.length > 1 ? 's' : ''} see${list.length > 1 ? '' : 's'} it, ` +
          `squeezed to ${seen.map((v) => v.size).join(', ')}`,
      },
    );
  } finally {
    tf.dispose(seen.map((v) => v.x));
  }
}

export const SETUP_SHOWS = {
  /** A data set's first test images with their labels (mnist, fashion-mnist, cifar-10). */
  dataset: namedAsync('show.dataset', dataset),
  /** Networks' best class for a photo (sample name, path, URL or tensor), with the photo as they see it. */
  classify: namedAsync('show.classify', classify),
};
