/**
 * Feature vectors: what a layer (by default the last hidden one) makes of each image, flattened,
 * for nearest neighbours and embeddings. Computed in batches so thousands of images fit.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { threadCount } from '../../runtime/backend';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { runBatched } from '../../runtime/pool';
import { batchFor, releaseBatch, sliceOf, toBatch } from '../core/inputs';
import { modelUpTo } from '../core/forward';
import { begin } from '../core/harness';
import { checkModel, checkInt, fail } from '../../common';

export interface FeatureVectorsOptions extends LongWorkOptions {
  /**
   * Layer whose output is the vector (default: 'features' if the model has it, else the input of the last Dense
   * layer).
   */
  layer?: string;
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /**
   * Worker threads for big sets (default: setup's threads, i.e. the cores). From `POOL_MIN_IMAGES`
   * images on the wasm backend each round of `batchSize` images per thread is split over the
   * worker pool; 1 keeps everything in this thread.
   */
  threads?: number;
}

/** Below this many images a worker's start and the weight copy cost more than they save. */
export const POOL_MIN_IMAGES = 1024;

/** The penultimate representation: 'features', else whatever feeds the last Dense layer. */
export function defaultFeatureLayer(model: tf.LayersModel): string {
  checkModel(model, 'defaultFeatureLayer');
  if (model.layers.some((l) => l.name === 'features')) return 'features';
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1];
  const feeding = last?.inboundNodes[0]?.inboundLayers[0];
  if (feeding && feeding.getClassName() !== 'InputLayer') return feeding.name;
  return model.layers[Math.max(0, model.layers.length - 2)].name;
}

/** [N, D] vectors of `layer` for every image (a Tensor4D batch, or one image giving [1, D]). */
export async function featureVectors(
  model: tf.LayersModel,
  images: tf.Tensor,
  opts: FeatureVectorsOptions = {},
): Promise<tf.Tensor2D> {
  const caller = 'featureVectors';
  checkModel(model, caller);
  await begin(caller);
  const layerName = opts.layer ?? defaultFeatureLayer(model);
  getLayer(model, layerName, caller);
  const sub = modelUpTo(model, layerName, caller);
  const work = new Work(caller, opts);
  const batch = toBatch(model, images, caller, { lazy: true });
  try {
    const [n, h, w, c] = batch.shape;
    const batchSize = checkInt(caller, 'batchSize', opts.batchSize, { dflt: batchFor(h, w, c, 256) });
    const threads = opts.threads === undefined ? threadCount() : checkInt(caller, 'threads', opts.threads);
    const pooled = threads > 1 && n >= POOL_MIN_IMAGES && tf.getBackend() === 'wasm';
    // A round is one forward pass per thread; progress is reported after each.
    const round = pooled ? batchSize * threads : batchSize;
    let out: Float32Array | undefined;
    let dim = 0;
    for (let start = 0; start < n; start += round) {
      const b = Math.min(round, n - start);
      const flat = pooled
        ? await pooledRound(model, layerName, sliceOf(batch, start, b), threads, b, work.signal)
        : tf.tidy(() => {
            const y = sub.predict(sliceOf(batch, start, b)) as tf.Tensor;
            return tf.reshape(y, [b, -1]);
          });
      try {
        dim = flat.shape[1]!;
        out ??= new Float32Array(n * dim);
        out.set((await flat.data()) as Float32Array, start * dim);
      } finally {
        flat.dispose();
      }
      await work.progress(start + b, n);
    }
    return tf.tensor2d(out!, [n, dim]);
  } finally {
    releaseBatch(batch);
  }
}

/** One round of images through `layer` on the worker pool, flattened to [b, D]. */
async function pooledRound(
  model: tf.LayersModel,
  layer: string,
  images: tf.Tensor4D,
  threads: number,
  b: number,
  signal: AbortSignal | undefined,
): Promise<tf.Tensor2D> {
  try {
    const y = await runBatched(model, images, 'layerOutput', {
      threads,
      minPerThread: 1,
      options: { layer },
      signal,
      caller: 'featureVectors',
    });
    const flat = tf.reshape(y, [b, -1]) as tf.Tensor2D;
    y.dispose();
    return flat;
  } finally {
    images.dispose();
  }
}

/** Raw pixels as vectors [N, H*W*C], for the lecture's pixel-space neighbours beside feature-space ones. */
export function pixelVectors(images: tf.Tensor): tf.Tensor2D {
  if (images.rank < 3 || images.rank > 4)
    fail('pixelVectors', `expected images [N, H, W, C] or one image [H, W, C], got shape [${images.shape.join(', ')}]`);
  return tf.tidy(
    () => tf.reshape(tf.cast(images, 'float32'), [images.rank === 4 ? images.shape[0] : 1, -1]) as tf.Tensor2D,
  );
}
