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
import { classSlug, echoAsFigure, netName, slug } from './attribution_common';
import { namedAsync, remember } from './remember';
import { classOf, className, imageName, imageOf, netOf } from './resolve';
import type { ClassRef, ImageOfOptions, ImageRef, Net } from './resolve';

export interface ShapShortOptions {
  /** the probability ('probs', default) or the score before the softmax ('logits') */
  output?: 'probs' | 'logits';
  /** about how many SLIC superpixels (default 50) */
  nSegments?: number;
  /** coalitions evaluated (default 768) */
  samples?: number;
  seed?: number;
  /** how a photo of another aspect is made to fit the model's input (default 'fill') */
  fit?: ImageOfOptions['fit'];
  /** compute again even when stored values exist */
  recompute?: boolean;
  /** display modes (default 'heat' and 'blended': a row per class) */
  mode?: HeatmapMode | HeatmapMode[];
  /** maps a line, without the photo beside them (default: a row per class, the photo first) */
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

async function shap(
  net: Net,
  image: ImageRef,
  classes: ClassRef | readonly ClassRef[],
  o: ShapShortOptions = {},
): Promise<ShapShort> {
  const caller = 'show.shap';
  const model = await netOf(net, caller);
  const list = (Array.isArray(classes) ? classes : [classes]) as ClassRef[];
  if (list.length === 0) fail(caller, 'expected a class (a name or an index), or a list of them');
  const targets = list.map((c) => classOf(model, c, caller));
  const output = checkChoice(caller, 'output', o.output, ['probs', 'logits'] as const, 'probs');
  const nSegments = checkInt(caller, 'nSegments', o.nSegments, { min: 2, max: 255, dflt: 50 });
  const samples = checkInt(caller, 'samples', o.samples, { min: 1, dflt: 768 });
  const seed = checkInt(caller, 'seed', o.seed, { dflt: 0 });
  const x = await imageOf(model, image, caller, { fit: o.fit });
  const maps: tf.Tensor2D[] = [];
  try {
    const [h, w] = x.shape;
    const settings = { segments: 'slic', nSegments, samples, seed } as const;
    const stored: ShapValues[] = [];
    for (const target of targets) {
      const c = className(model, target);
      const logits = output === 'logits' ? '-logits' : '';
      const name = `shap-${netName(net, model)}-${slug(imageName(image))}-${classSlug(model, target)}${logits}`;
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
      const r =
        typeof image === 'string'
          ? await remember(name, key, compute, { recompute: o.recompute, title })
          : await compute();
      console.log(shapLine(c, r, w));
      stored.push(r);
      maps.push(
        tf.tensor2d(
          Float32Array.from(r.segments, (s) => r.values[s]),
          [h, w],
        ),
      );
    }
    const names = targets.map((t) => className(model, t));
    const what = output === 'logits' ? 'of the score before the softmax' : 'of the probability';
    const figure = widgetShow.heatmap(maps, Array(maps.length).fill(x) as tf.Tensor3D[], {
      mode: o.mode ?? ['heat', 'blended'],
      sign: 'all',
      cols: o.cols,
      size: o.size,
      showImage: o.cols === undefined ? undefined : false,
      labels: names,
      title: o.title ?? `Kernel SHAP ${what}, about ${nSegments} superpixels (red: for, blue: against)`,
    });
    return echoAsFigure({ shap: stored, maps, figure }, figure);
  } catch (err) {
    tf.dispose(maps);
    throw err;
  } finally {
    x.dispose();
  }
}

/**
 * `await show.shap('mobilenet', 'dog', ['malamute', 'mountain bike'], { output: 'logits' })`: Kernel SHAP on about
 * 50 superpixels per class (red: for, blue: against), each class's values stored once computed; the printed line
 * gives the coalitions, the values' sum and where the strongest superpixel sits (in pixels).
 */
export const showShap = namedAsync('show.shap', shap);
