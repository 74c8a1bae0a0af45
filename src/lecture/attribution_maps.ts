// The gradient methods of the lecture as short forms: one map (show.saliency, show.gradCam, show.smoothGrad,
// show.integratedGradients) or several side by side (show.attributions). Each map comes from its technique; the
// many-pass ones (SmoothGrad, Integrated Gradients) are stored (remember) under the names and keys notebook 07
// shipped them with. A `box` prints the share of each map's magnitude inside a region of the image.
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import type { Progress } from '../runtime/cancel';
import { gradCam, guidedGradCam } from '../techniques/attribution/gradcam';
import { guidedBackprop } from '../techniques/attribution/guided';
import { integratedGradients } from '../techniques/attribution/integrated_gradients';
import { saliency } from '../techniques/attribution/saliency';
import { smoothGrad } from '../techniques/attribution/smoothgrad';
import type { HeatmapMode } from '../widgets/draw/attribution';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { classSlug, echoAsFigure } from './attribution_common';
import { netName, slug, classOf, className, imageName, imageOf, netOf } from './resolve';
import { namedAsync, remember } from './remember';
import type { ClassRef, ImageRef, Net } from './resolve';

/** A region of the image (pixels of the model's input), for the printed share of each map inside it. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
  /** how the printed lines name it (default 'the box') */
  name?: string;
}

export const METHODS = [
  'saliency',
  'guided backprop',
  'SmoothGrad',
  'Integrated Gradients',
  'Grad-CAM',
  'guided Grad-CAM',
] as const;
export type Method = (typeof METHODS)[number];

export interface MapOptions {
  /** SmoothGrad: noisy copies (default 16), noise level (default 0.15), seed (default 0) */
  samples?: number;
  noiseLevel?: number;
  seed?: number;
  /** Integrated Gradients: points on the path from the black image (default 24; no doubling to a tolerance) */
  steps?: number;
  /** compute the stored maps (SmoothGrad, Integrated Gradients) again */
  recompute?: boolean;
}

/** What the maps are computed on: the model, the image and the names its stored maps go under. */
export interface Subject {
  net: Net;
  model: tf.LayersModel;
  ref: ImageRef;
  x: tf.Tensor3D;
}

/** One method's map of class `target` (the caller owns it). */
export async function mapOf(s: Subject, method: Method, target: number, o: MapOptions): Promise<tf.Tensor> {
  const { model, x } = s;
  const stem = `${netName(s.net, model)}-${slug(imageName(s.ref))}-${classSlug(model, target)}`;
  const stored = typeof s.ref === 'string';
  switch (method) {
    case 'saliency':
      return saliency(model, x, { target });
    case 'guided backprop':
      return guidedBackprop(model, x, { target });
    case 'Grad-CAM':
      return gradCam(model, x, { target });
    case 'guided Grad-CAM':
      return guidedGradCam(model, x, { target });
    case 'SmoothGrad': {
      const opts = { samples: o.samples ?? 16, noiseLevel: o.noiseLevel ?? 0.15, seed: o.seed ?? 0 };
      const compute = (onProgress?: (p: Progress) => void) => smoothGrad(model, x, { target, ...opts, onProgress });
      if (!stored) return compute();
      return remember(`smoothgrad-${stem}`, { weights: model, image: x, ...opts }, compute, {
        recompute: o.recompute,
        title: `SmoothGrad of ${className(model, target)} (computing once; cached afterwards)`,
      });
    }
    case 'Integrated Gradients': {
      const steps = o.steps ?? 24;
      const compute = (onProgress?: (p: Progress) => void) =>
        integratedGradients(model, x, { target, steps, tolerance: Infinity, onProgress });
      if (!stored) return compute();
      return remember(`ig-${stem}`, { weights: model, image: x, steps, tolerance: 'none' }, compute, {
        recompute: o.recompute,
        title: `Integrated Gradients of ${className(model, target)} (computing once; cached afterwards)`,
      });
    }
  }
}

/** The share of a map's magnitude inside the box. */
export function shareIn(m: tf.Tensor, b: Box): number {
  return tf.tidy(() => {
    const a = m.abs();
    const inside = a.slice([b.top, b.left], [b.height, b.width]).sum();
    return inside.div(a.sum()).dataSync()[0];
  });
}

