/** Copies scored on the worker pool give what scoring them in this thread gives. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { integratedGradients, kernelShap, occlusion, smoothGrad } from '../src';
import { setPooledMinValues } from '../src/techniques/core/perturbation';
import { threadCount } from '../src/runtime/backend';
import { useWasm } from './util/techniques_fixtures';

function colourCnn(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  const c = tf.layers
    .conv2d({
      name: 'conv1',
      filters: 6,
      kernelSize: 5,
      strides: 2,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
    })
    .apply(input) as tf.SymbolicTensor;
  const f = tf.layers.flatten().apply(c) as tf.SymbolicTensor;
  const l = tf.layers
    .dense({ name: 'logits', units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) })
    .apply(f) as tf.SymbolicTensor;
  const p = tf.layers.activation({ name: 'probs', activation: 'softmax' }).apply(l) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: p });
}

async function both<T>(fn: () => Promise<T>): Promise<[T, T]> {
  const old = setPooledMinValues(Infinity);
  try {
    const local = await fn();
    setPooledMinValues(0);
    const pooled = await fn();
    return [local, pooled];
  } finally {
    setPooledMinValues(old);
  }
}

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
  assert.ok(scale > 0, `${what}: not all zero`);
  assert.ok(d <= tol * scale, `${what}: pooled differs by ${d} (scale ${scale})`);
}

describe('perturbation methods on the worker pool', function () {
  this.timeout(300000);
  before(useWasm);

  it('occlusion, Kernel SHAP, IG and SmoothGrad agree with this thread (logits and probs)', async () => {
    assert.ok(threadCount() > 1, 'the pool needs two threads (2 cores here)');
    const model = colourCnn();
    const image = tf.randomUniform([32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor3D;
    for (const output of ['probs', 'logits'] as const) {
      const [o1, o2] = await both(() => occlusion(model, image, { target: 2, window: 8, stride: 4, output }));
      close(o1, o2, 1e-5, `occlusion ${output}`);
      tf.dispose([o1, o2]);
      const [k1, k2] = await both(() => kernelShap(model, image, { target: 1, nSegments: 8, samples: 300, output }));
      close(k1, k2, 1e-3, `kernelShap ${output}`);
      tf.dispose([k1, k2]);
    }
    const [i1, i2] = await both(() => integratedGradients(model, image, { target: 3, steps: 16, tolerance: Infinity }));
    close(i1, i2, 1e-4, 'integratedGradients');
    const [s1, s2] = await both(() => smoothGrad(model, image, { target: 3, samples: 12, seed: 4 }));
    close(s1, s2, 1e-4, 'smoothGrad');
    tf.dispose([i1, i2, s1, s2, image]);
    model.dispose();
  });
});
