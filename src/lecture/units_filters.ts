// Notebook 01's short forms: the first-layer filters of a model by name (`show.filters('mobilenet')`, one function
// with the widget's `show.filters(tensor, options)`), and a layer's response maps to one image
// (`show.featureMaps('mnist-cnn', 'mnist', 'conv1')`).
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { checkInt, fail } from '../common';
import { load as loadDataset } from '../data/datasets';
import { SAMPLE_FILES } from '../data/images';
import { modelNames } from '../models/zoo';
import { featureVectors } from '../techniques/features/features';
import { firstLayerFilters } from '../techniques/features/filters';
import type { Figure } from '../widgets/figure';
import type { FilterBank, FiltersOptions } from '../widgets/filters';
import { show as widgetShow } from '../widgets/show';
import { namedAsync } from './remember';
import { imageOf, netOf, Net, ImageRef } from './resolve';
import { closestNames, mapShapeOf } from './units_check';

// The widget's show.filters, taken before src/index.ts joins the short form onto `show` under the same name.
const widgetFilters = widgetShow.filters;

/** A first layer that is not a loadable model: the 7x7 filters of dlib's face ResNet (npm @vladmandic/face-api). */
export const FACE_RESNET = 'face-resnet';

export interface FiltersShortOptions extends FiltersOptions {
  /**
   * the weights training started from (a model of the same first layer, e.g. `models.lectureCnn({ seed: 1 })`):
   * draws the change alone and prints its size
   */
  start?: Net;
}

/** The face ResNet's first layer [32, 7, 7, 3] and its tensor's name, from its 8-bit weights file. */
function faceResNetFilters(caller: string): { filters: tf.Tensor4D; name: string } {
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  } catch {
    return fail(caller, `'${FACE_RESNET}' needs the npm package @vladmandic/face-api (a development dependency)`);
  }
  const manifestFile = path.join(dir, 'face_recognition_model-weights_manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'))[0] as {
    paths: string[];
    weights: { name: string; shape: number[]; quantization: { scale: number; min: number } }[];
  };
  // The first tensor of the file is the first layer (conv32_down/conv/filters, [7, 7, 3, 32]), stored as bytes
  // with a scale and an offset.
  const spec = manifest.weights[0];
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(path.join(dir, manifest.paths[0])).subarray(0, count);
  const q = spec.quantization;
  const filters = tf.tidy(() =>
    tf
      .tensor4d(
        Float32Array.from(bytes, (b) => b * q.scale + q.min),
        spec.shape as [number, number, number, number],
      )
      .transpose([3, 0, 1, 2]),
  ) as tf.Tensor4D;
  return { filters, name: spec.name };
}

/** The first conv layer's name (for the gray models' titles). */
function firstConvName(model: tf.LayersModel): string {
  const conv = model.layers.find((l) => ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(l.getClassName()));
  return conv?.name ?? 'first layer';
}

const pct = (x: number) => (100 * x).toFixed(0);

async function filtersOf(net: Net, o: FiltersShortOptions): Promise<Figure> {
  const caller = 'show.filters';
  const { start, ...drawOptions } = o;
  let weights: tf.Tensor4D;
  let name: string;
  let layer = 'first layer';
  let label: string;
  if (net === FACE_RESNET) {
    const face = faceResNetFilters(caller);
    weights = face.filters;
    name = 'face ResNet';
    label = `face ResNet (${face.name})`;
  } else {
    if (typeof net === 'string' && !modelNames().includes(net) && !/[\\/]/.test(net) && !/\.json$/i.test(net)) {
      const choices = [...modelNames(), FACE_RESNET].join(', ');
      fail(caller, `unknown model '${net}'; valid choices: ${choices}, or a path or URL to a model.json`);
    }
    const model = await netOf(net, caller);
    weights = await firstLayerFilters(model);
    name = typeof net === 'string' ? net : model.name;
    label = name;
    layer = firstConvName(model);
  }
  const [n, kh, kw, c] = weights.shape;
  const gray = c === 1;
  let title = gray
    ? `${name} ${layer}: ${n} filters of ${kh}x${kw}`
    : `${name}: first layer, ${n} filters of ${kh}x${kw}x${c}`;
  try {
    if (start === undefined)
      console.log(`${label}: first-layer filters ${weights.shape.join(' x ')} (count, height, width, channels)`);
    if (start !== undefined) {
      const from = await firstLayerFilters(await netOf(start, caller));
      if (from.shape.join() !== weights.shape.join()) {
        from.dispose();
        fail(caller, `start: its first layer is [${from.shape.join(', ')}], not [${weights.shape.join(', ')}]`);
      }
      const moved = tf.tidy(() => tf.norm(weights.sub(from)).div(tf.norm(from)).dataSync()[0]);
      const change = tf.sub(weights, from) as tf.Tensor4D;
      from.dispose();
      weights.dispose();
      weights = change;
      console.log(
        `${label}: training changed ${layer} by ${pct(moved)}% of its size (norm of the change / norm of the start)`,
      );
      title = `${name} ${layer} minus its initial weights`;
    }
    if (o.normalize === 'shared') {
      const peaks = tf.tidy(() => Array.from(weights.abs().max([1, 2, 3]).dataSync()));
      const strongest = Math.max(...peaks);
      const median = [...peaks].sort((a, b) => a - b)[Math.floor(n / 2)];
      console.log(
        `largest |weight| per filter, as a share of the strongest filter's: weakest ` +
          `${pct(Math.min(...peaks) / strongest)}%, median ${pct(median / strongest)}%`,
      );
      if (start === undefined) title = `${name} ${layer} on one shared scale`;
    }
    return widgetFilters(weights, { cols: 16, zeroCentered: gray, ...drawOptions, title: o.title ?? title });
  } finally {
    weights.dispose();
  }
}

