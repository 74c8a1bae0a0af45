// show.shap(net, image, classes): Kernel SHAP on superpixels, the lecture's first slide in one line. Each class's
// values are computed once by kernelShap() and stored small (one byte per pixel for its superpixel, one value per
// superpixel, the two scores), under the names and keys notebook 09 shipped them with; the printed line gives the
// coalitions evaluated, the sum of the values (the score difference they explain) and where the strongest sits.
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt, fail } from '../common';
import type { Progress } from '../runtime/cancel';
import { kernelShap } from '../techniques/attribution/kernel_shap';
import type { Figure } from '../widgets/figure';
import type { HeatmapMode } from '../widgets/draw/attribution';
import { show as widgetShow } from '../widgets/show';
import { classSlug, echoAsFigure } from './attribution_common';
import { netName, slug, classOf, className, imageName, imageOf, netOf } from './resolve';
import { namedAsync, remember } from './remember';
import type { ClassRef, ImageRef, Net } from './resolve';
import type { Fit } from '../data/images';

export interface ShapShortOptions {
  /** the probability ('probs', default) or the score before the softmax ('logits') */
  output?: 'probs' | 'logits';
  /** about how many SLIC superpixels (default 50) */
  nSegments?: number;
  /** coalitions evaluated (default 768) */
  samples?: number;
  seed?: number;
  /** how a photo of another aspect is made to fit the model's input (default 'fill'), or one per image */
  fit?: Fit | readonly Fit[];
  /** compute again even when stored values exist */
  recompute?: boolean;
  /** display modes (default 'heat' and 'blended': a row per class) */
  mode?: HeatmapMode | HeatmapMode[];
  /** maps a line, without the photo beside them (default: a row per class, the photo first; several images: all) */
  cols?: number;
  size?: number;
  title?: string;
}

/** One class's stored values. scoreInput and scoreBaseline are absent from values stored without them. */
export interface ShapValues {
  segments: Uint8Array;
  values: Float32Array | number[];
  coalitions: number;
  scoreInput?: number;
  scoreBaseline?: number;
}

/** What show.shap returns: each class's values and its map [H, W] (the caller owns the maps), the figure. */
export interface ShapShort {
  shap: ShapValues[];
  maps: tf.Tensor2D[];
  figure: Figure;
}

/** The mean row and column of the pixels of superpixel s. */
function centre(segments: ArrayLike<number>, s: number, width: number): [number, number] {
  let rows = 0;
  let cols = 0;
  let count = 0;
  for (let k = 0; k < segments.length; k++) {
    if (segments[k] !== s) continue;
    rows += Math.floor(k / width);
    cols += k % width;
    count++;
  }
  return [Math.round(rows / count), Math.round(cols / count)];
}

/** The line the lecture reads out for one class. */
export function shapLine(c: string, r: ShapValues, width: number): string {
  const v = Array.from(r.values);
  const total = v.reduce((a, b) => a + b, 0);
  const hi = v.indexOf(Math.max(...v));
  const [row, col] = centre(r.segments, hi, width);
  const scores =
    r.scoreInput === undefined || r.scoreBaseline === undefined
      ? ''
      : ` = score(photo) ${r.scoreInput.toFixed(2)} - score(black) ${r.scoreBaseline.toFixed(2)}`;
  return (
    `${c}: ${r.coalitions} coalitions; the ${v.length} values add up to ${total.toFixed(2)}${scores}; ` +
    `largest for ${v[hi].toFixed(2)} (a superpixel centred at row ${row}, column ${col}), ` +
    `largest against ${Math.min(...v).toFixed(2)}`
  );
}

/** Kernel SHAP's settings in the lecture: SLIC superpixels, 768 coalitions, seed 0 (09's stored results). */
export const SHAP_SETTINGS = { segments: 'slic', nSegments: 50, samples: 768, seed: 0 } as const;

/**
 * One image's Kernel SHAP values for one class: stored for an image given by name, path or URL (by the weights,
 * the image, the class, the output and the settings), computed each time for a tensor.
 */
export async function shapValues(
  net: Net,
  model: tf.LayersModel,
  ref: ImageRef,
  x: tf.Tensor3D,
  target: number,
  output: 'probs' | 'logits',
  o: ShapShortOptions,
): Promise<ShapValues> {
  const settings = { ...SHAP_SETTINGS, nSegments: o.nSegments ?? 50, samples: o.samples ?? 768, seed: o.seed ?? 0 };
  const c = className(model, target);
  const logits = output === 'logits' ? '-logits' : '';
  const name = `shap-${netName(net, model)}-${slug(imageName(ref))}-${classSlug(model, target)}${logits}`;
  const key = { weights: model, image: x, target, output, ...settings };
  const compute = async (onProgress?: (p: Progress) => void): Promise<ShapValues> => {
    const r = await kernelShap(model, x, { target, output, ...settings, details: true, onProgress });
    r.attributions.dispose();
    const d = r.perImage[0];
    // Stored small: one byte per pixel (its superpixel) and one value per superpixel.
    return {
      segments: Uint8Array.from(d.segmentation.labels),
      values: d.values,
      scoreInput: d.scoreInput,
      scoreBaseline: d.scoreBaseline,
      coalitions: d.coalitions,
    };
  };
  const title = `Kernel SHAP of ${c} (computing once; cached afterwards)`;
  return typeof ref === 'string' ? remember(name, key, compute, { recompute: o.recompute, title }) : compute();
}

