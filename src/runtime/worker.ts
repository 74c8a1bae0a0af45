/**
 * A pool worker: its own tfjs with its own wasm backend (and cnnviz's gradient kernels), its
 * own copy of the model's weights; runs batch tasks on the slices it is sent.
 */
import { parentPort } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setup } from './backend';
import { callTask, resolveTask } from './batch_tasks';
import type { WorkerRequest, WorkerReply } from './pool';

let model: tf.LayersModel | undefined;
let modelKey = -1;

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.kind === 'init') {
    await setup({ backend: 'wasm', quiet: true });
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
  if (!model || modelKey !== msg.key) throw new Error(`worker has model ${modelKey}, asked for ${msg.key}`);
  const fn = resolveTask(msg.task);
  const images = tf.tensor4d(msg.data, msg.shape as [number, number, number, number]);
  try {
    const out = await callTask(fn, tf, model, images, msg.options);
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
