// The backward passes of notebook 07 drawn as the slides draw them, colour images where gray is zero:
// show.guidedBackprop (the gradient, guided backprop and the deconvnet of a class, side by side) and
// show.guidedNeurons (guided backprop of single neurons, each on its receptive field's crop of the photo).
import * as tf from '@tensorflow/tfjs';
import { checkInt, fail } from '../common';
import { getLayer, receptiveField } from '../models/layers';
import { inputBox } from '../models/receptive_field';
import { deconvnet, guidedBackprop } from '../techniques/attribution/guided';
import { saliency } from '../techniques/attribution/saliency';
import { featureVectors } from '../techniques/features/features';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { echoAsFigure } from './attribution_common';
import { checkBox, shareIn } from './attribution_maps';
import type { Box } from './attribution_maps';
import { namedAsync } from './remember';
import { classOf, className, imageOf, netOf } from './resolve';
import type { ClassRef, ImageRef, Net } from './resolve';

/**
 * A signed [H, W, 3] map as a picture: gray is 0, each colour channel brighter or darker by its sign, stretched so
 * the 99th percentile of |map| reaches the ends.
 */
export function asRgb(m: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const a = m.abs().flatten();
    const p99 = tf.topk(a, Math.ceil(a.size / 100)).values.min();
    const [h, w] = m.shape;
    return m.div(p99.mul(2)).add(0.5).clipByValue(0, 1).reshape([h, w, 3]) as tf.Tensor3D;
  });
}

export interface BackwardOptions {
  /** print the share of each map's magnitude inside this region */
  box?: Box;
  size?: number;
  title?: string;
}

/** What show.guidedBackprop returns: the signed gradient, guided backprop, deconvnet (the caller owns them). */
export interface BackwardShort {
  maps: tf.Tensor[];
  figure: Figure;
}

const PASSES = ['gradient', 'guided backprop', 'deconvnet'];

async function backward(net: Net, image: ImageRef, target: ClassRef, o: BackwardOptions = {}): Promise<BackwardShort> {
  const caller = 'show.guidedBackprop';
  const model = await netOf(net, caller);
  const t = classOf(model, target, caller);
  const x = await imageOf(model, image, caller);
  const maps: tf.Tensor[] = [];
  try {
    checkBox(o.box, x, caller);
    maps.push(await saliency(model, x, { target: t, reduce: 'none' }));
    maps.push(await guidedBackprop(model, x, { target: t }));
    maps.push(await deconvnet(model, x, { target: t }));
    const box = o.box;
    if (box) {
      const where = box.name ?? 'the box';
      console.log(maps.map((m, k) => `${PASSES[k]}: ${(100 * shareIn(m, box)).toFixed(0)}% in ${where}`).join(', '));
    }
    const c = className(model, t);
    const pictures = tf.tidy(() => tf.stack(maps.map(asRgb)) as tf.Tensor4D);
    try {
      const figure = widgetShow.images(pictures, {
        cols: 3,
        size: o.size ?? 224,
        captions: PASSES,
        title: o.title ?? `three backward passes for ${c}, as colour images (gray = 0)`,
      });
      return echoAsFigure({ maps, figure }, figure);
    } finally {
      pictures.dispose();
    }
  } catch (err) {
    tf.dispose(maps);
    throw err;
  } finally {
    x.dispose();
  }
}

/**
 * `await show.guidedBackprop('mobilenet', 'dog', 'malamute', { box })`: the plain gradient, guided backprop and the
 * deconvnet of a class as colour images (gray = 0), and the share of each one's magnitude in the box.
 */
export const showGuidedBackprop = namedAsync('show.guidedBackprop', backward);

export interface NeuronsOptions {
  /** how many neurons: the strongest position of each of the channels that respond most (default 2) */
  count?: number;
  /** the channels to take instead (each at its strongest position) */
  channels?: number[];
  size?: number;
  title?: string;
}

/** One neuron: its channel and position, the square of the input it sees, and its guided backprop. */
export interface Neuron {
  channel: number;
  y: number;
  x: number;
  box: { top: number; left: number; bottom: number; right: number };
  /** share of the map's magnitude inside the box, and inside the box's middle quarter */
  inside: number;
  centre: number;
}

export interface NeuronsShort {
  neurons: Neuron[];
  figure: Figure;
}