/** |a| against |b|, pixel by pixel: 1 = the same picture, 0 = unrelated. */
export function correlation(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const x = a.abs().flatten();
    const y = b.abs().flatten();
    const xm = x.sub(x.mean());
    const ym = y.sub(y.mean());
    return xm.mul(ym).sum().div(xm.norm().mul(ym.norm())).dataSync()[0];
  });
}

const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

export function checkBox(b: Box | undefined, x: tf.Tensor3D, caller: string): void {
  if (!b) return;
  const [h, w] = x.shape;
  const ok = [b.top, b.left, b.height, b.width].every((v) => Number.isInteger(v) && v >= 0);
  if (!ok || b.height < 1 || b.width < 1 || b.top + b.height > h || b.left + b.width > w) {
    fail(caller, `box { top, left, height, width } must lie inside the ${h}x${w} image, got ${JSON.stringify(b)}`);
  }
}

export interface OneMapOptions extends MapOptions {
  /** display modes side by side (default: show.saliency all four; the others 'heat' and 'blended') */
  mode?: HeatmapMode | HeatmapMode[];
  /** print the share of the map's magnitude inside this region */
  box?: Box;
  title?: string;
  size?: number;
}

/** What a one-map short form returns: the map (the caller owns it) and its figure. */
export interface MapShort {
  map: tf.Tensor;
  figure: Figure;
}

/** The photo's dark pixels (mean of the channels below 0.2) against the others: IG's black baseline at work. */
function darkLine(map: tf.Tensor, x: tf.Tensor3D, c: string): string {
  const [share, dark, rest] = tf.tidy(() => {
    const a = map.abs().sum(-1);
    const d = x.mean(-1).less(0.2).cast('float32');
    const e = tf.sub(1, d);
    return [d.mean(), a.mul(d).sum().div(d.sum()), a.mul(e).sum().div(e.sum())].map((t) => t.dataSync()[0]);
  });
  return (
    `Integrated Gradients, ${c}: dark pixels (mean of the channels below 0.2, ${pct(share)} of the photo) get a ` +
    `mean |attribution| of ${dark.toExponential(2)}, the others ${rest.toExponential(2)} ` +
    `(${(rest / dark).toFixed(1)} times as much)`
  );
}

function oneMap(method: Method, caller: string, modes: HeatmapMode[]) {
  return async (net: Net, image: ImageRef, target: ClassRef, o: OneMapOptions = {}): Promise<MapShort> => {
    const model = await netOf(net, caller);
    const t = classOf(model, target, caller);
    const x = await imageOf(model, image, caller);
    try {
      checkBox(o.box, x, caller);
      const map = await mapOf({ net, model, ref: image, x }, method, t, o);
      const c = className(model, t);
      if (o.box) console.log(`${method} of ${c}: ${pct(shareIn(map, o.box))} in ${o.box.name ?? 'the box'}`);
      if (method === 'Integrated Gradients' && map.rank === 3) console.log(darkLine(map, x, c));
      const figure = widgetShow.heatmap(map, x, {
        mode: o.mode ?? modes,
        title: o.title ?? `${method} of ${c}`,
        size: o.size,
      });
      return echoAsFigure({ map, figure }, figure);
    } finally {
      x.dispose();
    }
  };
}

/** `await show.saliency('mobilenet', 'dog', 'malamute')`: the gradient's magnitude in the four display modes. */
export const showSaliency = namedAsync(
  'show.saliency',
  oneMap('saliency', 'show.saliency', ['heat', 'blended', 'masked', 'alpha']),
);
/** `await show.gradCam('mobilenet', 'dog', 'malamute')`: Grad-CAM on the last conv layer, as heat and blended. */
export const showGradCam = namedAsync('show.gradCam', oneMap('Grad-CAM', 'show.gradCam', ['heat', 'blended']));
/** `await show.smoothGrad('mobilenet', 'dog', 'malamute')`: 16 noisy copies' saliency, stored once computed. */
export const showSmoothGrad = namedAsync(
  'show.smoothGrad',
  oneMap('SmoothGrad', 'show.smoothGrad', ['heat', 'blended']),
);
/**
 * `await show.integratedGradients('mobilenet', 'dog', 'malamute')`: IG from the black image (24 steps, stored), and
 * the printed share of its magnitude on the photo's dark pixels against the others.
 */
