import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../data/datasets';
import { permutation, mulberry32 } from '../common/random';
import { currentBackend, ensureBackend } from '../runtime/backend';
import { TrainGradients, trainGradients } from '../runtime/batch_tasks';
import { Cancellable, Work } from '../runtime/cancel';
import { PoolBackend, PoolTrainer, poolTrainer } from '../runtime/pool';
import { lectureCnn, CnnOptions } from './architectures';
import { fail } from '../common';

export interface TrainOptions extends Cancellable {
  /** 'mnist' or 'fashion-mnist'. */
  dataset: string;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /** Multiply the learning rate by this after each epoch (default 0.7). */
  lrDecay?: number;
  /** Random shifts of up to this many pixels (0 = none). */
  shift?: number;
  /** Mirror each training image left-right with probability 1/2 (seeded). */
  flip?: boolean;
  seed?: number;
  /**
   * 2 = each batch is computed as two halves whose gradients are added, the second half by a
   * worker of the pool (data-parallel). Default 1 (the whole batch at once on this thread).
   */
  threads?: number;
  /** Use only the first `limit` training images (for quick runs). */
  limit?: number;
  architecture?: CnnOptions;
  /** Called every `progressEvery` steps and at the end of each epoch. */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  seconds: number;
  testAccuracy?: number;
}

export interface TrainResult {
  model: tf.LayersModel;
  testAccuracy: number;
  trainSeconds: number;
  history: Array<{ epoch: number; loss: number; testAccuracy: number; seconds: number }>;
  classNames: string[];
  trainCount: number;
  testCount: number;
}

/** The CLI's two-core schedule (`npm run train` trains two models side by side); not public. */
export interface TrainSchedule {
  /**
   * With threads 2: start the worker only when this promise resolves (e.g. when another training
   * run frees its core); until then this thread computes both halves itself. The weights do not
   * depend on when the worker starts: the halves are the same sums, added in the same order.
   */
  helperAfter?: Promise<unknown>;
}

export interface ScheduledTrainResult extends TrainResult {
  /** With threads 2: when the worker thread started taking half of each batch. */
  helperStarted?: { epoch: number; step: number; seconds: number };
}

/** Accuracy of `model` (softmax outputs) on images/labels, evaluated in batches. */
export async function accuracy(
  model: tf.LayersModel,
  images: tf.Tensor4D,
  labels: Int32Array,
  batchSize = 500,
): Promise<number> {
  let correct = 0;
  const n = images.shape[0];
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    const pred = tf.tidy(() => (model.predict(images.slice(i, size)) as tf.Tensor).argMax(-1));
    const p = (await pred.data()) as Int32Array;
    pred.dispose();
    for (let j = 0; j < size; j++) if (p[j] === labels[i + j]) correct++;
  }
  return correct / n;
}

/**
 * Set every batch-norm layer's moving mean and variance to the statistics of its input over the
 * training images (in order, each layer seeing the layers before it already set). The moving
 * averages kept during training depend on which thread computed which half of a batch; these do
 * not, so the saved weights are the same whatever the schedule (and better estimates).
 */
export async function recalibrateBatchNorm(
  model: tf.LayersModel,
  images: tf.Tensor4D,
  limit = 10000,
  batchSize = 500,
): Promise<void> {
  const n = Math.min(limit, images.shape[0]);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const sub = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
    const channels = (layer.input as tf.SymbolicTensor).shape[3] as number;
    const sum = new Float64Array(channels);
    const sumSq = new Float64Array(channels);
    let count = 0;
    for (let i = 0; i < n; i += batchSize) {
      const size = Math.min(batchSize, n - i);
      const a = tf.tidy(() => sub.predict(images.slice(i, size)) as tf.Tensor4D);
      const v = (await a.data()) as Float32Array;
      a.dispose();
      for (let j = 0; j < v.length; j++) {
        const c = j % channels;
        sum[c] += v[j];
        sumSq[c] += v[j] * v[j];
      }
      count += v.length / channels;
    }
    const mean = Float32Array.from(sum, (x) => x / count);
    const variance = Float32Array.from(sumSq, (x, c) => Math.max(0, x / count - mean[c] * mean[c]));
    const [gamma, beta] = layer.getWeights();
    const fresh = [tf.tensor1d(mean), tf.tensor1d(variance)];
    layer.setWeights([gamma, beta, ...fresh]);
    tf.dispose(fresh);
  }
}

