import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../runtime/backend';
import type { TrainWorkerRequest } from './train_worker';

type Reply =
  { kind: 'ready' } | { kind: 'grads'; loss: number; grads: Float32Array[] } | { kind: 'error'; message: string };

/** The main thread's handle on a training worker (see train_worker.ts). */
export class TrainHelper {
  private waiting: ((r: Reply) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: Reply) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(r);
    });
    worker.on('error', (err) => {
      this.failure = err;
      this.waiting?.({ kind: 'error', message: err.message });
    });
  }

  static async start(model: tf.LayersModel): Promise<TrainHelper> {
    const h = new TrainHelper(new Worker(path.join(__dirname, 'train_worker.js')));
    const topology = model.toJSON(undefined, false) as object;
    await h.request({ kind: 'init', topology, backend: currentBackend()?.backend ?? 'wasm' });
    return h;
  }

  private request(msg: TrainWorkerRequest, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (r) => (r.kind === 'error' ? reject(new Error(`training worker: ${r.message}`)) : resolve(r));
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Gradients of this share of the batch under the given weights; disposes `x`. */
  async step(
    vars: tf.Variable[],
    x: tf.Tensor4D,
    labels: Int32Array,
    classes: number,
    weight: number,
  ): Promise<{ loss: number; grads: Float32Array[] }> {
    const weights = vars.map((v) => (v.dataSync() as Float32Array).slice());
    const data = (x.dataSync() as Float32Array).slice();
    const shape = x.shape;
    x.dispose();
    const lab = labels.slice();
    const r = await this.request({ kind: 'step', weights, x: data, shape, labels: lab, classes, weight }, [
      ...weights.map((w) => w.buffer as ArrayBuffer),
      data.buffer as ArrayBuffer,
      lab.buffer as ArrayBuffer,
    ]);
    if (r.kind !== 'grads') throw new Error('training worker: unexpected reply');
    return r;
  }

  stop(): void {
    void this.worker.terminate();
  }
}
