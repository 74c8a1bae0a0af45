import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { check, featureVectors, guidedBackprop, models, nearestNeighbors } from '../src';
import { useWasm } from './util/techniques_fixtures';
import { resetResults } from '../src/check/report';

// The checks of assignments 04-06 with right answers (as the solution notebooks write them) and the usual mistakes.

const quiet = { print: false, show: false };

async function expectFail(p: Promise<check.CheckResult>, pattern: RegExp): Promise<check.CheckResult> {
  const r = await p;
  assert.strictEqual(r.passed, false, `expected a failure, got: ${r.message}`);
  assert.match(r.message, pattern);
  assert.match(
    r.message,
    /\n\s+expected: [^]*\n\s+got: [^]*\n\s+hint: /,
    'every message says expected, got and a hint',
  );
  return r;
}

function knnRight(
  db: tf.Tensor2D,
  labels: Int32Array,
  q: tf.Tensor2D,
  k: number,
  opts: { farthest?: boolean } = {},
): Int32Array {
  const pred = tf.tidy(() => {
    const d2 = q
      .square()
      .sum(1, true)
      .sub(q.matMul(db, false, true).mul(2))
      .add(db.square().sum(1).expandDims(0));
    const { indices } = tf.topk(opts.farthest ? d2 : d2.neg(), k);
    const votes = tf
      .oneHot(
        tf.gather(tf.tensor1d(labels, 'int32'), indices.flatten()).reshape(indices.shape),
        Math.max(...labels) + 1,
      )
      .sum(1);
    return votes.argMax(-1);
  });
  const out = Int32Array.from(pred.dataSync());
  pred.dispose();
  return out;
}

const featuresRight = (model: tf.LayersModel, images: tf.Tensor4D) =>
  tf.tidy(
    () =>
      tf
        .model({ inputs: model.inputs, outputs: model.getLayer('features').output as tf.SymbolicTensor })
        .predict(images) as tf.Tensor2D,
  );

function fieldsRight(layers: check.LayerSpec[], inputSize: number): check.FieldOf[] {
  let f = { size: 1, jump: 1, start: 0 };
  let n = inputSize;
  return layers.map((l) => {
    let pad = 0;
    if (l.padding === 'same') {
      const out = Math.ceil(n / l.stride);
      pad = Math.floor(Math.max((out - 1) * l.stride + l.kernel - n, 0) / 2);
      n = out;
    } else n = Math.floor((n - l.kernel) / l.stride) + 1;
    f = { size: f.size + (l.kernel - 1) * f.jump, jump: f.jump * l.stride, start: f.start - pad * f.jump };
    return f;
  });
}

const boxRight = (f: check.FieldOf, y: number, x: number, size: number) => {
  const top = f.start + y * f.jump;
  const left = f.start + x * f.jump;
  return {
    top: Math.max(0, top),
    left: Math.max(0, left),
    bottom: Math.min(size, top + f.size),
    right: Math.min(size, left + f.size),
  };
};

function makeRelu(rule: 'guided' | 'plain' | 'deconvnet'): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.relu(x),
      gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
        if (rule === 'plain') return dy.mul(tf.step(xs));
        if (rule === 'deconvnet') return dy.mul(tf.step(dy));
        return dy.mul(tf.step(xs)).mul(tf.step(dy));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
}

function forwardWithRelu(model: tf.LayersModel, x: tf.Tensor, relu: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  let y = x;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as {
      activation?: string;
      strides?: [number, number];
      padding?: 'same' | 'valid';
      poolSize?: [number, number];
    };
    if (cls === 'Conv2D') {
      const [kernel, bias] = layer.getWeights();
      y = tf.conv2d(y as tf.Tensor4D, kernel as tf.Tensor4D, cfg.strides!, cfg.padding!).add(bias);
    } else if (cls === 'Dense') {
      const [kernel, bias] = layer.getWeights();
      y = tf.matMul(y as tf.Tensor2D, kernel as tf.Tensor2D).add(bias);
    } else if (cls === 'MaxPooling2D') y = tf.maxPool(y as tf.Tensor4D, cfg.poolSize!, cfg.strides!, cfg.padding!);
    else if (cls === 'Flatten') y = y.reshape([y.shape[0], -1]);
    else if (cls === 'Activation' && cfg.activation === 'softmax') break;
    if (cfg.activation === 'relu') y = relu(y);
  }
  return y;
}

const guidedFor = (rule: 'guided' | 'plain' | 'deconvnet') => {
  const relu = makeRelu(rule);
  return (model: tf.LayersModel, image: tf.Tensor3D, target: number) =>
    tf.tidy(() =>
      tf.grad((x: tf.Tensor) => forwardWithRelu(model, x.expandDims(0), relu).gather([target], 1).sum())(image),
    );
};