/** Loss and gradients of images [start, end) of a batch, on this thread. */
function shareOnThisThread(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  start: number,
  end: number,
  classes: number,
  weight: number,
): TrainGradients {
  const whole = start === 0 && end === x.shape[0];
  const xs = whole ? x : x.slice(start, end - start);
  try {
    return trainGradients(tf, model, xs, { labels: labels.subarray(start, end), classes, weight });
  } finally {
    if (!whole) xs.dispose();
  }
}

/**
 * Shift each image by a random integer offset in [-shift, shift] (zero fill), and mirror half of them when `flip`;
 * seeded.
 */
function randomShift(x: tf.Tensor4D, shift: number, rand: () => number, flip = false): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const padded = x.pad([
      [0, 0],
      [shift, shift],
      [shift, shift],
      [0, 0],
    ]);
    const ph = h + 2 * shift - 1;
    const pw = w + 2 * shift - 1;
    const boxes: number[] = [];
    for (let i = 0; i < n; i++) {
      const oy = Math.floor(rand() * (2 * shift + 1));
      const ox = Math.floor(rand() * (2 * shift + 1));
      // A box whose right edge comes first is read mirrored by cropAndResize.
      const mirror = flip && rand() < 0.5;
      const [x1, x2] = [ox / pw, (ox + w - 1) / pw];
      boxes.push(oy / ph, mirror ? x2 : x1, (oy + h - 1) / ph, mirror ? x1 : x2);
    }
    const idx = tf.range(0, n, 1, 'int32');
    return tf.image.cropAndResize(
      padded as tf.Tensor4D,
      tf.tensor2d(boxes, [n, 4]),
      idx as tf.Tensor1D,
      [h, w],
      'bilinear',
    ) as tf.Tensor4D;
  });
}

/**
 * Train the lecture CNN on a dataset with a seeded, reproducible loop (fixed batch order,
 * seeded augmentation and initialisation, single-threaded deterministic kernels).
 */
export async function trainCnn(opts: TrainOptions): Promise<TrainResult> {
  return trainCnnScheduled(opts);
}

