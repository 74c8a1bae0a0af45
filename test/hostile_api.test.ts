// The techniques against careless and hostile arguments: something that is not a model, and
// counts (steps, samples) far past sense. Each gets the error naming the function and the bound
// before any work, leaves no tensor behind, and answers at once (the event loop keeps turning).
import * as assert from 'assert';
import {
  classVisualization,
  deletionScore,
  gradCam,
  guidedBackprop,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  smoothGrad,
  tf,
  topActivatingPatches,
  featureVectors,
  firstLayerFilters,
} from '../src';
import { randomImage, smallCnn, useWasm } from './util/techniques_fixtures';

type AnyFn = (...args: unknown[]) => Promise<unknown>;

async function refused(name: string, call: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await assert.rejects(call, (err: Error) => {
      assert.ok(!(err instanceof TypeError), `${name}: a TypeError: ${err.message}`);
      assert.match(err.message, pattern, name);
      return true;
    });
  } finally {
    clearInterval(timer);
  }
  assert.strictEqual(tf.memory().numTensors, before, `${name} leaves no tensor`);
}

describe('hostile arguments to the techniques', function () {
  this.timeout(120000);
  let model: tf.Sequential;
  let x: tf.Tensor3D;
  before(async () => {
    await useWasm();
    model = smallCnn();
    x = randomImage(12, 12, 1, 3);
  });
  after(() => {
    model.dispose();
    x.dispose();
  });

  it('not a model ({}, null, a tensor, a string): a named error, no tensor left', async () => {
    const fns: Record<string, AnyFn> = {
      saliency: saliency as AnyFn,
      gradCam: gradCam as AnyFn,
      guidedBackprop: guidedBackprop as AnyFn,
      smoothGrad: smoothGrad as AnyFn,
      integratedGradients: integratedGradients as AnyFn,
      occlusion: occlusion as AnyFn,
      kernelShap: kernelShap as AnyFn,
      deletionScore: deletionScore as AnyFn,
      featureVectors: featureVectors as AnyFn,
      topActivatingPatches: topActivatingPatches as AnyFn,
    };
    for (const bad of [{}, null, 'mobilenet']) {
      for (const [name, fn] of Object.entries(fns)) {
        await refused(
          name,
          () => fn(bad, x, { layer: 'conv1', channel: 0 }),
          new RegExp(`^${name}: expected a tf\\.LayersModel \\(from models\\.load or tf\\.loadLayersModel\\)`),
        );
      }
    }
    await refused('classVisualization', () => classVisualization({} as tf.LayersModel, { target: 0 }), /^classVis/);
    await refused('firstLayerFilters', () => firstLayerFilters(x as unknown as tf.LayersModel), /got a Tensor/);
  });

  it('steps and samples past their bounds: the bound in the error, before any work', async () => {
    const ig = (opts: object) => () => integratedGradients(model, x, { target: 0, ...opts });
    for (const steps of [1e9, 1e10, 20000])
      await refused(
        'integratedGradients',
        ig({ steps }),
        new RegExp(`steps \\(method 'gaussLegendre'\\) must be a positive integer at most 2048, got ${steps}`),
      );
    await refused(
      'integratedGradients',
      ig({ steps: 1e9, method: 'riemannMiddle' }),
      /steps \(method 'riemannMiddle'\) must be a positive integer at most 100000, got 1000000000/,
    );
    await refused('integratedGradients', ig({ maxSteps: 1e9 }), /maxSteps \(method 'gaussLegendre'\) .* at most 2048/);
    await refused(
      'smoothGrad',
      () => smoothGrad(model, x, { target: 0, samples: 1e9 }),
      /^smoothGrad: samples must be a positive integer at most 10000, got 1000000000/,
    );
    await refused(
      'kernelShap',
      () => kernelShap(model, x, { target: 0, samples: 1e9 }),
      /^kernelShap: samples must be a positive integer at most 20000/,
    );
    const map = tf.zeros([12, 12]) as tf.Tensor2D;
    await refused(
      'deletionScore',
      () => deletionScore(model, x, map, { target: 0, steps: 1e9 }),
      /^deletionScore: steps must be a positive integer at most 10000/,
    );
    map.dispose();
    await refused(
      'classVisualization',
      () => classVisualization(model, { target: 0, steps: 1e9 }),
      /^classVisualization: steps must be a positive integer at most 10000,/,
    );
    // at their bounds the set-up (Gauss-Legendre's nodes, Kernel SHAP's coalition draws) yields to the event loop:
    // an abort asked for once the call has started ends it with the method's abort error, nothing left behind
    for (const [name, call] of [
      [
        'integratedGradients',
        (signal: AbortSignal) => integratedGradients(model, x, { target: 0, steps: 2048, signal }),
      ],
      ['kernelShap', (signal: AbortSignal) => kernelShap(model, x, { target: 0, samples: 20000, signal })],
    ] as const) {
      const c = new AbortController();
      const started = call(c.signal);
      setImmediate(() => c.abort());
      await refused(name, () => started, new RegExp(`^${name}: (aborted|cancelled|stopped)`, 'i'));
    }
    // at the bound, Gauss-Legendre's nodes are quick and the abort signal is seen before the first batch
    const controller = new AbortController();
    controller.abort();
    await refused(
      'integratedGradients',
      ig({ steps: 2048, signal: controller.signal }),
      /^integratedGradients: (aborted|cancelled|stopped)/i,
    );
  });
});
