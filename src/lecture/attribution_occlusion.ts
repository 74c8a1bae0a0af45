// show.occlusion(net, image, class, { window, stride, fill }): the occlusion experiment in one line. The map is
// computed once by occlusion() and stored (remember: by weights, image, class and options); the printed line is
// the one the lecture reads out: the unoccluded score and where covering lowers and raises it most.
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import type { Progress } from '../runtime/cancel';
import { occlusion as occlusionMap } from '../techniques/attribution/occlusion';
import type { OcclusionFill, OcclusionResult } from '../techniques/attribution/occlusion';
import { defaultStride, defaultWindow } from '../techniques/attribution/occlusion_grid';
import type { Figure } from '../widgets/figure';
import type { OcclusionMap, ShowOcclusionOptions } from '../widgets/occlusion';
import { show as widgetShow } from '../widgets/show';
import type { Tensor } from '@tensorflow/tfjs';
import type { Pixels } from '../widgets/draw/raster';
import { classSlug, echoAsFigure, extremes } from './attribution_common';
import { netName, slug, classOf, className, imageName, imageOf, netOf } from './resolve';
import { namedAsync, remember } from './remember';
import type { ClassRef, ImageRef, ImageOfOptions, Net } from './resolve';

// The widget's show.occlusion, taken before src/index.ts joins the short form onto `show` under the same name.
const widgetOcclusion = widgetShow.occlusion;

export interface OcclusionShortOptions {
  /** how a photo of another aspect is made to fit the model's input (default 'fill': the whole photo, squeezed) */
  fit?: ImageOfOptions['fit'];
  /** the patch's side, or [h, w] (default: a sixth of the shorter side) */
  window?: number | [number, number];
  /** the step between positions (default: a quarter of the window) */
  stride?: number | [number, number];
  /** what covers the patch: the image's 'mean' colour (default), 'black', 'blur', a value or one per channel */
  fill?: OcclusionFill;
  /** the probability ('probs', default) or the score before the softmax ('logits') */
  output?: 'probs' | 'logits';
  /**
   * store the map on disk and load it next time (default: for an image given by name, path or URL; a tensor's map,
   * a small model's to play with live, is computed each time)
   */
  cache?: boolean;
  /** compute again even when a stored map exists */
  recompute?: boolean;
  /** the figure's title (default: what the map shows, the patch and where it is) */
  title?: string;
  /** the panels' size in pixels (default 160) */
  size?: number;
  colormap?: ShowOcclusionOptions['colormap'];
  range?: ShowOcclusionOptions['range'];
  overlay?: boolean;
}

/** What the short form returns: the figure, and occlusion()'s result (the caller owns its tensors). */
export interface OcclusionShort extends OcclusionResult {
  figure: Figure;
}

const side = (v: number | [number, number]) =>
  typeof v === 'number' || v[0] === v[1] ? `${pairOf(v)[0]}` : v.join('x');
const pairOf = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/**
 * Whether occlusionGrid's last window flush with the bottom or right edge changes this grid: the strides from 0 stop
 * short of the edge (224 px, window 56, stride 16: 0..160, then 168). Window and stride as occlusion() defaults them.
 */
export function changedByEdges(
  height: number,
  width: number,
  window?: number | [number, number],
  stride?: number | [number, number],
): boolean {
  const w = window === undefined ? defaultWindow(height, width) : pairOf(window);
  const s = stride === undefined ? defaultStride(w) : pairOf(stride);
  return (height - w[0]) % s[0] !== 0 || (width - w[1]) % s[1] !== 0;
}