const filtersShort = namedAsync('show.filters', filtersOf);

/** True for what the short form takes: a model, a model name, a path or URL to a model.json. */
function isNet(x: unknown): x is Net {
  return typeof x === 'string' || x instanceof tf.LayersModel;
}

/**
 * show.filters: a first layer's filters as a grid of tiles. `show.filters('mobilenet')` (a model, its name, or
 * 'face-resnet') loads the model, prints the filters' shape and draws them (gray models zero-centred);
 * `show.filters(tensor [n, kh, kw, c], options)` draws given weights (the widget).
 */
function filters(weights: tf.Tensor | FilterBank, o?: FiltersOptions): Figure;
function filters(net: Net, o?: FiltersShortOptions): Promise<Figure>;
function filters(first: tf.Tensor | FilterBank | Net, o: FiltersShortOptions = {}): Figure | Promise<Figure> {
  return isNet(first) ? filtersShort(first, o) : widgetFilters(first, o);
}

/** A data set's test image by name ('mnist', 'fashion-mnist', 'cifar-10') -> the image and its label. */
const DATASET_IMAGES = ['mnist', 'fashion-mnist', 'cifar-10'];

export interface FeatureMapsOptions {
  /** which test image of a data set (default 0) */
  index?: number;
  /** side of each map's tile in px (default 56) */
  size?: number;
}

/** The input and one response map per channel of `layer` (after its activation), bright where the image fires it. */
async function featureMaps(net: Net, image: ImageRef, layer: string, o: FeatureMapsOptions = {}): Promise<Figure> {
  const caller = 'show.featureMaps';
  const model = await netOf(net, caller);
  const [h, w, c] = mapShapeOf(model, layer, caller);
  const size = checkInt(caller, 'size', o.size, { min: 8, max: 512, dflt: 56 });
  let x: tf.Tensor4D;
  let labels: { labels: Int32Array; classNames: string[] } | undefined;
  const photos = Object.keys(SAMPLE_FILES);
  const named = typeof image === 'string' && /^[\w-]+$/.test(image) && !fs.existsSync(image);
  if (named && !DATASET_IMAGES.includes(image) && !photos.includes(image)) {
    const near = closestNames(image, [...DATASET_IMAGES, ...photos], 3).join(', ');
    fail(
      caller,
      `unknown image '${image}'; did you mean ${near}? (a data set's test image: ${DATASET_IMAGES.join(', ')}; ` +
        `a sample photo: ${photos.join(', ')}; a path or URL)`,
    );
  }
  if (typeof image === 'string' && DATASET_IMAGES.includes(image)) {
    const index = checkInt(caller, 'index', o.index, { min: 0, max: 9999, dflt: 0 });
    const data = await loadDataset(image, { split: 'test', limit: index + 1 });
    x = data.images.slice([index, 0, 0, 0], [1, -1, -1, -1]);
    labels = { labels: data.labels.slice(index, index + 1), classNames: data.classNames };
    data.images.dispose();
  } else {
    const one = await imageOf(model, image, caller);
    x = one.expandDims(0) as tf.Tensor4D;
    one.dispose();
  }
  const maps = await featureVectors(model, x, { layer });
  const perFilter = tf.tidy(() => maps.reshape([h, w, c]).transpose([2, 0, 1]).expandDims(-1) as tf.Tensor4D);
  maps.dispose();
  try {
    widgetShow.images(x, { ...labels, title: 'the input' });
    return widgetShow.images(perFilter, {
      cols: 16,
      size,
      normalize: 'minmax',
      captions: Array.from({ length: c }, (_, i) => `filter ${i}`),
      title: `${layer} responses, one per filter`,
    });
  } finally {
    tf.dispose([x, perFilter]);
  }
}

export const FILTERS_SHOWS = {
  filters,
  /** The input image and `layer`'s response maps to it, one tile per channel. */
  featureMaps: namedAsync('show.featureMaps', featureMaps),
};
