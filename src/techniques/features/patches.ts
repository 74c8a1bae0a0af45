/**
 * Maximally activating patches: stream many images through the network, keep the k largest
 * activations of one channel, and report the input box (the unit's receptive field) around each.
 */
import * as tf from '@tensorflow/tfjs';
import { inputBox, InputBox } from '../../models/receptive_field';
import { layers as layerInfos } from '../../models/layers';
import { ensureBackend } from '../../runtime/backend';
import { batchFor, releaseBatch, sliceOf, toBatch } from '../core/inputs';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { modelUpTo } from '../core/forward';
import { checkNeuron } from '../core/objective';
import { checkModel, checkInt, fail } from '../../common';

export interface TopActivatingPatchesOptions extends LongWorkOptions {
  layer: string;
  channel: number;
  /** How many patches (default 9). */
  k?: number;
  /** Most positions kept from one image (default 1: k different images). */
  perImage?: number;
  /** Images per forward pass (default 256). */
  batchSize?: number;
}

export interface ActivatingPatch {
  /** Image index in the input batch. */
  index: number;
  activation: number;
  /** Position in the layer's activation map (0, 0 for layers without positions). */
  y: number;
  x: number;
  /** Input region the unit sees, clipped to the image, with how much fell outside (padding). */
  box: InputBox;
}

/** Keeps the k best (activation, index, y, x), ties broken by lower index then position. */
class TopK {
  readonly items: Omit<ActivatingPatch, 'box'>[] = [];
  constructor(readonly k: number) {}
  private better(a: Omit<ActivatingPatch, 'box'>, b: Omit<ActivatingPatch, 'box'>): boolean {
    if (a.activation !== b.activation) return a.activation > b.activation;
    if (a.index !== b.index) return a.index < b.index;
    return a.y !== b.y ? a.y < b.y : a.x < b.x;
  }
  offer(item: Omit<ActivatingPatch, 'box'>): void {
    if (this.items.length === this.k && !this.better(item, this.items[this.k - 1])) return;
    let i = this.items.length;
    while (i > 0 && this.better(item, this.items[i - 1])) i--;
    this.items.splice(i, 0, item);
    if (this.items.length > this.k) this.items.pop();
  }
}

/**
 * The k images (and positions) where channel `channel` of `layer` responds most, best first,
 * each with the input box of the unit's receptive field.
 */
export async function topActivatingPatches(
  model: tf.LayersModel,
  images: tf.Tensor,
  opts: TopActivatingPatchesOptions,
): Promise<ActivatingPatch[]> {
  const caller = 'topActivatingPatches';
  checkModel(model, caller);
  await ensureBackend();
  if (!opts || opts.layer === undefined) {
    fail(caller, `give { layer, channel }; layers of this model: ${model.layers.map((l) => l.name).join(', ')}`);
  }
  const { neuron } = checkNeuron(model, { layer: opts.layer, channel: opts.channel }, caller);
  const k = checkInt(caller, 'k', opts.k, { dflt: 9 });
  const perImage = checkInt(caller, 'perImage', opts.perImage, { dflt: 1 });
  const sub = modelUpTo(model, neuron.layer, caller);
  const rf = layerInfos(model).find((l) => l.name === neuron.layer)?.receptiveField ?? null;
  const work = new Work(caller, opts);
  const batch = toBatch(model, images, caller, { lazy: true });
  try {
    const [n, h, w, c] = batch.shape;
    const batchSize = checkInt(caller, 'batchSize', opts.batchSize, { dflt: batchFor(h, w, c, 256) });
    const top = new TopK(k);
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const channelMap = tf.tidy(() => {
        const y = sub.predict(sliceOf(batch, start, b)) as tf.Tensor;
        const begin = y.shape.map((_, a) => (a === y.rank - 1 ? neuron.channel : 0));
        const size = y.shape.map((d, a) => (a === y.rank - 1 ? 1 : d));
        // [b, rows, cols] of the channel; layers without positions become one position.
        return tf.reshape(tf.slice(y, begin, size), y.rank === 4 ? [b, y.shape[1]!, y.shape[2]!] : [b, 1, 1]);
      });
      const [, mapH, mapW] = channelMap.shape;
      const per = mapH * mapW;
      let values: Float32Array;
      try {
        values = (await channelMap.data()) as Float32Array;
      } finally {
        channelMap.dispose();
      }
      for (let i = 0; i < b; i++) {
        const row = values.subarray(i * per, (i + 1) * per);
        const best = new TopK(perImage);
        for (let p = 0; p < per; p++)
          best.offer({ activation: row[p], index: start + i, y: Math.floor(p / mapW), x: p % mapW });
        for (const item of best.items) top.offer(item);
      }
      await work.progress(start + b, n);
    }
    return top.items.map((item) => ({
      ...item,
      box: rf
        ? inputBox(rf, item.y, item.x, [h, w])
        : { top: 0, left: 0, bottom: h, right: w, padding: { top: 0, left: 0, bottom: 0, right: 0 } },
    }));
  } finally {
    releaseBatch(batch);
  }
}
