/**
 * The loop every perturbation method shares (occlusion, SmoothGrad, Integrated Gradients,
 * Kernel SHAP, deletion/insertion): for each image, many altered copies, evaluated a batch at a
 * time, the numbers read back, progress reported, and a stop when aborted. The method supplies
 * only what differs: how a batch of copies is made and scored, and what is kept of the scores.
 */
import * as tf from '@tensorflow/tfjs';
import { LongWorkOptions, Work } from '../runtime/cancel';

/** Makes and scores copies [start, start + b) of the current image; runs inside tf.tidy. */
export type MakeBatch = (start: number, b: number) => tf.Tensor;
/** Receives the scores of copies [start, start + b): b values, or b rows of values. */
export type TakeBatch = (values: Float32Array, start: number, b: number) => void;

export class PerturbationLoop {
  readonly work: Work;
  private done = 0;

  /** `total`: copies over all images, for progress (see `expect` when it is not known up front). */
  constructor(fn: string, opts: LongWorkOptions, private total: number) {
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
    for (let start = 0; start < count; start += batchSize) {
      this.work.check();
      const b = Math.min(batchSize, count - start);
      const scores = tf.tidy(() => make(start, b));
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
