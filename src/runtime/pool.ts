/**
 * The worker pool, the one place that starts and stops cnnviz's worker threads. Each worker has
 * its own backend (wasm unless asked otherwise; tfjs-backend-wasm runs one thread in Node) and
 * its own copy of a model, and serves two kinds of work over one request/reply protocol:
 * batch tasks over slices of a batch (runBatched: inference, input gradients) and training
 * steps (trainer(): the gradients of a share of a batch under the weights sent with it).
 * Crashes, exits and aborts are handled the same way for both: the call fails with a clear
 * error, and a dead worker is replaced when the pool is next used.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { threadCount } from './backend';
import {
  BatchTask,
  BuiltinTask,
  builtinSlicers,
  callTask,
  OptionSlicer,
  resolveTask,
  TrainGradients,
  TrainShare,
} from './batch_tasks';
import { AbortError, throwIfAborted, workSignal } from './cancel';
import { InternalError, fail } from '../common';

export type SerializedTask = BuiltinTask | { module: string; name: string } | { source: string };

export type WorkerRequest =
  | { kind: 'init'; id: number; backend: PoolBackend }
  | { kind: 'model'; id: number; key: number; artifacts: tf.io.ModelArtifacts }
  | {
      kind: 'run';
      id: number;
      key: number;
      task: SerializedTask;
      options: unknown;
      data: Float32Array;
      shape: number[];
    }
  | {
      /** A training step: set the trainable weights, return the gradients of this share of the batch. */
      kind: 'step';
      id: number;
      key: number;
      weights: Float32Array[];
      data: Float32Array;
      shape: [number, number, number, number];
      share: TrainShare;
    };

export type WorkerReply =
  | { kind: 'ready'; id: number }
  | { kind: 'result'; id: number; data: Float32Array | Int32Array; shape: number[]; dtype: tf.DataType }
  | ({ kind: 'gradients'; id: number } & TrainGradients)
  | { kind: 'error'; id: number; message: string };

/** The backend a pool's workers run (the pool serves batch tasks only on wasm; training on the caller's backend). */
export type PoolBackend = 'wasm' | 'cpu' | 'tensorflow';

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };

let nextId = 1;

/**
 * A chunk left running by a failed call (another worker crashed) gets this long (ms) before its worker is terminated.
 */
export const ABORT_GRACE_MS = 250;

class PoolWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Requests posted and not answered yet (whether or not anyone still waits for them). */
  private readonly inFlight = new Set<number>();
  /** Why this worker can take no more work (it crashed, exited or was terminated). */
  dead: Error | undefined;
  /** Model key and weight bytes this worker holds. */
  key = -1;
  weights: Uint8Array | undefined;
  /** The weights' data objects when they were sent (same objects: same weights). */
  dataIds: object[] | undefined;
  readonly started: Promise<void>;

  constructor(script: string, backend: PoolBackend) {
    this.worker = new Worker(script);
    this.worker.unref();
    this.worker.on('message', (msg: WorkerReply) => this.settle(msg));
    this.worker.on('error', (err) => this.fail(`failed: ${err instanceof Error ? err.message : String(err)}`));
    this.worker.on('exit', (code) => this.fail(`exited with code ${code}`));
    this.started = this.call({ kind: 'init', id: nextId++, backend }).then(() => undefined);
    this.started.catch(() => undefined); // reported to whoever awaits it
  }

  call(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.inFlight.add(msg.id);
      // Keep the process alive only while this worker has work.
      this.worker.ref();
      this.worker.postMessage(msg, transfer);
    });
  }

  private settle(msg: WorkerReply): void {
    this.inFlight.delete(msg.id);
    if (this.inFlight.size === 0) this.worker.unref();
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.kind === 'error') p.reject(new Error(msg.message));
    else p.resolve(msg);
  }

  private fail(what: string): void {
    this.dead ??= new Error(`a worker thread of the pool ${what}; the pool starts a new one for the next call`);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    this.inFlight.clear();
  }

  /**
   * Stop waiting for request `id` (its answer, if it comes, is dropped). A chunk still running
   * after ABORT_GRACE_MS is stopped by terminating the worker, so a failed call leaves no work
   * behind; the pool replaces the worker when it is next used.
   */
  abandon(id: number): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.reject(new Error('abandoned'));
    if (!this.inFlight.has(id)) return;
    const timer = setTimeout(() => {
      if (this.inFlight.has(id)) void this.terminate();
    }, ABORT_GRACE_MS);
    timer.unref();
  }

  /** Stops a worker still busy (with a chunk, or starting, or loading weights): the pool replaces it on next use. */
  stopIfBusy(): void {
    if (this.inFlight.size > 0) void this.terminate();
  }

  terminate(): Promise<number> {
    this.dead ??= new Error('a worker thread of the pool was terminated');
    return this.worker.terminate();
  }
}