async function shap(
  net: Net,
  image: ImageRef | readonly ImageRef[],
  classes: ClassRef | readonly ClassRef[],
  o: ShapShortOptions = {},
): Promise<ShapShort> {
  const caller = 'show.shap';
  const model = await netOf(net, caller);
  const refs = (Array.isArray(image) ? image : [image]) as ImageRef[];
  const several = refs.length > 1;
  const list = (Array.isArray(classes) ? classes : [classes]) as ClassRef[];
  if (list.length === 0) fail(caller, "expected a class (a name or an index), a list of them, or 'best'");
  if (several && !(list.length === 1 && list[0] === 'best') && list.length !== refs.length) {
    fail(caller, `${refs.length} images: give one class each, or 'best' (each image's most likely class)`);
  }
  const output = checkChoice(caller, 'output', o.output, ['probs', 'logits'] as const, 'probs');
  checkInt(caller, 'nSegments', o.nSegments, { min: 2, max: 255, dflt: 50 });
  checkInt(caller, 'samples', o.samples, { min: 1, dflt: 768 });
  checkInt(caller, 'seed', o.seed, { dflt: 0 });
  const fits = Array.isArray(o.fit) ? o.fit : refs.map(() => o.fit as Fit | undefined);
  if (fits.length !== refs.length) fail(caller, `fit: ${fits.length} fits for ${refs.length} images`);
  const xs: tf.Tensor3D[] = [];
  const maps: tf.Tensor2D[] = [];
  try {
    for (let i = 0; i < refs.length; i++) xs.push(await imageOf(model, refs[i], caller, { fit: fits[i] }));
    // (image, class) pairs: one image and its classes, or one class (or its best) per image
    const pairs: [number, number][] = several
      ? refs.map((_, i) => [
          i,
          list[0] === 'best' && list.length === 1 ? bestOf(model, xs[i]) : classOf(model, list[i], caller),
        ])
      : list.map((c) => [0, c === 'best' ? bestOf(model, xs[0]) : classOf(model, c, caller)]);
    const stored: ShapValues[] = [];
    for (const [i, target] of pairs) {
      const r = await shapValues(net, model, refs[i], xs[i], target, output, o);
      const [h, w] = xs[i].shape;
      console.log(shapLine(className(model, target), r, w));
      stored.push(r);
      maps.push(
        tf.tensor2d(
          Float32Array.from(r.segments, (v) => r.values[v]),
          [h, w],
        ),
      );
    }
    const labels = pairs.map(([i, t]) => (several ? `${imageName(refs[i])}: ` : '') + className(model, t));
    const what = output === 'logits' ? 'of the score before the softmax' : 'of the probability';
    const title = several
      ? `Kernel SHAP for the ${list[0] === 'best' ? 'best class' : 'classes'}`
      : `Kernel SHAP ${what}, about ${o.nSegments ?? 50} superpixels (red: for, blue: against)`;
    const cols = o.cols ?? (several ? refs.length : undefined);
    const figure = widgetShow.heatmap(
      maps,
      pairs.map(([i]) => xs[i]),
      {
        mode: o.mode ?? (several ? 'blended' : ['heat', 'blended']),
        sign: 'all',
        cols,
        size: o.size ?? (several ? 200 : undefined),
        showImage: cols === undefined ? undefined : false,
        labels,
        title: o.title ?? title,
      },
    );
    return echoAsFigure({ shap: stored, maps, figure }, figure);
  } catch (err) {
    tf.dispose(maps);
    throw err;
  } finally {
    tf.dispose(xs);
  }
}

/** The most likely class of one image. */
function bestOf(model: tf.LayersModel, x: tf.Tensor3D): number {
  return tf.tidy(() => (model.predict(x.expandDims(0)) as tf.Tensor).argMax(-1).dataSync()[0]);
}

/**
 * `await show.shap('mobilenet', 'dog', ['malamute', 'mountain bike'], { output: 'logits' })`: Kernel SHAP on about
 * 50 superpixels per class (red: for, blue: against), each class's values stored once computed; the printed line
 * gives the coalitions, the values' sum and where the strongest superpixel sits (in pixels).
 */
export const showShap = namedAsync('show.shap', shap);
