/**
 * ImageNet models by name and CIFAR-10's own model, on real photos: they take pixels in [0, 1],
 * expose logits and probs, answer to class names, and the techniques explain the right objects.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { datasets, defaultCamLayer, gradCam, guidedBackprop, images, models, saliency, setup } from '../src';

/** Share of the positive mass of a [224, 224] map inside a box given in the 768x576 photo. */
function massIn(map: Float32Array | Int32Array | Uint8Array, box: [number, number, number, number]): number {
  const [x0, y0, x1, y1] = [(box[0] * 224) / 768, (box[1] * 224) / 576, (box[2] * 224) / 768, (box[3] * 224) / 576].map(
    Math.round,
  );
  let inside = 0;
  let total = 0;
  for (let y = 0; y < 224; y++) {
    for (let x = 0; x < 224; x++) {
      const v = Math.max(0, map[y * 224 + x]);
      total += v;
      if (x >= x0 && x < x1 && y >= y0 && y < y1) inside += v;
    }
  }
  return inside / total;
}

// In darknet's dog.jpg (768x576): the dog sits lower left; the part of the bicycle clear of the dog is right of it.
const DOG_BOX: [number, number, number, number] = [130, 220, 310, 540];
const BIKE_BOX: [number, number, number, number] = [310, 140, 570, 420];
const CATS = ['tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat'];

/** The names of the five highest probabilities. */
function top5Names(probs: ArrayLike<number>, names: string[]): string[] {
  return Array.from(probs)
    .map((p, i) => [p, i])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 5)
    .map(([, i]) => names[i]);
}

describe('real networks: ImageNet models by name', function () {
  this.timeout(600000);
  let mobilenet: tf.LayersModel;
  before(async () => {
    await setup({ quiet: true });
    mobilenet = await models.load('mobilenet');
  });
  after(() => mobilenet?.dispose());

  it('mobilenet takes [0, 1] pixels, has preprocess/logits/probs, and a card with 1,000 names', () => {
    const names = mobilenet.layers.map((l) => l.name);
    assert.deepStrictEqual(names.slice(0, 3), ['input_1', 'preprocess', 'conv1']);
    assert.deepStrictEqual(names.slice(-2), ['logits', 'probs']);
    assert.deepStrictEqual(mobilenet.inputs[0].shape, [null, 224, 224, 3]);
    const card = models.card(mobilenet);
    assert.strictEqual(models.classNames(mobilenet).length, 1000);
    assert.strictEqual(models.classNames(mobilenet)[281], 'tabby');
    assert.match(String(card.license), /Apache-2\.0/);
    assert.ok(String(card.source).length > 0);
    assert.deepStrictEqual(card.inputSize, [224, 224, 3]);
    // [0, 1] in, [-1, 1] inside: the preprocess layer maps 0 -> -1 and 1 -> 1.
    const pre = tf.model({
      inputs: mobilenet.inputs,
      outputs: mobilenet.getLayer('preprocess').output as tf.SymbolicTensor,
    });
    const y = pre.predict(tf.stack([tf.zeros([224, 224, 3]), tf.ones([224, 224, 3])])) as tf.Tensor;
    const [lo, hi] = [y.min().dataSync()[0], y.max().dataSync()[0]];
    assert.deepStrictEqual([lo, hi], [-1, 1]);
    y.dispose();
  });

  it("mobilenet's top-5 for the cat photo holds a cat class; probs are the softmax of logits", async () => {
    const cat = await images.sample('cat', { size: 224 });
    const x = cat.expandDims(0) as tf.Tensor4D;
    const probs = (mobilenet.predict(x) as tf.Tensor).dataSync();
    const logitsModel = tf.model({
      inputs: mobilenet.inputs,
      outputs: mobilenet.getLayer('logits').output as tf.SymbolicTensor,
    });
    const logits = logitsModel.predict(x) as tf.Tensor;
    const soft = tf.softmax(logits).dataSync();
    for (let i = 0; i < 1000; i += 97) assert.ok(Math.abs(soft[i] - probs[i]) < 1e-6);
    const top5 = top5Names(probs, models.classNames(mobilenet));
    assert.ok(
      top5.some((n) => CATS.includes(n)),
      `top-5 ${top5.join(', ')} holds a cat class`,
    );
    tf.dispose([cat, x, logits]);
  });

  it('Grad-CAM of the dog photo is class-specific: a dog class on the dog, a bicycle class on the bike', async () => {
    assert.strictEqual(defaultCamLayer(mobilenet), 'conv_pw_13_relu', 'the default layer is past the 1x1 conv_preds');
    const dog = await images.sample('dog', { size: 224, fit: 'fill' });
    const dogMap = await gradCam(mobilenet, dog, { target: 'malamute' });
    const bikeMap = await gradCam(mobilenet, dog, { target: 'mountain bike' });
    const d = dogMap.dataSync() as Float32Array;
    const b = bikeMap.dataSync() as Float32Array;
    const dd = massIn(d, DOG_BOX),
      db = massIn(d, BIKE_BOX),
      bd = massIn(b, DOG_BOX),
      bb = massIn(b, BIKE_BOX);
    assert.ok(
      dd > db && bb > bd,
      `dog map: dog ${dd.toFixed(2)} bike ${db.toFixed(2)}; bike map: dog ${bd.toFixed(2)} bike ${bb.toFixed(2)}`,
    );
    assert.ok(
      dd > 1.5 * bd && bb > 1.5 * db,
      'each class puts more of its mass on its own object than the other class does',
    );
    // Every class gets a map of its own (not zeros through the softmax, not uniform).
    const pickup = await gradCam(mobilenet, dog, { target: 'pickup' });
    const p = Array.from(pickup.dataSync());
    assert.ok(
      Math.max(...p) > 0 && Math.max(...p) > 2 * (p.reduce((a, v) => a + v, 0) / p.length),
      'a non-top class gets a non-uniform map',
    );
    tf.dispose([dog, dogMap, bikeMap, pickup]);
  });

  it('class names work in every technique; an unknown one lists the closest names', async () => {
    const cat = await images.sample('cat', { size: 224 });
    const byName = await saliency(mobilenet, cat, { target: 'tabby cat' });
    const byIndex = await saliency(mobilenet, cat, { target: 281 });
    assert.deepStrictEqual(Array.from(byName.dataSync()), Array.from(byIndex.dataSync()));
    await assert.rejects(
      saliency(mobilenet, cat, { target: 'tabbby' }),
      /^Error: saliency: unknown class 'tabbby'; closest of the 1000 classes: 'tabby' \(281\)/,
    );
    await assert.rejects(
      saliency(mobilenet, cat, { target: 'crane' }),
      /saliency: class name 'crane' is ambiguous: .*\(134\).*\(517\)/,
    );
    tf.dispose([cat, byName, byIndex]);
  });

  it('a grey photo is converted for a colour model, a photo of another size resized', async () => {
    const grey = await images.sample('camera', { channels: 1, size: 100 });
    const map = await saliency(mobilenet, grey, { target: 'tabby' });
    assert.deepStrictEqual(map.shape, [224, 224]);
    await assert.rejects(
      saliency(mobilenet, tf.zeros([224, 224, 4]), { target: 0 }),
      /saliency: image has shape \[224, 224, 4\]; expected an image \[224, 224, 3\]/,
    );
    tf.dispose([grey, map]);
  });

  it('darknet-tiny: [0, 1] input as trained, logits/probs added, guided backprop through its leaky ReLUs', async () => {
    const dn = await models.load('darknet-tiny');
    assert.deepStrictEqual(
      dn.layers.slice(-2).map((l) => l.name),
      ['logits', 'probs'],
    );
    assert.ok(!dn.layers.some((l) => l.name === 'preprocess'));
    const cat = await images.sample('cat', { size: 224 });
    const probs = (dn.predict(cat.expandDims(0)) as tf.Tensor).dataSync();
    const top5 = top5Names(probs, models.classNames(dn));
    assert.ok(
      top5.some((n) => CATS.includes(n)),
      `darknet top-5 ${top5.join(', ')}`,
    );
    const g = await guidedBackprop(dn, cat, { target: 'tabby' });
    assert.deepStrictEqual(g.shape, [224, 224, 3]);
    assert.ok(tf.abs(g).max().dataSync()[0] > 0);
    tf.dispose([cat, g]);
    dn.dispose();
  });
});

