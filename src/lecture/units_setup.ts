// Notebook 00's short forms, the health check: a data set's first test images (`show.dataset('mnist')`), a shipped
// model's predictions on them with its test accuracy (`show.predictions('fashion-cnn', 'fashion-mnist')`), and an
// ImageNet network's best class for a photo (`show.classify('mobilenet', 'dog')`).
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt } from '../common';
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
const DATASETS = Object.keys(TITLES);

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
async function predictions(net: Net, name: string, o: DatasetShowOptions = {}): Promise<Figure> {
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

/** An ImageNet network's best class for a photo, as it sees the photo (squeezed to its input size). */
async function classify(net: Net, image: ImageRef): Promise<Figure> {
  const caller = 'show.classify';
  const model = await netOf(net, caller);
  const x = await imageOf(model, image, caller);
  try {
    const p = tf.tidy(() => (model.predict(x.expandDims(0)) as tf.Tensor2D).squeeze([0]).arraySync() as number[]);
    const best = p.indexOf(Math.max(...p));
    const [h, w] = x.shape;
    const name = typeof net === 'string' ? net : model.name;
    const photo = imageName(image);
    const params = model.countParams().toLocaleString('en');
    const on = `${className(model, best)} (${p[best].toFixed(3)})`;
    console.log(`${name}: ${params} weights, input ${h}x${w}; on the ${photo} photo: ${on}`);
    return widgetShow.images([x], { size: 224, title: `${name} sees ${photo} squeezed to ${h}x${w}: ${on}` });
  } finally {
    x.dispose();
  }
}

export const SETUP_SHOWS = {
  /** A data set's first test images with their labels (mnist, fashion-mnist, cifar-10). */
  dataset: namedAsync('show.dataset', dataset),
  /** A model's predictions on a data set's first test images, and its accuracy on the whole test set. */
  predictions: namedAsync('show.predictions', predictions),
  /** A network's best class for a photo (sample name, path, URL or tensor), with the photo as it sees it. */
  classify: namedAsync('show.classify', classify),
};