/** trainCnn with the CLI's schedule, reporting when the helper thread started. */
export async function trainCnnScheduled(opts: TrainOptions & TrainSchedule): Promise<ScheduledTrainResult> {
  const threads = opts.threads ?? 1;
  if (!(threads === 1 || threads === 2)) fail('trainCnn', `threads must be 1 or 2, got ${threads}`);
  await ensureBackend();
  const work = new Work('trainCnn', { signal: opts.signal });
  const seed = opts.seed ?? 1;
  const batchSize = opts.batchSize ?? 64;
  const train = await loadDataset(opts.dataset, { split: 'train', limit: opts.limit });
  let test: Awaited<ReturnType<typeof loadDataset>>;
  try {
    test = await loadDataset(opts.dataset, { split: 'test' });
    work.check();
  } catch (err) {
    train.images.dispose();
    throw err;
  }
  const [, h, w, c] = train.images.shape;
  const model = lectureCnn({ ...opts.architecture, inputShape: [h, w, c], classes: train.classNames.length, seed });
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  let finished = false;
  const classes = train.classNames.length;
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  // Two threads: every batch is two halves. The pool's worker takes the second half from now, or
  // once `helperAfter` resolves.
  const halves = threads === 2;
  let helperWanted = halves && !opts.helperAfter;
  void opts.helperAfter?.then(() => (helperWanted = true));
  let helper: PoolTrainer | undefined;
  let helperStarted: ScheduledTrainResult['helperStarted'];
  const n = train.images.shape[0];
  const steps = Math.ceil(n / batchSize);
  const rand = mulberry32(seed * 7919 + 17);
  const history: TrainResult['history'] = [];
  const t0 = Date.now();
  const every = opts.progressEvery ?? 50;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = permutation(n, seed * 1000 + epoch);
      let lossSum = 0;
      for (let s = 0; s < steps; s++) {
        await work.tick();
        // Let the event loop deliver `helperAfter` (a message from another process, say).
        if (halves && !helperWanted) await new Promise((r) => setImmediate(r));
        if (helperWanted && !helper) {
          const backend = (currentBackend()?.backend ?? 'wasm') as PoolBackend;
          helper = await poolTrainer(model, backend, 'trainCnn');
          helperStarted = { epoch: epoch + 1, step: s + 1, seconds: (Date.now() - t0) / 1000 };
        }
        const batch = order.subarray(s * batchSize, Math.min(n, (s + 1) * batchSize));
        const idx = tf.tensor1d(batch, 'int32');
        const xb = tf.tidy(() => tf.gather(train.images, idx) as tf.Tensor4D);
        const xa = opts.shift || opts.flip ? randomShift(xb, opts.shift ?? 0, rand, opts.flip) : xb;
        const labels = Int32Array.from(batch, (i) => train.labels[i]);
        const weight = 1 / batch.length;
        // Halves: the helper (when running) takes the second half while this thread does the first.
        const half = halves ? Math.ceil(batch.length / 2) : batch.length;
        const second = half < batch.length;
        let theirs: Promise<TrainGradients> | undefined;
        if (second && helper) {
          const xs = xa.slice(half);
          theirs = helper.step(xs, { labels: labels.subarray(half), classes, weight });
          xs.dispose();
        }
        const mine = shareOnThisThread(model, xa, labels, 0, half, classes, weight);
        let loss = mine.loss;
        if (second) {
          const other = theirs
            ? await theirs
            : shareOnThisThread(model, xa, labels, half, batch.length, classes, weight);
          loss += other.loss;
          mine.grads.forEach((g, i) => {
            const o = other.grads[i];
            for (let j = 0; j < g.length; j++) g[j] += o[j];
          });
        }
        tf.dispose([idx, xb, xa]);
        const named: tf.NamedTensorMap = {};
        vars.forEach((v, i) => (named[v.name] = tf.tensor(mine.grads[i], v.shape)));
        optimizer.applyGradients(named as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        tf.dispose(Object.values(named));
        lossSum += loss;
        if (opts.onProgress && (s + 1) % every === 0) {
          await work.call('onProgress', opts.onProgress, {
            epoch: epoch + 1,
            epochs: opts.epochs,
            step: s + 1,
            stepsPerEpoch: steps,
            loss: lossSum / (s + 1),
            seconds: (Date.now() - t0) / 1000,
          });
        }
      }
      // Per-epoch figure on a 1,000-image slice for progress; the full test set once at the end.
      const probe = test.images.slice(0, Math.min(1000, test.images.shape[0]));
      const acc = await accuracy(model, probe, test.labels.subarray(0, probe.shape[0]));
      probe.dispose();
      const entry = { epoch: epoch + 1, loss: lossSum / steps, testAccuracy: acc, seconds: (Date.now() - t0) / 1000 };
      history.push(entry);
      await work.call('onProgress', opts.onProgress, {
        epoch: epoch + 1,
        epochs: opts.epochs,
        step: steps,
        stepsPerEpoch: steps,
        loss: entry.loss,
        seconds: entry.seconds,
        testAccuracy: acc,
      });
      const lr = (optimizer as unknown as { learningRate: number }).learningRate;
      (optimizer as unknown as { learningRate: number }).learningRate = lr * (opts.lrDecay ?? 0.7);
    }
    await recalibrateBatchNorm(model, train.images);
    const trainSeconds = (Date.now() - t0) / 1000;
    const testAccuracy = await accuracy(model, test.images, test.labels);
    work.check();
    finished = true;
    return {
      model,
      testAccuracy,
      trainSeconds,
      history,
      classNames: train.classNames,
      helperStarted,
      trainCount: n,
      testCount: test.images.shape[0],
    };
  } finally {
    // A step still out (a failed run) is dropped; the pool keeps its worker for the next call.
    helper?.close();
    tf.dispose([train.images, test.images]);
    // The optimizer's moments are not returned; a stopped run (aborted or failed) frees its half-trained model too.
    optimizer.dispose();
    if (!finished) model.dispose();
  }
}