describe('real networks: cifar-cnn', function () {
  this.timeout(600000);
  before(() => setup({ quiet: true }));

  it('reaches 75% on the 10,000 CIFAR-10 test images, with colour 5x5 filters in conv1', async () => {
    const model = await models.load('cifar-cnn');
    assert.deepStrictEqual(
      model.layers.map((l) => l.name).filter((n) => /^(conv|features|logits|probs)/.test(n)),
      ['conv1', 'conv2', 'conv3', 'features', 'logits', 'probs'],
    );
    const k = model.getLayer('conv1').getWeights()[0];
    assert.deepStrictEqual(k.shape.slice(0, 3), [5, 5, 3]);
    assert.ok((k.shape[3] as number) >= 32);
    const test = await datasets.load('cifar-10', { split: 'test' });
    const acc = await models.accuracy(model, test.images, test.labels);
    assert.ok(acc >= 0.75, `cifar-cnn accuracy ${(100 * acc).toFixed(2)}%`);
    assert.strictEqual(
      models.card(model).testAccuracy,
      Number(acc.toFixed(4)),
      'the card states the measured accuracy',
    );
    test.images.dispose();
    model.dispose();
  });
});

describe('cnnviz doctor: the data folder and every model', function () {
  this.timeout(600000);
  it('lists the data folder, each manifest entry with its state, and each model with its accuracy or source', () => {
    const { spawnSync } = require('child_process') as typeof import('child_process');
    const path = require('path') as typeof import('path');
    const cli = path.join(__dirname, '..', 'src', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8' });
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; ok: boolean; detail: string }>;
    };
    const byName = new Map(report.checks.map((c) => [c.name, c]));
    assert.match(byName.get('data folder')!.detail, /CNNVIZ_DATA.*mirror/);
    // A fresh process turns relaxed SIMD on (Node 20 has it behind a flag) and says which 1x1 loop runs.
    assert.match(byName.get('backend')!.detail, /1x1 convolutions: own loop with fused multiply-add \(relaxed SIMD\)/);
    for (const e of ['mobilenet', 'darknet-tiny', 'cifar-10', 'photos']) {
      const c = byName.get(`data ${e}`)!;
      assert.ok(c.ok, `${e}: ${c.detail}`);
      assert.match(c.detail, /\d+ files: \d+ present/);
    }
    assert.match(byName.get('model cifar-cnn')!.detail, /accuracy \d+\.\d% on 1,000 cifar-10 test images/);
    assert.match(byName.get('model mobilenet')!.detail, /1000 classes; from .*Apache-2\.0/);
    assert.match(byName.get('model darknet-tiny')!.detail, /1000 classes; from .*MIT/);
  });
});
