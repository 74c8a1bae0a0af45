/**
 * A pool worker: its own tfjs with its own backend (wasm, with cnnviz's gradient kernels, unless
 * the pool asks for another) and its own copy of a model. Serves the pool's requests: batch
 * tasks on the slices it is sent, and training steps (gradients of a share of a batch).
 */
import { parentPort } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setup } from './backend';
import { assignTrainable, callTask, resolveTask, trainGradients } from './batch_tasks';
import type { WorkerRequest, WorkerReply } from './pool';
import { InternalError } from '../common';

let model: tf.LayersModel | undefined;
let modelKey = -1;

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

function current(key: number): tf.LayersModel {
  if (!model || modelKey !== key) throw new InternalError(`worker has model ${modelKey}, asked for ${key}`);
  return model;
}

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.kind === 'init') {
    await setup({ backend: msg.backend, quiet: true, threads: 1 });
    reply({ kind: 'ready', id: msg.id });
    return;
  }
  if (msg.kind === 'model') {
    model?.dispose();
    model = await tf.loadLayersModel(tf.io.fromMemory(msg.artifacts));
    modelKey = msg.key;
    reply({ kind: 'ready', id: msg.id });
    return;
  }
  if (msg.kind === 'step') {
    const m = current(msg.key);
    assignTrainable(tf, m, msg.weights);
    const x = tf.tensor4d(msg.data, msg.shape);
    try {
      const { loss, grads } = trainGradients(tf, m, x, msg.share);
      reply(
        { kind: 'gradients', id: msg.id, loss, grads },
        grads.map((g) => g.buffer as ArrayBuffer),
      );
    } finally {
      x.dispose();
    }
    return;
  }
  const fn = resolveTask(msg.task);
  const images = tf.tensor4d(msg.data, msg.shape as [number, number, number, number]);
  try {
    const out = await callTask(fn, tf, current(msg.key), images, msg.options);
    const data = (await out.data()) as Float32Array | Int32Array;
    const shape = out.shape.slice();
    const dtype = out.dtype;
    out.dispose();
    const copy = data instanceof Float32Array ? new Float32Array(data) : new Int32Array(data);
    reply({ kind: 'result', id: msg.id, data: copy, shape, dtype }, [copy.buffer as ArrayBuffer]);
  } finally {
    images.dispose();
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((err: unknown) =>
    reply({ kind: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
