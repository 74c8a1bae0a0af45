// Training on the worker pool: a pooled training step computes the same loss and gradients as
// this thread, bit for bit, under the weights sent with it; inference on the same pool afterwards
// sees the model's own weights, not the last step's; a worker that dies during training fails the
// step (and trainCnn) with a clear error instead of hanging, and the next run gets a fresh worker.
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { models } from '../src';
import { currentBackend, setup } from '../src/runtime/backend';
import { trainGradients, TrainShare } from '../src/runtime/batch_tasks';
import { closePool, getPool, runBatched } from '../src/runtime/pool';
import type { PoolBackend } from '../src/runtime/pool';
import { lectureCnn } from '../src/models/architectures';
import { maxDiff } from './util/techniques_fixtures';

describe('training on the worker pool', function () {
  this.timeout(180000);
  let model: tf.LayersModel;
  let x: tf.Tensor4D;
  const share: TrainShare = { labels: Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]), classes: 10, weight: 1 / 16 };

  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
    await closePool();
    model = lectureCnn({ seed: 7 });
    x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 13) as tf.Tensor4D;
  });
  after(async () => {
    await closePool();
    x.dispose();
    model.dispose();
  });

  const scaleWeights = (m: tf.LayersModel, by: number) => {
    const scaled = m.getWeights().map((w) => tf.mul(w, by));
    m.setWeights(scaled);
    tf.dispose(scaled);
  };

  it('a pooled step gives the same loss and gradients as this thread, under the weights it is sent', async () => {
    const trainer = await (await getPool(1)).trainer(model);
    for (const by of [1, 0.5]) {
      // Weights changed after the worker got its copy of the model must travel with the step.
      if (by !== 1) scaleWeights(model, by);
      const pooled = await trainer.step(x, share);
      const here = trainGradients(tf, model, x, share);
      assert.strictEqual(pooled.loss, here.loss, `loss with weights x${by}`);
      assert.strictEqual(pooled.grads.length, model.trainableWeights.length);
      pooled.grads.forEach((g, i) =>
        assert.deepStrictEqual(Array.from(g), Array.from(here.grads[i]), `gradient ${i} with weights x${by}`),
      );
      assert.ok(
        here.grads.some((g) => g.some((v) => v !== 0)),
        'all gradients are zero',
      );
    }
  });

  it('inference on the same pool after a step uses the model weights, not the step weights', async () => {
    const original = model.getWeights().map((w) => w.clone());
    const trainer = await (await getPool(1)).trainer(model);
    // The worker trains with other weights; then the model's weights go back to what the worker
    // was loaded with, so only the step's weights would tell them apart.
    scaleWeights(model, 0.25);
    await trainer.step(x, share);
    model.setWeights(original);
    const pooled = await runBatched(model, x, 'predict', { threads: 2 });
    const here = model.predict(x) as tf.Tensor;
    assert.ok(maxDiff(pooled, here) < 1e-6, 'a pool worker predicted with the training step weights');
    tf.dispose([pooled, here, ...original]);
  });

  it('a worker killed during a step rejects it with a clear error; the next trainer gets a fresh one', async () => {
    const pool = await getPool(1);
    const trainer = await pool.trainer(model);
    const step = trainer.step(x, share);
    await pool.kill(0);
    await assert.rejects(step, /^Error: trainCnn: a worker thread of the pool was terminated/);
    await assert.rejects(trainer.step(x, share), /^Error: trainCnn: a worker thread of the pool was terminated/);
    const fresh = await pool.trainer(model);
    const pooled = await fresh.step(x, share);
    const here = trainGradients(tf, model, x, share);
    assert.deepStrictEqual(Array.from(pooled.grads[0]), Array.from(here.grads[0]));
  });

  it('trainCnn with two threads fails with a clear error when its worker dies, and the next run succeeds', async () => {
    const quick = (onProgress?: (p: { step: number }) => void) =>
      models.trainCnn({
        dataset: 'mnist',
        epochs: 1,
        limit: 640,
        batchSize: 64,
        threads: 2,
        seed: 3,
        learningRate: 2e-3,
        progressEvery: 1,
        onProgress,
      });
    let killed = false;
    let kill: Promise<number> | undefined;
    await assert.rejects(
      quick((p) => {
        if (p.step !== 2 || killed) return;
        killed = true;
        // While the next step runs (the main thread posts its half, then waits for the worker's), stop the worker of
        // the pool trainCnn's helper runs on: the shared pool on the backend this thread trains with, looked up now
        // as trainCnn looks it up (a pool fetched before the run could have been replaced since).
        const backend = (currentBackend()?.backend ?? 'wasm') as PoolBackend;
        kill = getPool(1, backend).then((pool) => pool.kill(0));
      }),
      /^Error: trainCnn: a worker thread of the pool was terminated/,
    );
    assert.ok(killed && kill, 'the worker was never killed');
    await kill;
    const ok = await quick();
    assert.strictEqual(ok.history.length, 1);
    assert.ok(ok.testAccuracy > 0.5, `accuracy ${ok.testAccuracy}`);
    ok.model.dispose();
  });
});
