// Cancellation: every long-running function, aborted before it starts and part-way through,
// rejects with an AbortError that names it, calls no callback after the abort, and leaves the
// tensor count where it was.
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { AbortError, isAbortError, Work } from '../src/runtime/cancel';
import { lectureCnn } from '../src/models/architectures';
import { trainCnn } from '../src/models/train';
import { classVisualization } from '../src/techniques/features/class_visualization';
import { featureVisualization } from '../src/techniques/features/feature_visualization';
import { objectives } from '../src/techniques/features/objectives';
import { deletionScore, insertionScore } from '../src/techniques/attribution/deletion';
import { featureVectors } from '../src/techniques/features/features';
import { gridLayout } from '../src/techniques/embedding/grid_layout';
import { integratedGradients } from '../src/techniques/attribution/integrated_gradients';
import { kernelPca } from '../src/techniques/embedding/kernel_pca';
import { kernelShap } from '../src/techniques/attribution/kernel_shap';
import { occlusion } from '../src/techniques/attribution/occlusion';
import { topActivatingPatches } from '../src/techniques/features/patches';
import { randomizationCheck } from '../src/techniques/attribution/randomization';
import { saliency } from '../src/techniques/attribution/saliency';
import { smoothGrad } from '../src/techniques/attribution/smoothgrad';
import { tsne } from '../src/techniques/embedding/tsne';
import { umap } from '../src/techniques/embedding/umap';
import { randn, smallCnn, uniform, useWasm } from './util/techniques_fixtures';

/** What a case needs: run the function with a signal, and a hook that says "the work has started". */
interface Case {
  name: string;
  /** Runs the function; `started()` is called from its progress callback (or a timer) once work is under way. */
  run: (signal: AbortSignal, started: () => void) => Promise<unknown>;
  /** No progress callback: abort after this many ms instead (the input takes far longer). */
  timerMs?: number;
}

function expectAbort(name: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AbortError, `expected an AbortError, got ${String(err)}`);
    assert.strictEqual(err.name, 'AbortError');
    assert.ok(isAbortError(err));
    assert.match(err.message, new RegExp(`^${name}: aborted`));
    return true;
  };
}

