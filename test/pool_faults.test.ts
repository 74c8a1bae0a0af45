// The worker pool under faults: an aborted call drops its chunks and leaves the pool usable; a
// worker that crashes or is killed fails its call with a clear error and is replaced, so the
// next pooled call succeeds with the right numbers.
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { ABORT_GRACE_MS, closePool, getPool, runBatched } from '../src/runtime/pool';
import { waitFor } from './util/machine';
import { lectureCnn } from '../src/models/architectures';
import { featureVectors, POOL_MIN_IMAGES } from '../src/techniques/features/features';
import { maxDiff } from './util/techniques_fixtures';

describe('worker pool faults', function () {
  this.timeout(180000);
  let model: tf.LayersModel;
  let images: tf.Tensor4D;
  let expected: tf.Tensor;

  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
    model = lectureCnn({ seed: 5 });
    images = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    expected = await runBatched(model, images, 'predict', { threads: 1 });
  });
  after(async () => {
    await closePool();
    tf.dispose([images, expected]);
    model.dispose();
  });

  const pooledPredictIsRight = async () => {
    const out = await runBatched(model, images, 'predict', { threads: 2 });
    assert.ok(maxDiff(out, expected) < 1e-6, 'pooled predictions differ from this thread');
    out.dispose();
  };

  it('a worker that crashes fails the call with a clear error, and the next call succeeds', async () => {
    await pooledPredictIsRight();
    const pool = await getPool(2);
    const replacedBefore = pool.replaced;
    // Functions travel as source text and run in the worker: this one ends the worker thread.
    const crash = (t: typeof tf, m: tf.LayersModel, x: tf.Tensor4D) => {
      process.exit(3);
      return x;
    };
    await assert.rejects(
      runBatched(model, images, crash, { threads: 2, caller: 'crashTest' }),
      /^Error: crashTest: a worker thread of the pool exited with code 3; the pool starts a new one for the next call$/,
    );
    await pooledPredictIsRight();
    assert.ok(pool.replaced > replacedBefore, 'the dead worker was replaced');
  });

  it('a killed worker is replaced and the next pooled call succeeds', async () => {
    const pool = await getPool(2);
    const replacedBefore = pool.replaced;
    await pool.kill(0);
    await pool.kill(1);
    await pooledPredictIsRight();
    assert.strictEqual(pool.replaced, replacedBefore + 2);
  });

  it('an abort drops the chunks still running, stops their workers, and the pool works after', async () => {
    const pool = await getPool(2);
    const replacedBefore = pool.replaced;
    // A chunk that would keep its worker busy for 30 s.
    const slow = (t: typeof tf, m: tf.LayersModel, x: tf.Tensor4D) => {
      const end = Date.now() + 30000;
      while (Date.now() < end);
      return t.clone(x);
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const before = tf.memory().numTensors;
    await assert.rejects(
      runBatched(model, images, slow, { threads: 2, signal: controller.signal, caller: 'slowTest' }),
      /^AbortError: slowTest: aborted$/,
    );
    assert.strictEqual(tf.memory().numTensors, before);
    // The busy workers are terminated at the abort (or ABORT_GRACE_MS after it); the next call gets fresh ones.
    await waitFor(() => pool.stopped === 2, `both busy workers stopped (${ABORT_GRACE_MS} ms grace)`);
    await pooledPredictIsRight();
    assert.strictEqual(pool.replaced, replacedBefore + 2, 'both busy workers were replaced');
  });

  it('featureVectors over the pool: aborted part-way, then complete and right', async () => {
    const n = POOL_MIN_IMAGES;
    const many = tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    try {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      let after = 0;
      const onProgress = () => {
        if (controller.signal.aborted) after++;
        else controller.abort();
      };
      await assert.rejects(
        featureVectors(model, many, { threads: 2, batchSize: 128, signal: controller.signal, onProgress }),
        /^AbortError: featureVectors: aborted$/,
      );
      assert.strictEqual(after, 0, 'progress after the abort');
      assert.strictEqual(tf.memory().numTensors, before);
      const pooled = await featureVectors(model, many, { threads: 2, batchSize: 128 });
      const inline = await featureVectors(model, many, { threads: 1, batchSize: 128 });
      assert.ok(maxDiff(pooled, inline) < 1e-5);
      tf.dispose([pooled, inline]);
    } finally {
      many.dispose();
    }
  });
});