describe('check.knn / features / receptiveFields / receptiveBox / guidedRelu / guidedBackprop', function () {
  this.timeout(120_000);
  before(useWasm);
  beforeEach(() => resetResults());

  it('check.knn: passes the vote, names farthest points, k + 1, a wrapped nearestNeighbors', async () => {
    const r = await check.knn(knnRight, quiet);
    assert.ok(r.passed, r.message);
    assert.strictEqual(r.cases, 8);
    await expectFail(
      check.knn((d, l, q, k) => knnRight(d, l, q, k, { farthest: true }), quiet),
      /farthest points/,
    );
    await expectFail(
      check.knn((d, l, q, k) => knnRight(d, l, q, k + 1), quiet),
      /k \+ 1 neighbours vote/,
    );
    await expectFail(
      check.knn((d, l, q) => knnRight(d, l, q, 1), quiet),
      /single nearest point/,
    );
    const wrapped = (d: tf.Tensor2D, l: Int32Array, q: tf.Tensor2D, k: number) =>
      Int32Array.from(nearestNeighbors(q, d, { k }).indices.slice(0, q.shape[0]), (i) => l[i]);
    await expectFail(check.knn(wrapped, quiet), /nearestNeighbors: not available inside check\.knn; write your own/);
  });

  it('check.features: features of mnist-cnn and a 3-channel model; logits, a wrapped featureVectors fail', async () => {
    const r = await check.features(featuresRight, quiet);
    assert.ok(r.passed, r.message);
    assert.match(r.message, /3-channel/);
    const logits = (m: tf.LayersModel, x: tf.Tensor4D) =>
      tf.tidy(
        () =>
          tf
            .model({ inputs: m.inputs, outputs: m.getLayer('logits').output as tf.SymbolicTensor })
            .predict(x) as tf.Tensor,
      );
    await expectFail(check.features(logits, quiet), /wrong shape[^]*'features' layer has \d+/);
    await expectFail(
      check.features((m, x) => featureVectors(m, x, { layer: 'features' }), quiet),
      /featureVectors: not available inside check\.features/,
    );
  });

  it('check.receptiveFields / receptiveBox: by hand against models.receptiveField and inputBox', async () => {
    const r = await check.receptiveFields(fieldsRight, quiet);
    assert.ok(r.passed, r.message);
    const b = await check.receptiveBox(boxRight, quiet);
    assert.ok(b.passed, b.message);
    const noPad = (layers: check.LayerSpec[], n: number) =>
      fieldsRight(
        layers.map((l) => ({ ...l, padding: 'valid' as const })),
        n,
      ).map((f, i) => ({ ...f, start: 0 * i }));
    await expectFail(
      check.receptiveFields(noPad, quiet),
      new RegExp(
        /start of conv1 \(conv 5x5, stride 1, 'same'\) is wrong/.source +
          /[^]*expected: start -2\n\s+got: start 0/.source +
          /[^]*'same' pads before the first row/.source,
      ),
    );
    const noJump = (layers: check.LayerSpec[], n: number) => fieldsRight(layers, n).map((f) => ({ ...f, jump: 1 }));
    await expectFail(check.receptiveFields(noJump, quiet), /jump of pool1[^]*previous jump \* stride/);
    const unclipped = (f: check.FieldOf, y: number, x: number) => ({
      top: f.start + y * f.jump,
      left: f.start + x * f.jump,
      bottom: f.start + y * f.jump + f.size,
      right: f.start + x * f.jump + f.size,
    });
    await expectFail(check.receptiveBox(unclipped, quiet), /inside the padding[^]*Math\.max\(0, top\)/);
    const viaModels = (layers: check.LayerSpec[]) =>
      layers
        .map((l) => models.receptiveField(models.lectureCnn(), l.name))
        .map((f) => ({ size: f.size[0], jump: f.stride[0], start: f.offset[0] }));
    await expectFail(
      check.receptiveFields(viaModels, quiet),
      /models\.receptiveField: not available inside check\.receptiveFields; write your own/,
    );
  });

  it('check.guidedRelu/guidedBackprop: the guided rule; plain, deconvnet, wrapped guidedBackprop fail', async () => {
    assert.ok((await check.guidedRelu(makeRelu('guided'), quiet)).passed);
    await expectFail(check.guidedRelu(makeRelu('plain'), quiet), /ordinary ReLU gradient/);
    await expectFail(check.guidedRelu(makeRelu('deconvnet'), quiet), /deconvnet's rule/);
    const before = tf.memory().numTensors;
    const r = await check.guidedBackprop(guidedFor('guided'), quiet);
    assert.ok(r.passed, r.message);
    assert.strictEqual(r.cases, 5);
    assert.ok(tf.memory().numTensors <= before + 2, `tensors grew from ${before} to ${tf.memory().numTensors}`);
    await expectFail(check.guidedBackprop(guidedFor('plain'), quiet), /ordinary gradient/);
    await expectFail(
      check.guidedBackprop((m, x, t) => guidedBackprop(m, x, { target: t }), quiet),
      /guidedBackprop: not available inside check\.guidedBackprop/,
    );
  });

  it('leaves no tensors behind: a check run twice keeps tf.memory().numTensors', async () => {
    const runs: Array<() => Promise<check.CheckResult>> = [
      () => check.knn(knnRight, quiet),
      () => check.features(featuresRight, quiet),
      () => check.guidedBackprop(guidedFor('guided'), quiet),
      () => check.guidedRelu(makeRelu('guided'), quiet),
      () => check.receptiveFields(fieldsRight, quiet),
      () => check.knn((d, l, q, k) => knnRight(d, l, q, k + 1), quiet),
    ];
    for (const run of runs) {
      await run(); // the hidden cases are made once per kernel
      const before = tf.memory().numTensors;
      const r = await run();
      assert.strictEqual(tf.memory().numTensors, before, `${r.name}: tensors grew`);
    }
  });
});
