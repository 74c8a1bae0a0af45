/**
 * The strongest activation of every channel of some layers in every image: one forward pass per
 * image for all the layers together, keeping [N, C] per layer instead of the full maps (1,000
 * photos at conv_pw_1 of MobileNet would be 2.4 GB of maps; their maxima are 192 KB). With these
 * stored, the top images of any channel are a sort away, and `topActivatingPatches` with
 * `strongest` runs the network on those few images only.
 */
import * as tf from '@tensorflow/tfjs';
import { fail, checkInt } from '../../common';
import { getLayer } from '../../models/layers';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { begin } from '../core/harness';

/** Images given in slices, loaded on demand (so all of them never sit in memory at once). */
export interface ImageSource {
  count: number;
  /** Images start .. start + n - 1 as [n, H, W, C] in [0, 1]; the caller disposes what it gets. */
  slice(start: number, n: number): Promise<tf.Tensor4D>;
}

export interface StrongestActivationsOptions extends LongWorkOptions {
  /** Layers to keep (any output: [N, H, W, C] keeps the maximum over positions, [N, C] the values). */
  layers: string[];
  /** Images per forward pass (default 25). */
  batchSize?: number;
}

/** Per layer: `values` [N * C] row-major (image-major), and C. */
export type StrongestActivations = Record<string, { values: Float32Array; channels: number }>;

/** For each layer, each image's strongest response of each channel. */
export async function strongestActivations(
  model: tf.LayersModel,
  images: tf.Tensor4D | ImageSource,
  opts: StrongestActivationsOptions,
): Promise<StrongestActivations> {
  const caller = 'strongestActivations';
  await begin(caller);
  if (!opts || !Array.isArray(opts.layers) || opts.layers.length === 0)
    fail(caller, `give { layers: [...] }; layers of this model: ${model.layers.map((l) => l.name).join(', ')}`);
  const outs = opts.layers.map((name) => {
    const layer = getLayer(model, name, caller);
    return (layer.inboundNodes.length > 1 ? layer.getOutputAt(0) : layer.output) as tf.SymbolicTensor;
  });
  const multi = tf.model({ inputs: model.inputs, outputs: outs });
  const batchSize = checkInt(caller, 'batchSize', opts.batchSize, { dflt: 25 });
  const source: ImageSource =
    images instanceof tf.Tensor
      ? { count: images.shape[0], slice: async (s, n) => images.slice([s, 0, 0, 0], [n, -1, -1, -1]) }
      : images;
  const n = source.count;
  const work = new Work(caller, opts);
  const result: StrongestActivations = {};
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const x = await source.slice(start, b);
    let maxima: tf.Tensor[];
    try {
      maxima = tf.tidy(() => {
        const ys = multi.predict(x) as tf.Tensor | tf.Tensor[];
        return (Array.isArray(ys) ? ys : [ys]).map((y) => (y.rank === 4 ? y.max([1, 2]) : y.reshape([b, -1])));
      });
    } finally {
      x.dispose();
    }
    for (let l = 0; l < maxima.length; l++) {
      const m = maxima[l];
      const c = m.shape[1]!;
      const name = opts.layers[l];
      if (!result[name]) result[name] = { values: new Float32Array(n * c), channels: c };
      result[name].values.set((await m.data()) as Float32Array, start * c);
      m.dispose();
    }
    await work.progress(start + b, n);
  }
  return result;
}

/** The indices of the k images where `channel` is strongest, best first (ties: lower index). */
export function topImages(strongest: { values: Float32Array; channels: number }, channel: number, k: number): number[] {
  const { values, channels } = strongest;
  const n = values.length / channels;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => values[b * channels + channel] - values[a * channels + channel] || a - b);
  return idx.slice(0, k);
}