export const showIntegratedGradients = namedAsync(
  'show.integratedGradients',
  oneMap('Integrated Gradients', 'show.integratedGradients', ['heat', 'blended']),
);

export interface AttributionsOptions extends MapOptions {
  /** the methods, one column each (default all six) */
  methods?: readonly Method[];
  /** print the share of each map's magnitude inside this region */
  box?: Box;
  /** columns of the grid (default 3 for one class; the methods' count for two) */
  cols?: number;
  size?: number;
  title?: string;
}

/** What show.attributions returns: each class's maps in the methods' order (the caller owns them), the figure. */
export interface AttributionsShort {
  maps: tf.Tensor[][];
  figure: Figure;
}

async function attributions(
  net: Net,
  image: ImageRef,
  classes: ClassRef | readonly ClassRef[],
  o: AttributionsOptions = {},
): Promise<AttributionsShort> {
  const caller = 'show.attributions';
  const model = await netOf(net, caller);
  const list = (Array.isArray(classes) ? classes : [classes]) as ClassRef[];
  if (list.length < 1 || list.length > 2) fail(caller, `expected one class or two, got ${list.length}`);
  const targets = list.map((c) => classOf(model, c, caller));
  const methods = o.methods ?? METHODS;
  for (const m of methods) {
    if (!METHODS.includes(m)) fail(caller, `unknown method '${String(m)}'; valid choices: ${METHODS.join(', ')}`);
  }
  const x = await imageOf(model, image, caller);
  const maps: tf.Tensor[][] = [];
  try {
    checkBox(o.box, x, caller);
    const s = { net, model, ref: image, x };
    for (const t of targets) {
      const row: tf.Tensor[] = [];
      maps.push(row);
      for (const m of methods) row.push(await mapOf(s, m, t, o));
    }
    const names = targets.map((t) => className(model, t));
    const box = o.box;
    if (box && maps.length === 1) {
      const shares = methods.map((m, k) => `${m} ${pct(shareIn(maps[0][k], box))}`);
      console.log(`share of the magnitude in ${box.name ?? 'the box'}: ${shares.join(', ')}`);
    }
    const ig = methods.indexOf('Integrated Gradients');
    if (ig >= 0 && maps.length === 1 && maps[0][ig].rank === 3) console.log(darkLine(maps[0][ig], x, names[0]));
    if (maps.length === 2) {
      methods.forEach((m, k) => {
        const r = correlation(maps[0][k], maps[1][k]).toFixed(2);
        console.log(`${m}: ${names[0]} vs ${names[1]}, correlation ${r}`);
      });
      if (box) {
        methods.forEach((m, k) => {
          const [a, b] = [shareIn(maps[1][k], box), shareIn(maps[0][k], box)];
          const where = box.name ?? 'the box';
          console.log(`${m} for ${names[1]}: ${pct(a)} of its magnitude in ${where} (for ${names[0]}: ${pct(b)})`);
        });
      }
    }
    const short = (m: Method) => (m === 'Integrated Gradients' && maps.length === 2 ? 'IG' : m);
    const labels = names.flatMap((c) => methods.map((m) => (maps.length === 2 ? `${short(m)}: ${c}` : m)));
    const flat = maps.flat();
    const title =
      o.title ??
      (maps.length === 1
        ? `explanations of ${names[0]}`
        : methods.length === 1
          ? `${methods[0]}, ${names[0]} and ${names[1]}`
          : `${names[0]} (top) and ${names[1]} (bottom), ${methods.length} methods`);
    const figure = widgetShow.heatmap(flat, Array(flat.length).fill(x) as tf.Tensor3D[], {
      mode: 'blended',
      cols: o.cols ?? (maps.length === 2 ? methods.length : 3),
      size: o.size ?? (maps.length === 2 ? 180 : 200),
      showImage: false,
      labels,
      title,
    });
    return echoAsFigure({ maps, figure }, figure);
  } catch (err) {
    tf.dispose(maps.flat());
    throw err;
  } finally {
    x.dispose();
  }
}

/**
 * `await show.attributions('mobilenet', 'dog', 'malamute', { box })`: six explanations of a class side by side
 * (saliency, guided backprop, SmoothGrad, Integrated Gradients, Grad-CAM, guided Grad-CAM), each over the photo.
 * Two classes: a row each, and the printed correlation of each method's two maps (does it tell them apart?).
 */
export const showAttributions = namedAsync('show.attributions', attributions);
