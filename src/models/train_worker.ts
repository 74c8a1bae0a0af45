/**
 * Worker thread for data-parallel training: holds a copy of the model, receives the current
 * weights and its share of each batch, returns the gradients of its share.
 */
import { parentPort } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../runtime/backend';
import { logitsOf, lossAndGrads } from './train_step';

export type TrainWorkerRequest =
  | { kind: 'init'; topology: object; backend: string }
  | {
      kind: 'step';
      weights: Float32Array[];
      x: Float32Array;
      shape: [number, number, number, number];
      labels: Int32Array;
      classes: number;
      weight: number;
    };

let model: tf.LayersModel | undefined;
let logits: tf.LayersModel | undefined;

parentPort!.on('message', async (msg: TrainWorkerRequest) => {
  try {
    if (msg.kind === 'init') {
      await setup({ backend: msg.backend as 'wasm', quiet: true, threads: 1 });
      model = await tf.models.modelFromJSON(msg.topology as tf.io.ModelJSON['modelTopology'] as never);
      logits = logitsOf(model);
      parentPort!.postMessage({ kind: 'ready' });
      return;
    }
    const m = model!;
    tf.tidy(() =>
      m.trainableWeights.forEach((w, i) => {
        const v = (w as unknown as { val: tf.Variable }).val;
        v.assign(tf.tensor(msg.weights[i], v.shape));
      }),
    );
    const x = tf.tensor4d(msg.x, msg.shape);
    const y = tf.tensor1d(msg.labels, 'int32');
    const r = lossAndGrads(m, logits!, x, y, msg.classes, msg.weight);
    tf.dispose([x, y]);
    parentPort!.postMessage(
      { kind: 'grads', loss: r.loss, grads: r.grads },
      r.grads.map((g) => g.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort!.postMessage({ kind: 'error', message: (err as Error).stack ?? String(err) });
  }
});