/** One class's map: computed (or loaded), its line printed, drawn. */
async function oneClass(
  net: Net,
  model: tf.LayersModel,
  ref: ImageRef,
  x: tf.Tensor3D,
  target: number,
  o: OcclusionShortOptions,
): Promise<OcclusionShort> {
  const fill = o.fill ?? 'mean';
  const output = o.output ?? 'probs';
  const options = { window: o.window, stride: o.stride, fill, output };
  // The class is in the name (the key is the weights, the image and the options), as notebook 00 checks.
  const logits = output === 'logits' ? 'logits-' : '';
  const name = `occlusion-${netName(net, model)}-${slug(imageName(ref))}-${logits}${classSlug(model, target)}`;
  // A grid whose strides stop short of the far edge gains a last window flush with it (occlusionGrid): its map
  // differs from the one stored before that, so its key says so; the grids that end on the edge keep their key.
  const edges = changedByEdges(x.shape[0], x.shape[1], o.window, o.stride) ? { grid: 'edges' } : {};
  const key = { weights: model, image: x, ...options, ...edges };
  const compute = (onProgress?: (p: Progress) => void) =>
    occlusionMap(model, x, { target, ...options, details: true, onProgress });
  const title = `occlusion of ${className(model, target)} (computing once; cached afterwards)`;
  const r =
    (o.cache ?? typeof ref === 'string')
      ? await remember(name, key, compute, { recompute: o.recompute, title })
      : await compute();
  const m = r.map.dataSync();
  const { lo, hi } = extremes(m);
  const cols = r.cols.length;
  const at = (k: number) => `row ${r.rows[Math.floor(k / cols)]}, column ${r.cols[k % cols]}`;
  const digits = output === 'logits' ? 2 : 3;
  const what = output === 'logits' ? 'score' : 'probability';
  const c = className(model, target);
  const filled = typeof fill === 'string' ? fill : 'value';
  const setting = `window ${side(r.window)}, stride ${side(r.stride)}, fill ${filled}`;
  console.log(
    `${c}: ${what} ${r.score[0].toFixed(digits)} unoccluded, lowest ${m[lo].toFixed(digits)} ` +
      `with the patch at ${at(lo)}, highest ${m[hi].toFixed(digits)} at ${at(hi)} ` +
      `(${setting}: ${r.rows.length}x${cols} positions)`,
  );
  const shown = output === 'logits' ? `score of ${c}` : `P(${c})`;
  const patch = fill === 'mean' ? 'gray' : typeof fill === 'string' ? fill : 'filled';
  const figureTitle =
    o.title ?? `${shown} with a ${side(r.window)}x${side(r.window)} ${patch} patch every ${side(r.stride)} px`;
  const figure = widgetOcclusion(r, x, {
    title: figureTitle,
    // what the map holds (a map stored before occlusion() recorded it has no output of its own)
    output: r.output ?? output,
    size: o.size,
    colormap: o.colormap,
    range: o.range,
    overlay: o.overlay,
  });
  return echoAsFigure({ ...r, figure }, figure);
}

/**
 * The trade at one position between two classes: where covering lowers the first class most, what the second
 * class does there (the classes that separate similar things: a shirt's collar, a T-shirt without one).
 */
function trade(model: tf.LayersModel, a: OcclusionShort, b: OcclusionShort): void {
  const m1 = a.map.dataSync();
  const m2 = b.map.dataSync();
  const { lo } = extremes(m1);
  const cols = a.cols.length;
  const name = (r: OcclusionShort) => `P(${className(model, r.target[0])})`;
  console.log(
    `patch at row ${a.rows[Math.floor(lo / cols)]}, column ${a.cols[lo % cols]}: ` +
      `${name(a)} ${a.score[0].toFixed(3)} -> ${m1[lo].toFixed(3)}, ` +
      `${name(b)} ${b.score[0].toFixed(3)} -> ${m2[lo].toFixed(3)}`,
  );
}

async function occlusionShort(
  net: Net,
  image: ImageRef,
  classes: ClassRef | readonly ClassRef[],
  o: OcclusionShortOptions = {},
): Promise<OcclusionShort | OcclusionShort[]> {
  const caller = 'show.occlusion';
  const model = await netOf(net, caller);
  const list = (Array.isArray(classes) ? classes : [classes]) as ClassRef[];
  if (list.length === 0) fail(caller, 'expected a class (a name or an index), or a list of them');
  const targets = list.map((c) => classOf(model, c, caller));
  if (o.output !== undefined && o.output !== 'probs' && o.output !== 'logits')
    fail(caller, `unknown output '${String(o.output)}'; valid choices: 'probs', 'logits'`);
  const x = await imageOf(model, image, caller, { fit: o.fit });
  try {
    const out: OcclusionShort[] = [];
    for (const t of targets) out.push(await oneClass(net, model, image, x, t, o));
    if (out.length === 2) trade(model, out[0], out[1]);
    return Array.isArray(classes) ? echoAsFigure(out, out[0].figure) : out[0];
  } finally {
    x.dispose();
  }
}

const namedOcclusion = namedAsync('show.occlusion', occlusionShort);

/**
 * show.occlusion, both ways:
 * `await show.occlusion('mobilenet', 'dog', 'malamute', { window: 56, stride: 28 })`: a model (or its name), an
 * image (sample, path, URL or tensor) and a class (or a list: one map each, and for two classes the trade where
 * the first falls most); the map computed once and stored, its numbers printed, drawn.
 * `show.occlusion(occlusion(...details: true), image, options)`: the widget, drawing a map already computed.
 */
export function showOcclusion(
  net: Net,
  image: ImageRef,
  target: ClassRef,
  o?: OcclusionShortOptions,
): Promise<OcclusionShort>;
export function showOcclusion(
  net: Net,
  image: ImageRef,
  targets: readonly ClassRef[],
  o?: OcclusionShortOptions,
): Promise<OcclusionShort[]>;
export function showOcclusion(result: OcclusionMap, image: Tensor | Pixels, o?: ShowOcclusionOptions): Figure;
export function showOcclusion(...args: unknown[]): Promise<OcclusionShort | OcclusionShort[]> | Figure {
  if (typeof args[0] === 'string' || args[0] instanceof tf.LayersModel) {
    return namedOcclusion(...(args as Parameters<typeof occlusionShort>));
  }
  return widgetOcclusion(...(args as Parameters<typeof widgetOcclusion>));
}
