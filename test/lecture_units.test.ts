/**
 * The short forms of notebooks 00, 01, 05 and 08 (src/lecture/units*.ts) on small models: each runs, prints the
 * numbers the lecture reads out, returns its figure (and images), leaks no tensors, and a misspelt model, class,
 * layer, channel, recipe or data set gets an error that names the public function and the valid choices. The
 * widget's `show.filters(tensor)` still works beside the short form `show.filters('mobilenet')`.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  setup,
  show,
  tf,
  Figure,
  models,
  datasets,
  images,
  firstLayerFilters,
  featureVectors,
  topActivatingPatches,
  classVisualization,
} from '../src';
import { netOf } from '../src/lecture/resolve';
import { closestNames, layerOf } from '../src/lecture/units_check';

/** What `fn` printed with console.log, and its result. */
async function printed<T>(fn: () => Promise<T> | T): Promise<{ out: string; value: T }> {
  const lines: string[] = [];
  const log = console.log;
  const table = console.table;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  console.table = () => undefined;
  try {
    const value = await fn();
    return { out: lines.join('\n'), value };
  } finally {
    console.log = log;
    console.table = table;
  }
}

describe('lecture short forms of notebooks 00, 01, 05, 08 (show.filters, topPatches, classImage, ...)', function () {
  this.timeout(300_000);
  const saved = process.env.CNNVIZ_CACHE;
  before(async () => {
    await setup({ backend: 'wasm' });
    process.env.CNNVIZ_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-units-'));
    // the short forms load a model by name once per kernel: loaded here, before any tensor count
    for (const name of ['mnist-cnn', 'cifar-cnn']) await netOf(name, 'test');
  });
  after(() => {
    fs.rmSync(process.env.CNNVIZ_CACHE!, { recursive: true, force: true });
    if (saved === undefined) delete process.env.CNNVIZ_CACHE;
    else process.env.CNNVIZ_CACHE = saved;
  });

  it('show.filters: a model by name prints the shape and draws; a tensor still draws as the widget did', async () => {
    const before = tf.memory().numTensors;
    const { out, value } = await printed(() => show.filters('mnist-cnn'));
    assert.ok(value instanceof Figure);
    assert.match(out, /^mnist-cnn: first-layer filters 32 x 5 x 5 x 1 \(count, height, width, channels\)$/);
    // the picture notebook 01 drew before, with the widget and the options it spelt out
    const f = await firstLayerFilters(await netOf('mnist-cnn', 'test'));
    const title = 'mnist-cnn conv1: 32 filters of 5x5';
    const old = show.filters(f, { zeroCentered: true, cols: 16, title });
    assert.ok(value.png.equals(old.png), 'the same PNG as the long form');
    f.dispose();
    const w = tf.randomNormal([4, 3, 3, 3]);
    const widget = show.filters(w, { cols: 2 });
    assert.ok(widget instanceof Figure, 'the widget call returns a Figure, not a promise');
    w.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('show.filters: { start } prints the change from the start, normalize shared the weakest filter', async () => {
    const start = models.lectureCnn({ seed: 1 });
    const before = tf.memory().numTensors;
    const moved = await printed(() => show.filters('mnist-cnn', { start }));
    // the same ratio, computed here: |trained - start| / |start| over the whole first layer
    const trained = await firstLayerFilters(await netOf('mnist-cnn', 'test'));
    const from = await firstLayerFilters(start);
    const ratio = tf.tidy(() => tf.norm(trained.sub(from)).div(tf.norm(from)).dataSync()[0]);
    const peaks = tf.tidy(() => Array.from(trained.abs().max([1, 2, 3]).dataSync()));
    tf.dispose([trained, from]);
    assert.ok(ratio > 0.01 && ratio < 1, `the change is ${ratio} of the start`);
    assert.match(
      moved.out,
      new RegExp(`^mnist-cnn: training changed conv1 by ${(100 * ratio).toFixed(0)}% of its size`),
    );
    assert.match(moved.value.text, /32 kernels/);
    const shared = await printed(() => show.filters('mnist-cnn', { normalize: 'shared' }));
    const strongest = Math.max(...peaks);
    const weakest = ((100 * Math.min(...peaks)) / strongest).toFixed(0);
    const median = ((100 * [...peaks].sort((a, b) => a - b)[16]) / strongest).toFixed(0);
    assert.ok(Number(weakest) < Number(median) && Number(median) < 100, `${weakest}% < ${median}% < 100%`);
    assert.match(shared.out, new RegExp(`weakest ${weakest}%, median ${median}%$`, 'm'));
    assert.strictEqual(tf.memory().numTensors, before);
    start.dispose();
  });

  it('show.filters names itself and the models (and face-resnet) on a misspelt model', async () => {
    await assert.rejects(
      show.filters('mnist-cn'),
      /^Error: show\.filters: unknown model 'mnist-cn'; valid choices: .*mnist-cnn.*face-resnet/,
    );
  });

  it('show.filters draws the face ResNet first layer: 32 filters of 7x7x3', async () => {
    const { out, value } = await printed(() => show.filters('face-resnet'));
    assert.match(out, /face ResNet \(conv32_down\/conv\/filters\): first-layer filters 32 x 7 x 7 x 3/);
    assert.ok(value instanceof Figure);
  });

  it('show.featureMaps: the maps of the long form; a misspelt layer or image gets the choices', async () => {
    const before = tf.memory().numTensors;
    const fig = await show.featureMaps('mnist-cnn', 'mnist', 'conv1', { index: 2 });
    assert.ok(fig instanceof Figure);
    assert.match(fig.text, /^images: 32 /);
    // the figure notebook 01 drew with featureVectors and show.images, spelt out
    const net = await netOf('mnist-cnn', 'test');
    const test = await datasets.load('mnist', { split: 'test', limit: 3 });
    const x = test.images.slice([2, 0, 0, 0], [1, -1, -1, -1]);
    const maps = await featureVectors(net, x, { layer: 'conv1' });
    const perFilter = tf.tidy(() => maps.reshape([28, 28, 32]).transpose([2, 0, 1]).expandDims(-1) as tf.Tensor4D);
    const captions = Array.from({ length: 32 }, (_, i) => `filter ${i}`);
    const title = 'conv1 responses, one per filter';
    const old = show.images(perFilter, { cols: 16, size: 56, normalize: 'minmax', captions, title });
    assert.ok(fig.png.equals(old.png), 'the same PNG as the long form');
    tf.dispose([test.images, x, maps, perFilter]);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      show.featureMaps('mnist-cnn', 'mnist', 'conv9'),
      /^Error: show\.featureMaps: unknown layer 'conv9'; valid choices: conv1, pool1, conv2/,
    );
    await assert.rejects(
      show.featureMaps('mnist-cnn', 'mnsit', 'conv1'),
      /^Error: show\.featureMaps: unknown image 'mnsit'; did you mean mnist, .*a sample photo: .*dog/,
    );
    await assert.rejects(
      show.featureMaps('mnist-cnn', 'mnist', 'conv1', { index: -1 }),
      /^Error: show\.featureMaps: index must be an integer in \[0, 9999\], got -1/,
    );
  });

  it('a misspelt layer of a large model gets the closest names, not all of them', () => {
    const input = tf.input({ shape: [8, 8, 1] });
    let y = input as tf.SymbolicTensor;
    for (let i = 1; i <= 20; i++) {
      const name = `conv_pw_${i}_relu`;
      y = tf.layers.conv2d({ filters: 1, kernelSize: 1, name }).apply(y) as tf.SymbolicTensor;
    }
    const big = tf.model({ inputs: input, outputs: y });
    assert.strictEqual(layerOf(big, 'conv_pw_11_relu', 'show.x').name, 'conv_pw_11_relu');
    assert.throws(
      () => layerOf(big, 'conv_pw_11_rleu', 'show.x'),
      /^Error: show\.x: unknown layer 'conv_pw_11_rleu'; did you mean conv_pw_11_relu, .*\? \(21 layers: /,
    );
    assert.deepStrictEqual(closestNames('mnsit', ['cifar-10', 'mnist', 'fashion-mnist'], 2), ['mnist', 'cifar-10']);
    big.dispose();
  });

  it('show.classImage: P and logit printed, classes by recipes, stored; errors name the choices', async () => {
    const before = tf.memory().numTensors;
    const one = await printed(() => show.classImage('mnist-cnn', 3, { recipe: 'simonyan', steps: 3 }));
    assert.strictEqual(one.value.images.length, 1);
    assert.deepStrictEqual(one.value.images[0].shape, [28, 28, 1]);
    // the image is classVisualization's with the lecture's settings, and P is the model's own probability of it
    const model = await netOf('mnist-cnn', 'test');
    const direct = await classVisualization(model, {
      target: 3,
      recipe: 'simonyan',
      steps: 3,
      learningRate: 0.1,
      seed: 1,
    });
    assert.strictEqual(
      tf.tidy(() => tf.abs(direct.sub(one.value.images[0])).max().dataSync()[0]),
      0,
    );
    const p = tf.tidy(() => (model.predict(direct.expandDims(0)) as tf.Tensor2D).dataSync()[3]);
    direct.dispose();
    assert.ok(Math.abs(one.value.scores[0].p - p) < 1e-6, `P ${one.value.scores[0].p} vs ${p}`);
    assert.match(one.out, new RegExp(`^P\\(3\\) = ${p.toFixed(4)} \\(logit -?\\d+\\.\\d\\)$`, 'm'));
    assert.ok(one.value.figure instanceof Figure);
    const again = await printed(() => show.classImage('mnist-cnn', 3, { recipe: 'simonyan', steps: 3 }));
    // stored once (quietly: a small network's results take seconds), and the second call loads the same image
    const stored = fs.readdirSync(process.env.CNNVIZ_CACHE!).filter((f) => f.startsWith('classvis-mnist-cnn-3-'));
    assert.deepStrictEqual(stored.length, 1, `one stored image: ${stored.join(', ')}`);
    assert.doesNotMatch(again.out, /loaded from/);
    const same = tf.tidy(() => tf.abs(again.value.images[0].sub(one.value.images[0])).max().dataSync()[0]);
    assert.strictEqual(same, 0);
    assert.strictEqual(again.value.scores[0].p, one.value.scores[0].p, 'the stored image scores the same');
    const grid = await printed(() =>
      show.classImage('mnist-cnn', [1, 7], { recipe: ['simonyan', 'yosinski3'], steps: 2 }),
    );
    assert.match(grid.out, /^simonyan {2}P\(1\) = /m);
    assert.match(grid.out, /^yosinski3 P\(7\) = /m);
    assert.strictEqual(grid.value.images.length, 4);
    tf.dispose([...one.value.images, ...again.value.images, ...grid.value.images]);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      show.classImage('mnist-cnn', 'three'),
      /^Error: show\.classImage: unknown class 'three'; closest: /,
    );
    await assert.rejects(
      show.classImage('mnist-cnn', 3, { recipe: 'olha' as never }),
      /^Error: show\.classImage: unknown recipe 'olha'; valid choices: olah, simonyan, yosinski1/,
    );
    await assert.rejects(
      show.classImage('mnist-cnn', 3, { steps: 0 }),
      /^Error: show\.classImage: steps must be a positive integer at most 10000, got 0/,
    );
  });

  it('show.classImage live: a chart while it climbs, nothing stored', async () => {
    const r = await printed(() => show.classImage('mnist-cnn', 5, { recipe: 'simonyan', steps: 4, live: true }));
    assert.match(r.out, /^P\(5\) = \d\.\d{4}/m);
    assert.ok(!fs.readdirSync(process.env.CNNVIZ_CACHE!).some((f) => f.startsWith('classvis-mnist-cnn-5-')));
    tf.dispose(r.value.images);
  });

  it('show.regularizers: five images, one regularizer each', async () => {
    const before = tf.memory().numTensors;
    const r = await show.regularizers('mnist-cnn', 3, { steps: 2 });
    assert.strictEqual(r.images.length, 5);
    assert.match(r.figure!.text, /^images: 5 /);
    // the second image is plain ascent with L2 decay alone, as notebook 08 spelt it out
    const model = await netOf('mnist-cnn', 'test');
    const l2 = await classVisualization(model, { target: 3, recipe: 'simonyan', steps: 2, seed: 1, l2Decay: 0.05 });
    assert.strictEqual(
      tf.tidy(() => tf.abs(l2.sub(r.images[1])).max().dataSync()[0]),
      0,
    );
    assert.ok(tf.tidy(() => tf.abs(r.images[0].sub(r.images[1])).max().dataSync()[0]) > 0, 'the decay changes it');
    tf.dispose([l2, ...r.images]);
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it("show.channelImage: 'layer:c1,c2' by Olah's or a pixel recipe; errors name layer and channels", async () => {
    const before = tf.memory().numTensors;
    const olah = await printed(() => show.channelImage('cifar-cnn', ['conv1:0,1', 'conv2:5,6'], { steps: 2 }));
    assert.match(olah.out, /channel images: 4 \(2 layers x 2 channels\)/);
    assert.strictEqual(olah.value.images.length, 4);
    const unit = await show.channelImage('mnist-cnn', 'conv3:0,1', { recipe: 'yosinski3', steps: 2 });
    assert.strictEqual(unit.images.length, 2);
    assert.match(unit.figure.text, /^images: 2 /);
    // the unit at the centre of channel 1's map, by classVisualization
    const mnist = await netOf('mnist-cnn', 'test');
    const [, h, w] = mnist.getLayer('conv3').outputShape as number[];
    const [y, x] = [Math.floor(h / 2), Math.floor(w / 2)];
    const opts = { layer: 'conv3', channel: 1, y, x, steps: 2, recipe: 'yosinski3' as const, seed: 1 };
    const direct = await classVisualization(mnist, opts);
    assert.strictEqual(
      tf.tidy(() => tf.abs(direct.sub(unit.images[1])).max().dataSync()[0]),
      0,
    );
    direct.dispose();
    const diverse = await show.channelImage('cifar-cnn', 'conv2:3', { diverse: 2, steps: 2 });
    assert.strictEqual(diverse.images.length, 2);
    const apart = tf.tidy(() => tf.abs(diverse.images[0].sub(diverse.images[1])).mean().dataSync()[0]);
    assert.ok(apart > 1e-3, `the two images of a diverse batch differ (${apart})`);
    tf.dispose([...olah.value.images, ...unit.images, ...diverse.images]);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      show.channelImage('cifar-cnn', 'conv1'),
      /^Error: show\.channelImage: expected 'layer:channel'/,
    );
    await assert.rejects(
      show.channelImage('cifar-cnn', 'conv1:99'),
      /^Error: show\.channelImage: 'conv1:99': channels of conv1 are whole numbers in \[0, 31\]/,
    );
    await assert.rejects(
      show.channelImage('cifar-cnn', 'conv7:1'),
      /^Error: show\.channelImage: unknown layer 'conv7'; valid choices: .*conv1, .*conv3/,
    );
    await assert.rejects(
      show.channelImage('cifar-cnn', 'conv2:3', { diverse: 1 }),
      /^Error: show\.channelImage: diverse must be an integer in \[2, 16\], got 1/,
    );
  });

  it('show.topPatches: a cifar-cnn channel as topActivatingPatches finds it, the class count printed', async () => {
    const before = tf.memory().numTensors;
    const { out, value } = await printed(() => show.topPatches('cifar-cnn', 'conv2', 12, 'cifar-10', { count: 60 }));
    const cifar = await netOf('cifar-cnn', 'test');
    const field = models.layers(cifar).find((l) => l.name === 'conv2')!.receptiveField!.size;
    assert.match(out, new RegExp(`^conv2: output 16x16x64, receptive field ${field.join('x')} px of 32x32$`, 'm'));
    // the same nine as the technique on the first 60 test images, and the printed count is theirs
    const test = await datasets.load('cifar-10', { split: 'test', limit: 60 });
    const top = await topActivatingPatches(cifar, test.images, { layer: 'conv2', channel: 12, k: 9 });
    assert.deepStrictEqual(
      value.channels[0].top.map((t) => [t.index, t.y, t.x]),
      top.map((t) => [t.index, t.y, t.x]),
    );
    const counts = new Map<number, number>();
    for (const t of top) counts.set(test.labels[t.index], (counts.get(test.labels[t.index]) ?? 0) + 1);
    const [label, share] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    assert.match(out, new RegExp(`^ {2}conv2 channel 12: ${share} of 9 '${test.classNames[label]}'$`, 'm'));
    assert.ok(value.figures[0] instanceof Figure);

    // the survey: per channel, how many of its top 9 images share a class, computed here from the maps
    const survey = await printed(() => show.topPatches('cifar-cnn', 'conv3', 'cifar-10', { count: 60 }));
    const acts = await featureVectors(cifar, test.images, { layer: 'conv3' });
    const best = tf.tidy(() => {
      const strongest = acts.reshape([60, 64, 128]).max(1).transpose() as tf.Tensor2D;
      return tf.topk(strongest, 9).indices.arraySync() as number[][];
    });
    const shares = best.map((idx) => {
      const c = new Map<number, number>();
      for (const i of idx) c.set(test.labels[i], (c.get(test.labels[i]) ?? 0) + 1);
      return Math.max(...c.values());
    });
    tf.dispose([acts, test.images]);
    const specific = shares.filter((n) => n >= 7).length;
    assert.match(
      survey.out,
      new RegExp(`^${specific} of 128 conv3 channels have 7 or more top images of one class`, 'm'),
    );
    assert.strictEqual(survey.value.figures.length, 2, 'the most and the least class-specific channel');
    const [most, least] = survey.value.channels.map((c) => c.share);
    assert.strictEqual(most, Math.max(...shares));
    assert.ok(least < most, `the least specific drawn channel has ${least} of 9, the most ${most}`);
    assert.ok(tf.memory().numTensors <= before + 1, 'at most the 60 images, loaded once per kernel');

    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv2', 12, 'cifar10' as never),
      /^Error: show\.topPatches: unknown data set 'cifar10'; valid choices: imagenet-sample, cifar-10/,
    );
    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv2', 64, 'cifar-10'),
      /^Error: show\.topPatches: channel must be a whole number in \[0, 63\] \(conv2 has 64\), got 64/,
    );
    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv', 1, 'cifar-10'),
      /^Error: show\.topPatches: unknown layer 'conv'; valid choices: .*conv1, .*conv2/,
    );
    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv2', 1, 'cifar-10', { k: 0 }),
      /^Error: show\.topPatches: k must be a positive integer at most 36, got 0/,
    );
  });

  it('show.dataset, show.predictions, show.classify: the health check of notebook 00', async () => {
    const before = tf.memory().numTensors;
    const d = await printed(() => show.dataset('mnist', { limit: 4 }));
    assert.strictEqual(d.out, 'mnist: images [4, 28, 28, 1] in [0, 1]; classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9');
    assert.ok(d.value instanceof Figure);
    const p = await printed(() => show.predictions('mnist-cnn', 'mnist', { limit: 4 }));
    const card = models.card(await netOf('mnist-cnn', 'test'));
    assert.ok(card.testAccuracy! > 0.9, `the card's accuracy ${card.testAccuracy}`);
    assert.strictEqual(
      p.out,
      `mnist-cnn: ${(100 * card.testAccuracy!).toFixed(1)}% on the ${card.testCount} test images`,
    );
    const c = await printed(() => show.classify('cifar-cnn', 'dog'));
    assert.match(c.out, /^cifar-cnn: [\d,]+ weights, input 32x32; on the dog photo: \w+ \(\d\.\d{3}\)$/);
    const cifar = await netOf('cifar-cnn', 'test');
    const dog = await images.sample('dog', { size: 32, fit: 'fill' });
    const probs = tf.tidy(() => Array.from((cifar.predict(dog.expandDims(0)) as tf.Tensor2D).dataSync()));
    dog.dispose();
    const top = probs.indexOf(Math.max(...probs));
    const name = models.classNames(cifar)[top];
    const weights = cifar.countParams().toLocaleString('en');
    assert.ok(c.out.endsWith(`${weights} weights, input 32x32; on the dog photo: ${name} (${probs[top].toFixed(3)})`));
    assert.match(c.value.text, /^images: 1 /);
    // two networks of different input sizes: the photo as each sees it, both lines printed
    const two = await printed(() => show.classify(['cifar-cnn', 'mnist-cnn'], 'dog'));
    assert.match(two.out, /^cifar-cnn: .*input 32x32; on the dog photo: .*\nmnist-cnn: .*input 28x28; on the dog/);
    assert.match(two.value.text, /^images: 2 /);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      show.dataset('mnsit'),
      /^Error: show\.dataset: unknown data set 'mnsit'; valid choices: mnist, fashion-mnist, cifar-10$/,
    );
    await assert.rejects(
      show.dataset('mnist', { limit: 0 }),
      /^Error: show\.dataset: limit must be a positive integer at most 100, got 0$/,
    );
    await assert.rejects(
      show.classify('cifar-cnn', 'dgo'),
      /^Error: show\.classify: unknown image 'dgo': not a sample \(.*dog/,
    );
    await assert.rejects(
      show.predictions('mnist-cnx', 'mnist'),
      /^Error: show\.predictions: unknown model 'mnist-cnx'/,
    );
    await assert.rejects(
      show.predictions('mnist-cnn', 'mnst'),
      /^Error: show\.predictions: unknown image 'mnst': .*or a data set \(mnist, fashion-mnist, cifar-10\)$/,
    );
  });
});