/** The share of |g| in rows top..top+h-1, columns left..left+w-1. */
function shareAt(g: tf.Tensor, top: number, left: number, h: number, w: number): number {
  return tf.tidy(() => {
    const a = g.abs();
    return a.slice([top, left], [h, w]).sum().div(a.sum()).dataSync()[0];
  });
}

async function neurons(net: Net, image: ImageRef, layer: string, o: NeuronsOptions = {}): Promise<NeuronsShort> {
  const caller = 'show.guidedNeurons';
  const model = await netOf(net, caller);
  const shape = getLayer(model, layer, caller).outputShape as (number | null)[];
  if (shape.length !== 4) fail(caller, `layer '${layer}' has no grid of positions (output ${JSON.stringify(shape)})`);
  const [rows, cols, channels] = shape.slice(1) as number[];
  const count = checkInt(caller, 'count', o.count, { min: 1, max: channels, dflt: 2 });
  for (const c of o.channels ?? []) checkInt(caller, 'channels', c, { min: 0, max: channels - 1 });
  const x = await imageOf(model, image, caller);
  const crops: tf.Tensor3D[] = [];
  const found: Neuron[] = [];
  let grid: tf.Tensor2D | undefined;
  try {
    const act = await featureVectors(model, x, { layer });
    // Units at ReLU6's cap of 6 have no gradient: leave them out.
    grid = tf.tidy(() => {
      const a = act.reshape([rows * cols, channels]);
      return tf.where(a.less(5.99), a, tf.zerosLike(a)) as tf.Tensor2D;
    });
    act.dispose();
    const g2 = grid;
    const picked = o.channels ?? tf.tidy(() => Array.from(tf.topk(g2.max(0) as tf.Tensor1D, count).indices.dataSync()));
    const rf = receptiveField(model, layer);
    console.log(
      `${layer}: ${channels} channels, ${rows}x${cols} positions; receptive field ` +
        `${rf.size[0]}x${rf.size[1]} px, ${rf.stride[0]} px apart`,
    );
    const [H, W] = x.shape;
    const captions: string[] = [];
    for (const channel of picked) {
      const where = tf.tidy(
        () =>
          g2
            .slice([0, channel], [rows * cols, 1])
            .flatten()
            .argMax()
            .dataSync()[0],
      );
      const [y, xx] = [Math.floor(where / cols), where % cols];
      const box = inputBox(rf, y, xx, [H, W]);
      const g = await guidedBackprop(model, x, { layer, channel, y, x: xx });
      try {
        const [h, w] = [box.bottom - box.top, box.right - box.left];
        const inside = shareAt(g, box.top, box.left, h, w);
        // The middle of the square: half its side, a quarter of its area.
        const [ch, cw] = [Math.round(h / 2), Math.round(w / 2)];
        const centre = shareAt(g, box.top + Math.floor((h - ch) / 2), box.left + Math.floor((w - cw) / 2), ch, cw);
        console.log(
          `channel ${channel} at (${y}, ${xx}): sees rows ${box.top}-${box.bottom - 1}, columns ` +
            `${box.left}-${box.right - 1}; ${(100 * inside).toFixed(1)}% of its guided backprop inside, ` +
            `${(100 * centre).toFixed(0)}% in the middle quarter of the square`,
        );
        found.push({ channel, y, x: xx, box, inside, centre });
        crops.push(x.slice([box.top, box.left, 0], [h, w, 3]) as tf.Tensor3D);
        crops.push(tf.tidy(() => asRgb(g.slice([box.top, box.left, 0], [h, w, 3]))));
        captions.push(`channel ${channel} at (${y}, ${xx}): the photo`, 'its guided backprop');
      } finally {
        g.dispose();
      }
    }
    const batch = tf.tidy(() => tf.stack(crops) as tf.Tensor4D);
    try {
      const figure = widgetShow.images(batch, {
        cols: 4,
        size: o.size ?? 160,
        captions,
        title:
          o.title ??
          `${found.length === 2 ? 'two' : found.length} neurons of ${layer}: receptive field and guided backprop`,
      });
      return echoAsFigure({ neurons: found, figure }, figure);
    } finally {
      batch.dispose();
    }
  } finally {
    tf.dispose([x, ...crops]);
    grid?.dispose();
  }
}

/**
 * `await show.guidedNeurons('mobilenet', 'dog', 'conv_pw_5_relu')`: guided backprop of single neurons of a layer
 * (the strongest position of each of the `count` channels that respond most), each on its receptive field's crop.
 */
export const showGuidedNeurons = namedAsync('show.guidedNeurons', neurons);
