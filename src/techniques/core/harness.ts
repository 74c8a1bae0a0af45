/**
 * The opening and closing every image method shares, so each method file holds only its own
 * maths: refuse to run inside a check, pick the backend, check the image against the model (one
 * image becomes a batch of one), run the method on the batch, drop the batch axis again for one
 * image, and free the converted batch whatever happens.
 */
import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../../runtime/backend';
import { refuseInsideCheck } from '../../runtime/guard';
import { Batch, releaseBatch, toBatch, unbatch } from './inputs';

/** The opening: no call inside a check (it would hand out the reference), and a backend. */
export async function begin(caller: string): Promise<void> {
  refuseInsideCheck(caller);
  await ensureBackend();
}

/** `body` on the checked batch; the batch is freed after it, however it ends. */
export async function onBatch<R>(
  model: tf.LayersModel,
  image: tf.Tensor,
  caller: string,
  body: (batch: Batch) => R | Promise<R>,
  opts: { lazy?: boolean } = {},
): Promise<R> {
  const batch = toBatch(model, image, caller, opts);
  try {
    return await body(batch);
  } finally {
    releaseBatch(batch);
  }
}

/** onBatch for a map with a batch axis: [N, ...] for a batch, [...] for one image. */
export function mapOnBatch(
  model: tf.LayersModel,
  image: tf.Tensor,
  caller: string,
  body: (batch: Batch) => tf.Tensor | Promise<tf.Tensor>,
): Promise<tf.Tensor> {
  return onBatch(model, image, caller, async (batch) => unbatch(await body(batch), batch.batched));
}