describe('cancellation of long work', function () {
  this.timeout(120000);
  let model: tf.Sequential;
  let image: tf.Tensor3D;
  let batch: tf.Tensor4D;
  let many: tf.Tensor4D;
  let cnn: tf.LayersModel;
  let digits: tf.Tensor4D;
  const points = (n: number, d: number, seed: number) => ({ data: randn(n * d, seed), rows: n, cols: d });

  before(async () => {
    await useWasm();
    model = smallCnn({ size: 12, classes: 4, seed: 3 });
    image = tf.tensor3d(uniform(12 * 12, 5), [12, 12, 1]);
    batch = tf.tensor4d(uniform(3 * 12 * 12, 6), [3, 12, 12, 1]);
    many = tf.tensor4d(uniform(64 * 12 * 12, 7), [64, 12, 12, 1]);
    cnn = lectureCnn({ seed: 5 });
    digits = tf.randomUniform([40, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
  });
  after(() => {
    tf.dispose([image, batch, many, digits]);
    model.dispose();
    cnn.dispose();
  });

  const cases: Case[] = [
    {
      name: 'tsne',
      run: (signal, started) => tsne(points(300, 8, 1), { iterations: 2000, reportEvery: 5, signal, onStep: started }),
    },
    {
      name: 'umap',
      run: (signal, started) => umap(points(300, 8, 2), { epochs: 2000, reportEvery: 5, signal, onStep: started }),
    },
    { name: 'kernelPca', timerMs: 15, run: (signal) => kernelPca(points(1000, 16, 3), { method: 'exact', signal }) },
    {
      name: 'gridLayout',
      timerMs: 15,
      run: (signal) => gridLayout({ points: uniform(2 * 1600, 4), n: 1600 }, { signal }),
    },
    {
      name: 'featureVectors',
      run: (signal, started) =>
        featureVectors(model, many, { layer: 'features', batchSize: 4, threads: 1, signal, onProgress: started }),
    },
    {
      name: 'topActivatingPatches',
      run: (signal, started) =>
        topActivatingPatches(model, many, { layer: 'conv2', channel: 1, batchSize: 4, signal, onProgress: started }),
    },
    {
      name: 'occlusion',
      run: (signal, started) =>
        occlusion(model, batch, { window: 3, stride: 1, batchSize: 8, signal, onProgress: started }),
    },
    {
      name: 'smoothGrad',
      run: (signal, started) =>
        smoothGrad(model, batch, { target: 1, samples: 64, batchSize: 4, signal, onProgress: started }),
    },
    {
      name: 'integratedGradients',
      run: (signal, started) =>
        integratedGradients(model, batch, { target: 1, steps: 64, batchSize: 4, signal, onProgress: started }),
    },
    {
      name: 'kernelShap',
      run: (signal, started) =>
        kernelShap(model, batch, {
          target: 1,
          nSegments: 16,
          samples: 400,
          batchSize: 16,
          signal,
          onProgress: started,
        }),
    },
    {
      name: 'deletionScore',
      run: async (signal, started) => {
        const attr = tf.tensor3d(uniform(3 * 144, 8), [3, 12, 12]);
        try {
          return await deletionScore(model, batch, attr, {
            target: 1,
            steps: 64,
            batchSize: 4,
            signal,
            onProgress: started,
          });
        } finally {
          attr.dispose();
        }
      },
    },
    {
      name: 'insertionScore',
      run: async (signal, started) => {
        const attr = tf.tensor3d(uniform(3 * 144, 8), [3, 12, 12]);
        try {
          return await insertionScore(model, batch, attr, {
            target: 1,
            steps: 64,
            batchSize: 4,
            signal,
            onProgress: started,
          });
        } finally {
          attr.dispose();
        }
      },
    },
    {
      name: 'randomizationCheck',
      run: (signal, started) =>
        randomizationCheck(model, (m, x) => saliency(m, x, { target: 1 }), batch, { signal, onProgress: started }),
    },
    {
      name: 'classVisualization',
      run: (signal, started) => classVisualization(model, { target: 2, steps: 500, signal, onStep: started }),
    },
    {
      name: 'featureVisualization',
      run: (signal, started) =>
        featureVisualization(model, objectives.channel('conv2', 1).plus(objectives.diversity('conv2')), {
          batch: 2,
          steps: 500,
          signal,
          onStep: started,
        }),
    },
    {
      name: 'trainCnn',
      run: (signal, started) =>
        trainCnn({
          dataset: 'mnist',
          epochs: 2,
          limit: 640,
          batchSize: 32,
          progressEvery: 1,
          signal,
          onProgress: started,
        }),
    },
  ];

  for (const c of cases) {
    describe(c.name, () => {
      it('aborted before it starts: rejects at once, no callback, no tensor left', async () => {
        const controller = new AbortController();
        controller.abort();
        let calls = 0;
        const before = tf.memory().numTensors;
        await assert.rejects(
          c.run(controller.signal, () => void calls++),
          expectAbort(c.name),
        );
        assert.strictEqual(calls, 0, 'a callback ran after the abort');
        assert.strictEqual(tf.memory().numTensors, before);
      });

      it('aborted part-way: rejects, stops calling back, frees its tensors', async () => {
        // One run beforehand so lazily built state (sub-models, kernels) is not counted as a leak.
        const warm = new AbortController();
        const warmTimer = c.timerMs === undefined ? undefined : setTimeout(() => warm.abort(), c.timerMs);
        await c.run(warm.signal, () => warm.abort()).catch((e) => assert.ok(isAbortError(e), String(e)));
        clearTimeout(warmTimer);
        const before = tf.memory().numTensors;
        const controller = new AbortController();
        let callsAfterAbort = 0;
        let timer: NodeJS.Timeout | undefined;
        if (c.timerMs !== undefined) timer = setTimeout(() => controller.abort(), c.timerMs);
        const started = () => {
          if (controller.signal.aborted) callsAfterAbort++;
          else controller.abort();
        };
        await assert.rejects(c.run(controller.signal, started), expectAbort(c.name));
        clearTimeout(timer);
        assert.ok(controller.signal.aborted, 'it ended by the abort');
        assert.strictEqual(callsAfterAbort, 0, 'a callback ran after the abort');
        assert.strictEqual(
          tf.memory().numTensors,
          before,
          `tensors: ${before} before, ${tf.memory().numTensors} after`,
        );
      });
    });
  }

  // The long synchronous stages (the neighbour search, the affinities, kernel PCA's landmark
  // eigen-decomposition) yield inside, so an abort lands part-way through them, not after.
  const stages: Array<{ name: string; stage: string; run: (signal?: AbortSignal) => Promise<number> }> = [
    {
      name: 'tsne',
      stage: 'neighbour search',
      run: async (signal) => (await tsne(points(6000, 48, 11), { iterations: 1, signal })).timings.neighbors * 1000,
    },
    {
      name: 'umap',
      stage: 'neighbour search',
      run: async (signal) =>
        (await umap(points(6000, 48, 12), { epochs: 1, init: 'random', signal })).timings.neighbors * 1000,
    },
    {
      name: 'kernelPca',
      stage: 'Nystrom fit (mostly the landmark eigen-decomposition)',
      run: async (signal) => {
        const t0 = performance.now();
        await kernelPca(points(4000, 16, 13), { method: 'nystrom', landmarks: 600, signal });
        return performance.now() - t0;
      },
    },
  ];
  for (const s of stages) {
    it(`${s.name}: an abort inside its ${s.stage} stops it part-way, with no tensor left`, async () => {
      const whole = await s.run(new AbortController().signal);
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      // Measured from when the abort was due: work that never lets the event loop in delays the
      // timer itself, and that delay is what an interrupted user waits.
      const due = performance.now() + whole / 10;
      setTimeout(() => controller.abort(), whole / 10);
      await assert.rejects(s.run(controller.signal), expectAbort(s.name));
      const late = performance.now() - due;
      assert.ok(
        late < whole / 2,
        `stopped ${late.toFixed(0)} ms after the abort was due; the ${s.stage} alone takes ${whole.toFixed(0)} ms`,
      );
      assert.strictEqual(tf.memory().numTensors, before);
    });
  }

  it('an exception in a progress callback ends the call with a clear error and no tensor left', async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(
      occlusion(model, batch, {
        window: 3,
        stride: 2,
        onProgress: () => {
          throw new Error('boom');
        },
      }),
      /^Error: occlusion: the onProgress callback threw: boom$/,
    );
    await assert.rejects(
      classVisualization(model, {
        target: 1,
        steps: 5,
        onStep: async () => {
          throw new Error('bad step');
        },
      }),
      /^Error: classVisualization: the onStep callback threw: bad step$/,
    );
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('the reason given to abort() is part of the message', async () => {
    const controller = new AbortController();
    controller.abort(new Error('the cell was interrupted'));
    await assert.rejects(
      occlusion(model, image, { signal: controller.signal }),
      /^AbortError: occlusion: aborted \(the cell was interrupted\)$/,
    );
  });

  it('rejects a signal that is not an AbortSignal', async () => {
    await assert.rejects(
      smoothGrad(model, image, { signal: 'stop' as unknown as AbortSignal }),
      /smoothGrad: signal must be an AbortSignal/,
    );
  });

  it('Work lets the event loop in only when something can abort it', async () => {
    const free = new Work('free');
    assert.strictEqual(free.signal, undefined, 'outside a kernel with no signal there is nothing to watch');
    assert.strictEqual(free.due, false);
    const c = new AbortController();
    const w = new Work('watched', { signal: c.signal });
    const t0 = performance.now();
    while (performance.now() - t0 < 60);
    assert.strictEqual(w.due, true, 'a slice has passed');
    setImmediate(() => c.abort());
    await assert.rejects(w.tick(), /^AbortError: watched: aborted$/);
  });

  it('an aborted call leaves the cache without an entry', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const { cached } = await import('../src/runtime/cache');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-cancel-'));
    const c = new AbortController();
    const compute = () =>
      tsne(points(100, 4, 5), { iterations: 500, reportEvery: 5, signal: c.signal, onStep: () => c.abort() });
    await assert.rejects(cached('aborted-tsne', { n: 100 }, compute, { dir }), expectAbort('tsne'));
    assert.deepStrictEqual(fs.readdirSync(dir), [], 'nothing written');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
