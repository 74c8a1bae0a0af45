/**
 * What an ImageNet network makes of the 1,000 photos of 'imagenet-sample', computed once and
 * stored (`cached`; MobileNet's ship with cnnviz in notebooks/results): the feature vector of
 * each photo, its top-5 classes, and per layer the strongest activation of each channel in each
 * photo. One forward pass per photo gives all of them; the photos are loaded 25 at a time, so
 * memory never holds more than that at 224 x 224. Each part is its own cache entry, so asking
 * for one more layer later computes only when it is missing.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../../common';
import { load as loadDataset } from '../../data/datasets';
import { getLayer } from '../../models/layers';
import { LongWorkOptions } from '../../runtime/cancel';
import { cached } from '../../runtime/cache';
import { defaultFeatureLayer } from './features';
import { strongestActivations, StrongestActivations } from './strongest';

export interface SampleActivationsOptions extends LongWorkOptions {
  /** Layers whose strongest activation per photo and channel is wanted (default none). */
  layers?: string[];
  /** Layer of the feature vectors (default: the last global average pool before the scores; MobileNet's 768). */
  featureLayer?: string;
  /** The first `count` photos only (default all 1,000). */
  count?: number;
  /** Side of the photos as the network sees them (default 224, 'cover'). */
  size?: number;
  /** Compute again even when stored. */
  recompute?: boolean;
  /** Print nothing about loading or computing. */
  quiet?: boolean;
}

export interface SampleActivations {
  /** Photos (1,000 unless `count`). */
  n: number;
  /** [n * dim] feature vectors, row-major, stored as bytes: each value a multiple of `scale`. */
  features: Float32Array;
  dim: number;
  /** [n * 5] the five most probable classes of each photo (the model's class indices), best first. */
  top5: Int32Array;
  /** Per requested layer: [n * channels] strongest activations (stored on 65,536 steps from least to largest). */
  strongest: StrongestActivations;
}

const DATA = 'imagenet-sample';

/**
 * The layer whose output is a photo's feature vector: the last global average pool when it is not
 * the class scores themselves (MobileNet's 768 values), else the model's default feature layer.
 */
export function sampleFeatureLayer(model: tf.LayersModel): string {
  const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  const pools = model.layers.filter(
    (l) => l.getClassName() === 'GlobalAveragePooling2D' && (l.outputShape as number[])[1] !== classes,
  );
  return pools.length ? pools[pools.length - 1].name : defaultFeatureLayer(model);
}

/** Feature vectors, top-5 classes and strongest activations of the 1,000 photos (stored once computed). */
export async function sampleActivations(
  model: tf.LayersModel,
  opts: SampleActivationsOptions = {},
): Promise<SampleActivations> {
  const caller = 'sampleActivations';
  const featureLayer = opts.featureLayer ?? sampleFeatureLayer(model);
  const layers = opts.layers ?? [];
  for (const l of [featureLayer, ...layers]) getLayer(model, l, caller);
  const size = opts.size ?? 224;
  if (!Number.isInteger(size) || size < 32) fail(caller, `size must be an integer >= 32, got ${size}`);
  const count = opts.count ?? 1000;
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    fail(caller, `count must be an integer in 1..1000, got ${count}`);
  const data = { data: DATA, count: count, size: size, fit: 'cover' };
  const output = model.outputs[0].sourceLayer.name;
  // One pass gives every missing part; it runs at most once, for all layers asked for.
  let pass: Promise<StrongestActivations> | undefined;
  const run = () =>
    (pass ??= strongestActivations(
      model,
      {
        count: count,
        slice: async (s: number, k: number) =>
          (await loadDataset(DATA, { size: size, classes: Array.from({ length: k }, (_, i) => s + i) })).images,
      },
      { layers: [featureLayer, output, ...layers], signal: opts.signal, onProgress: opts.onProgress },
    ));
  const cacheOpts = { recompute: opts.recompute, quiet: opts.quiet };
  const feats = await cached(
    'imagenet-features',
    { weights: model, ...data, layer: featureLayer },
    async () => {
      const { values, channels } = (await run())[featureLayer];
      const scale = values.reduce((m, x) => Math.max(m, x), 0) / 255 || 1;
      return { scale: scale, dim: channels, bytes: Uint8Array.from(values, (x) => Math.round(x / scale)) };
    },
    cacheOpts,
  );
  const top5 = await cached(
    'imagenet-top5',
    { weights: model, ...data, layer: output },
    async () => {
      const { values, channels } = (await run())[output];
      const out = new Int32Array(count * 5);
      for (let i = 0; i < count; i++) {
        const row = values.subarray(i * channels, (i + 1) * channels);
        const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
        out.set(order.slice(0, 5), i * 5);
      }
      return out;
    },
    cacheOpts,
  );
  const strongest: StrongestActivations = {};
  for (const layer of layers) {
    const stored = await cached(
      'imagenet-strongest',
      { weights: model, ...data, layer: layer },
      async () => {
        const { values, channels } = (await run())[layer];
        // 65,536 steps from the least to the largest value (pre-activations go below 0).
        const min = values.reduce((m, x) => Math.min(m, x), Infinity);
        const scale = (values.reduce((m, x) => Math.max(m, x), -Infinity) - min) / 65535 || 1;
        const steps = Uint16Array.from(values, (x) => Math.round((x - min) / scale));
        return { min: min, scale: scale, channels: channels, steps: steps };
      },
      cacheOpts,
    );
    strongest[layer] = {
      values: Float32Array.from(stored.steps, (v) => stored.min + v * stored.scale),
      channels: stored.channels,
    };
  }
  return {
    n: count,
    features: Float32Array.from(feats.bytes, (v) => v * feats.scale),
    dim: feats.dim,
    top5: top5,
    strongest: strongest,
  };
}
