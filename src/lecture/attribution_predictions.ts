// show.predictions(net, image, classes): what the model says of an image before anyone asks why. Prints the top
// classes and, for the classes named, each one's probability and rank; draws the image as the model sees it.
import type * as tf from '@tensorflow/tfjs';
import { checkInt } from '../common';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { echoAsFigure, fullName, probabilitiesOf, rankOf, ranked } from './attribution_common';
import { netTitle, classOf, className, imageName, imageOf, netOf } from './resolve';
import { namedAsync } from './remember';
import { datasetPredictions, DATASETS } from './units_setup';
import type { DatasetName, DatasetShowOptions } from './units_setup';
import type { ClassRef, ImageRef, ImageOfOptions, Net } from './resolve';

export interface PredictionsOptions extends ImageOfOptions {
  /** how many of the most likely classes are printed (default 5) */
  top?: number;
  /** the figure's title (default: the image's name and size, and how it was fitted) */
  title?: string;
}

/** What show.predictions returns: the figure and the numbers it printed. */
export interface Predictions {
  figure: Figure;
  /** the classes in order of probability, best first, and their probabilities */
  classes: number[];
  probabilities: Float32Array;
}

async function imagePredictions(
  net: Net,
  image: ImageRef,
  classes: ClassRef | readonly ClassRef[] = [],
  o: PredictionsOptions = {},
): Promise<Predictions> {
  const caller = 'show.predictions';
  const model = await netOf(net, caller);
  const asked = (Array.isArray(classes) ? classes : [classes]) as ClassRef[];
  const ids = asked.map((c) => classOf(model, c, caller));
  const top = checkInt(caller, 'top', o.top, { min: 1, max: model.outputs[0].shape[1] ?? undefined, dflt: 5 });
  const x = await imageOf(model, image, caller, o);
  try {
    const p = probabilitiesOf(model, x);
    const order = ranked(p);
    const best = order.slice(0, top).map((c) => `${fullName(model, c)} ${p[c].toFixed(3)}`);
    console.log(`${netTitle(net, model)} top ${top}: ${best.join(', ')}`);
    if (ids.length) {
      const line = ids.map((c) => `P(${className(model, c)}) = ${p[c].toFixed(4)} (rank ${rankOf(p, c)})`);
      console.log(line.join(', '));
    }
    const [h, w] = x.shape;
    const fit = typeof image === 'string' ? ` (${o.fit ?? 'fill'})` : '';
    const title = o.title ?? `${imageName(image)}, ${w}x${h}${fit}`;
    const batch = x.expandDims(0) as tf.Tensor4D;
    let figure: Figure;
    try {
      figure = widgetShow.images(batch, { title });
    } finally {
      batch.dispose();
    }
    return echoAsFigure({ figure, classes: order, probabilities: p }, figure);
  } finally {
    x.dispose();
  }
}

/**
 * `await show.predictions('mobilenet', 'dog', ['malamute', 'pickup'])`: the model's top 5 for the image, each
 * named class's probability and rank, and the image drawn as the model sees it.
 * `await show.predictions('fashion-cnn', 'fashion-mnist')`: with a data set's name (mnist, fashion-mnist,
 * cifar-10) instead of an image, the model's answers on that set's first test images (green right, red wrong)
 * and its accuracy on the whole test set.
 */
function predictions(net: Net, data: DatasetName, o?: DatasetShowOptions): Promise<Figure>;
function predictions(
  net: Net,
  image: ImageRef,
  classes?: ClassRef | readonly ClassRef[],
  o?: PredictionsOptions,
): Promise<Predictions>;
function predictions(
  net: Net,
  what: ImageRef,
  classes?: ClassRef | readonly ClassRef[] | DatasetShowOptions,
  o?: PredictionsOptions,
): Promise<Figure | Predictions> {
  if (typeof what === 'string' && DATASETS.includes(what)) return byDataset(net, what, classes as DatasetShowOptions);
  return byImage(net, what, classes as ClassRef | readonly ClassRef[] | undefined, o).catch((err: unknown) => {
    // a misspelt data set reads as an unknown image: name the data sets among the choices too
    if (err instanceof Error && /unknown image '/.test(err.message))
      err.message += `, or a data set (${DATASETS.join(', ')})`;
    throw err;
  });
}
const byDataset = namedAsync('show.predictions', datasetPredictions);
const byImage = namedAsync('show.predictions', imagePredictions);
export const showPredictions = predictions;
