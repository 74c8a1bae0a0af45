/**
 * The loop every perturbation method shares (occlusion, SmoothGrad, Integrated Gradients,
 * Kernel SHAP, deletion/insertion): for each image, many altered copies, evaluated a batch at a
 * time, the numbers read back, progress reported, and a stop when aborted. The method supplies
 * only what differs: how a batch of copies is made and scored, and what is kept of the scores.
 */
import * as tf from '@tensorflow/tfjs';
import { threadCount } from '../../runtime/backend';
import { ClassScoreOptions } from '../../runtime/batch_tasks';
import { logitsOutput } from '../../runtime/logits';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { runBatched } from '../../runtime/pool';
import { ReluMode } from './relu_rules';
import { Explained, explainedValues, inputGradient } from './objective';

/** How copies are scored: the explained values, or their gradients with respect to the copies. */
export interface Scoring {
  model: tf.LayersModel;
  /** For one image; repeated over its copies. */
  explained: Explained;
  kind: 'values' | 'gradient';
  relu: ReluMode;
  caller: string;
}

/**
 * Copies with at least this many values each are scored on the worker pool (both cores); smaller
 * ones stay in this thread, where a batch costs less than the copy to a worker. 32x32x3 and up.
 */
let pooledMinValues = 32 * 32 * 3;

/** For tests: route every size to the pool (0) or none (Infinity). Returns the old value. */
export function setPooledMinValues(v: number): number {
  const old = pooledMinValues;
  pooledMinValues = v;
  return old;
}

function pooled(s: Scoring, images: tf.Tensor4D): boolean {
  const [, h, w, c] = images.shape;
  if (
    s.explained.kind !== 'class' ||
    s.relu !== 'normal' ||
    threadCount() < 2 ||
    tf.getBackend() !== 'wasm' ||
    h * w * c < pooledMinValues
  )
    return false;
  // Probabilities are the output (runtime/logits' rule in the worker too); logits need a sub-model to them.
  return s.explained.output === 'probs' || logitsOutput(s.model) !== undefined;
}

/** Makes and scores copies [start, start + b) of the current image; runs inside tf.tidy. */
export type MakeBatch = (start: number, b: number) => tf.Tensor;
/** Receives the scores of copies [start, start + b): b values, or b rows of values. */
export type TakeBatch = (values: Float32Array, start: number, b: number) => void;

/** Makes copies [start, start + b) of the current image as [b, H, W, C]; runs inside tf.tidy. */
export type MakeImages = (start: number, b: number) => tf.Tensor4D;

export class PerturbationLoop {
  readonly work: Work;
  private done = 0;

  /** `total`: copies over all images, for progress (see `expect` when it is not known up front). */
  constructor(
    fn: string,
    opts: LongWorkOptions,
    private total: number,
  ) {
    this.work = new Work(fn, opts);
  }

  /** Says how many copies are still to come (when later images' counts are known only then). */
  expect(remaining: number): void {
    this.total = this.done + remaining;
  }

  /**
   * Evaluates `count` copies in batches of at most `batchSize`. Tensors live only inside each
   * batch; an abort stops between batches (the AbortError names the method).
   */
  async run(count: number, batchSize: number, make: MakeBatch, take: TakeBatch): Promise<void> {
    await this.batches(count, batchSize, async (start, b) => tf.tidy(() => make(start, b)), take);
  }

  /**
   * Like `run`, for methods whose copies are scored the same way (class score or its gradient):
   * the copies are split over the worker pool when that pays, else scored in this thread.
   */
  async runScored(
    count: number,
    batchSize: number,
    makeImages: MakeImages,
    scoring: Scoring,
    take: TakeBatch,
  ): Promise<void> {
    await this.batches(
      count,
      batchSize,
      async (start, b) => {
        const images = tf.tidy(() => makeImages(start, b));
        try {
          return await this.score(images, scoring);
        } finally {
          images.dispose();
        }
      },
      take,
    );
  }

  private async score(images: tf.Tensor4D, scoring: Scoring): Promise<tf.Tensor> {
    const e = scoring.explained;
    const b = images.shape[0];
    if (pooled(scoring, images) && e.kind === 'class') {
      const options: ClassScoreOptions = { targets: Array.from({ length: b }, () => e.targets[0]), output: e.output };
      return runBatched(scoring.model, images, scoring.kind === 'values' ? 'classScores' : 'classGradient', {
        options,
        minPerThread: 1,
        signal: this.work.signal,
        caller: scoring.caller,
      });
    }
    const many: Explained = e.kind === 'class' ? { ...e, targets: new Int32Array(b).fill(e.targets[0]) } : e;
    return scoring.kind === 'values'
      ? explainedValues(scoring.model, images, many, scoring.relu, scoring.caller)
      : inputGradient(scoring.model, images, many, scoring.relu, scoring.caller);
  }

  /** The loop itself: score each batch, read the numbers back, hand them over, report progress. */
  private async batches(
    count: number,
    batchSize: number,
    scoreBatch: (start: number, b: number) => Promise<tf.Tensor>,
    take: TakeBatch,
  ): Promise<void> {
    for (let start = 0; start < count; start += batchSize) {
      this.work.check();
      const b = Math.min(batchSize, count - start);
      const scores = await scoreBatch(start, b);
      let values: Float32Array;
      try {
        values = (await scores.data()) as Float32Array;
      } finally {
        scores.dispose();
      }
      take(values, start, b);
      this.done += b;
      await this.work.progress(this.done, Math.max(this.total, this.done));
    }
  }
}
