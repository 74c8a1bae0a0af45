/**
 * Feature vectors: what a layer (by default the last hidden one) makes of each image, flattened,
 * for nearest neighbours and embeddings. Computed in batches so thousands of images fit.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../models/layers';
import { ensureBackend } from '../runtime/backend';
import { positiveInt, ProgressCallback, releaseBatch, toBatch } from './common';
import { modelUpTo } from './forward';

export interface FeatureVectorsOptions {
  /** Layer whose output is the vector (default: 'features' if the model has it, else the input of the last Dense layer). */
  layer?: string;
  /** Images per forward pass (default 256). */
  batchSize?: number;
  onProgress?: ProgressCallback;
}

/** The penultimate representation: 'features', else whatever feeds the last Dense layer. */
export function defaultFeatureLayer(model: tf.LayersModel): string {
  if (model.layers.some((l) => l.name === 'features')) return 'features';
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1];
  const feeding = last?.inboundNodes[0]?.inboundLayers[0];
  if (feeding && feeding.getClassName() !== 'InputLayer') return feeding.name;
  return model.layers[Math.max(0, model.layers.length - 2)].name;
}

/** [N, D] vectors of `layer` for every image (a Tensor4D batch, or one image giving [1, D]). */
export async function featureVectors(model: tf.LayersModel, images: tf.Tensor, opts: FeatureVectorsOptions = {}): Promise<tf.Tensor2D> {
  const caller = 'featureVectors';
  await ensureBackend();
  const batchSize = positiveInt(opts.batchSize, 256, caller, 'batchSize');
  const layerName = opts.layer ?? defaultFeatureLayer(model);
  getLayer(model, layerName, caller);
  const sub = modelUpTo(model, layerName, caller);
  const batch = toBatch(model, images, caller);
  try {
    const [n, h, w, c] = batch.x.shape;
    let out: Float32Array | undefined;
    let dim = 0;
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const flat = tf.tidy(() => {
        const y = sub.predict(tf.slice(batch.x, [start, 0, 0, 0], [b, h, w, c])) as tf.Tensor;
        return tf.reshape(y, [b, -1]);
      });
      dim = flat.shape[1]!;
      out ??= new Float32Array(n * dim);
      out.set((await flat.data()) as Float32Array, start * dim);
      flat.dispose();
      await opts.onProgress?.({ done: start + b, total: n });
    }
    return tf.tensor2d(out!, [n, dim]);
  } finally {
    releaseBatch(batch);
  }
}

/** Raw pixels as vectors [N, H*W*C], for the lecture's pixel-space neighbours beside feature-space ones. */
export function pixelVectors(images: tf.Tensor): tf.Tensor2D {
  if (images.rank < 3 || images.rank > 4) throw new Error(`pixelVectors: expected images [N, H, W, C] or one image [H, W, C], got shape [${images.shape.join(', ')}]`);
  return tf.tidy(() => tf.reshape(tf.cast(images, 'float32'), [images.rank === 4 ? images.shape[0] : 1, -1]) as tf.Tensor2D);
}