const modelKeys = new WeakMap<tf.LayersModel, number>();
let nextModelKey = 1;

async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved!;
  if (Array.isArray(a.weightData)) a.weightData = tf.io.concatenateArrayBuffers(a.weightData);
  return a;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

function serialize<O>(task: BatchTask<O>): SerializedTask {
  if (typeof task === 'function') return { source: task.toString() };
  resolveTask(task); // fail here, with the list of valid names, rather than in every worker
  return task;
}

function modelKey(model: tf.LayersModel): number {
  let key = modelKeys.get(model);
  if (key === undefined) {
    key = nextModelKey++;
    modelKeys.set(model, key);
  }
  return key;
}

/** Prefix a failure with the public name called (an abort keeps its own message). */
function named(err: unknown, caller: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && message.startsWith(`${caller}:`)) return err;
  return new Error(`${caller}: ${message}`);
}

/** A set of worker threads (it grows on demand, never shrinks); see runBatched and trainer for the entry points. */
export class WorkerPool {
  private readonly workers: PoolWorker[];
  private readonly script = path.join(__dirname, 'worker.js');
  private closed = false;
  /** How many workers have been replaced so far (for tests and diagnostics). */
  replaced = 0;

  constructor(
    size: number,
    readonly backend: PoolBackend = 'wasm',
  ) {
    if (!Number.isInteger(size) || size < 1) fail('WorkerPool', `size must be a positive integer, got ${size}`);
    this.workers = Array.from({ length: size }, () => new PoolWorker(this.script, backend));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Workers stopped (crashed, exited or terminated) and not replaced yet (for tests and diagnostics). */
  get stopped(): number {
    return this.workers.filter((w) => w.dead).length;
  }

  /** Start more workers until there are `size`. */
  grow(size: number): void {
    while (this.workers.length < size) this.workers.push(new PoolWorker(this.script, this.backend));
  }

  /** Workers that crashed, exited or were stopped after an abort are replaced by fresh ones. */
  private replaceDead(): void {
    for (let i = 0; i < this.workers.length; i++) {
      if (this.workers[i].dead) {
        this.workers[i] = new PoolWorker(this.script, this.backend);
        this.replaced++;
      }
    }
  }

  /** Resolves when every worker has started its backend. */
  async ready(): Promise<void> {
    this.replaceDead();
    await Promise.all(this.workers.map((w) => w.started));
  }

  /** Terminates worker i as a crash would (for tests of the recovery). */
  kill(i: number): Promise<number> {
    return this.workers[i].terminate();
  }

  /**
   * Run `task` on `images` split into `parts` contiguous slices (one per worker, parts <= size);
   * results are joined along the first axis, in order.
   */
  async run<O>(
    model: tf.LayersModel,
    images: tf.Tensor4D,
    task: BatchTask<O>,
    options: O,
    parts = this.size,
    slice?: OptionSlicer<O>,
    signal?: AbortSignal,
    caller = 'runBatched',
  ): Promise<tf.Tensor> {
    if (this.closed) fail('WorkerPool', 'used after close()');
    throwIfAborted(signal, caller);
    this.replaceDead();
    const used = this.workers.slice(0, Math.max(1, Math.min(parts, this.size, images.shape[0])));
    const posted: Array<[PoolWorker, number]> = [];
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError(caller, signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([this.runOn(used, model, images, task, options, slice, posted), aborted]);
    } catch (err) {
      // Chunks still out are dropped; their workers stay usable (or are replaced if they do not stop).
      for (const [w, id] of posted) w.abandon(id);
      // Aborted: a worker still busy for this call (a chunk, its start, the weights) is stopped
      // now, so the machine goes quiet at once; the pool starts a fresh one when next used.
      if (signal?.aborted) for (const w of used) w.stopIfBusy();
      if (signal?.aborted) throw new AbortError(caller, signal.reason);
      throw named(err, caller);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Give each worker in `used` the model with its current weights, unless it has them already.
   * Returns the model's key.
   */
  private async load(used: PoolWorker[], model: tf.LayersModel): Promise<number> {
    const key = modelKey(model);
    // Weights change by assignment, which gives a variable new data: the same data objects as
    // last time mean the same weights, and the serialisation and byte comparison are skipped.
    const dataIds = model.weights.map((w) => (w.read() as unknown as { dataId: object }).dataId);
    const unchanged = (w: PoolWorker): boolean =>
      w.key === key &&
      w.dataIds !== undefined &&
      w.dataIds.length === dataIds.length &&
      w.dataIds.every((d, i) => d === dataIds[i]);
    let artifacts: tf.io.ModelArtifacts | undefined;
    let bytes: Uint8Array | undefined;
    await Promise.all(
      used.map(async (w) => {
        await w.started;
        if (unchanged(w)) return;
        if (!artifacts) {
          artifacts = await artifactsOf(model);
          bytes = new Uint8Array(artifacts.weightData as ArrayBuffer);
        }
        if (!(w.key === key && sameBytes(w.weights, bytes!)))
          await w.call({ kind: 'model', id: nextId++, key, artifacts });
        w.key = key;
        w.weights = bytes;
        w.dataIds = dataIds;
      }),
    );
    return key;
  }

  private async runOn<O>(
    used: PoolWorker[],
    model: tf.LayersModel,
    images: tf.Tensor4D,
    task: BatchTask<O>,
    options: O,
    slice: OptionSlicer<O> | undefined,
    posted: Array<[PoolWorker, number]>,
  ): Promise<tf.Tensor> {
    const serial = serialize(task);
    const key = await this.load(used, model);
    const [n, ...rest] = images.shape;
    const per = rest.reduce((p, q) => p * q, 1);
    const all = (await images.data()) as Float32Array;
    const bounds = used.map((_, i) => [Math.floor((i * n) / used.length), Math.floor(((i + 1) * n) / used.length)]);
    const replies = await Promise.all(
      used.map((w, i) => {
        const [s, e] = bounds[i];
        const data = all.slice(s * per, e * per);
        const own = slice ? slice(options, s, e) : options;
        const id = nextId++;
        posted.push([w, id]);
        return w.call({ kind: 'run', id, key, task: serial, options: own, data, shape: [e - s, ...rest] }, [
          data.buffer as ArrayBuffer,
        ]);
      }),
    );
    return join(replies as Array<Extract<WorkerReply, { kind: 'result' }>>);
  }

  /**
   * A training helper on the pool's first worker, holding a copy of `model` (its topology; the
   * weights travel with each step). Errors name `caller`.
   */
  async trainer(model: tf.LayersModel, caller = 'trainCnn'): Promise<PoolTrainer> {
    if (this.closed) fail('WorkerPool', 'used after close()');
    try {
      await this.ready();
      const w = this.workers[0];
      return new PoolTrainer(w, model, await this.load([w], model), caller);
    } catch (err) {
      throw named(err, caller);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Data-parallel training on one pool worker: each step sends the model's current trainable
 * weights and a share of the batch, and gets back that share's loss and gradients (the same
 * computation as trainGradients in this thread).
 */
export class PoolTrainer {
  private readonly inFlight = new Set<number>();

  constructor(
    private readonly worker: PoolWorker,
    private readonly model: tf.LayersModel,
    private readonly key: number,
    private readonly caller: string,
  ) {}

  /**
   * Post a step at once (synchronously, so the worker computes while this thread goes on with
   * its own share) and resolve with the worker's gradients. `x` stays the caller's. A worker that
   * crashes or exits meanwhile rejects the step with a clear error; it never hangs.
   */
  step(x: tf.Tensor4D, share: TrainShare): Promise<TrainGradients> {
    const weights = this.model.trainableWeights.map((w) => (w.read().dataSync() as Float32Array).slice());
    const data = (x.dataSync() as Float32Array).slice();
    const labels = share.labels.slice();
    const id = nextId++;
    const msg: WorkerRequest = {
      kind: 'step',
      id,
      key: this.key,
      weights,
      data,
      shape: x.shape,
      share: { ...share, labels },
    };
    // The worker's weights now differ from any it was loaded with: a later batch task reloads them.
    this.worker.weights = undefined;
    this.worker.dataIds = undefined;
    this.inFlight.add(id);
    const transfer = [...weights.map((w) => w.buffer as ArrayBuffer), data.buffer as ArrayBuffer, labels.buffer];
    const reply = this.worker.call(msg, transfer as ArrayBuffer[]).then(
      (r) => {
        this.inFlight.delete(id);
        if (r.kind !== 'gradients') throw new InternalError(`a training step got a '${r.kind}' reply`);
        return { loss: r.loss, grads: r.grads };
      },
      (err: unknown) => {
        this.inFlight.delete(id);
        throw named(err, this.caller);
      },
    );
    reply.catch(() => undefined); // reported to whoever awaits it
    return reply;
  }

  /** Drop the steps still out (a failed run): a worker still busy with one after a grace time is stopped. */
  close(): void {
    for (const id of this.inFlight) this.worker.abandon(id);
    this.inFlight.clear();
  }
}

function join(parts: Array<Extract<WorkerReply, { kind: 'result' }>>): tf.Tensor {
  const [first] = parts;
  const rows = parts.reduce((s, p) => s + p.shape[0], 0);
  const size = parts.reduce((s, p) => s + p.data.length, 0);
  const out = first.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return tf.tensor(out, [rows, ...first.shape.slice(1)], first.dtype);
}

let shared: WorkerPool | undefined;

/**
 * The process-wide pool, with at least `size` workers on `backend` (a pool on another backend is
 * replaced; a smaller one grows). Batch tasks and training share it.
 */
export async function getPool(size: number, backend: PoolBackend = 'wasm'): Promise<WorkerPool> {
  if (shared && shared.backend !== backend) await closePool();
  shared ??= new WorkerPool(size, backend);
  shared.grow(size);
  await shared.ready();
  return shared;
}

/**
 * A training helper on the shared pool (see WorkerPool.trainer), its workers on the backend this
 * thread trains with; a worker that fails to start rejects with an error naming `caller`.
 */
export async function poolTrainer(model: tf.LayersModel, backend: PoolBackend, caller: string): Promise<PoolTrainer> {
  let pool: WorkerPool;
  try {
    pool = await getPool(1, backend);
  } catch (err) {
    throw named(err, caller);
  }
  return pool.trainer(model, caller);
}

/** Stop the shared pool's workers (a later runBatched starts new ones). */
export async function closePool(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}

export interface RunBatchedOptions<O> {
  /** Worker threads; default setup({ threads }) (the number of cores). 1 runs in this thread. */
  threads?: number;
  /** Below this many images per thread the batch runs in this thread (workers cost a copy). */
  minPerThread?: number;
  /** Passed to the task. */
  options?: O;
  /** Stops the call: chunks not yet done are dropped (the workers stay usable). Default: the kernel cell's. */
  signal?: AbortSignal;
  /** Name in error messages (default 'runBatched'). */
  caller?: string;
  /** How the options split with the batch; built-in tasks know theirs (per-image targets). */
  slice?: OptionSlicer<O>;
}

/**
 * Apply `task` to a batch of images, split over worker threads when the backend is wasm, more
 * than one thread is allowed and the batch is big enough; otherwise in this thread. Returns a
 * tensor whose first axis matches the images' (the caller owns it).
 *
 *   const grads = await runBatched(model, images, 'inputGradient', { options: { target: 3 } });
 *   const feats = await runBatched(model, images, (tf, m, x) => m.predict(x) as tf.Tensor);
 */
export async function runBatched<O = unknown>(
  model: tf.LayersModel,
  images: tf.Tensor4D,
  task: BatchTask<O>,
  opts: RunBatchedOptions<O> = {},
): Promise<tf.Tensor> {
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    const got = images instanceof tf.Tensor ? `shape [${images.shape}]` : typeof images;
    fail('runBatched', `images must be a Tensor4D [N, H, W, C], got ${got}`);
  }
  const threads = opts.threads ?? threadCount();
  if (!Number.isInteger(threads) || threads < 1)
    fail('runBatched', `threads must be a positive integer, got ${threads}`);
  const minPer = opts.minPerThread ?? 2;
  const n = images.shape[0];
  const parts = Math.min(threads, Math.floor(n / minPer));
  const options = (opts.options ?? {}) as O;
  const caller = opts.caller ?? 'runBatched';
  const signal = workSignal(opts.signal, caller);
  throwIfAborted(signal, caller);
  if (parts < 2 || tf.getBackend() !== 'wasm') {
    return callTask(resolveTask(task), tf, model, images, options);
  }
  const pool = await getPool(threads);
  const slice =
    opts.slice ?? (typeof task === 'string' ? (builtinSlicers[task] as OptionSlicer<O> | undefined) : undefined);
  return pool.run(model, images, task, options, parts, slice, signal, caller);
}
