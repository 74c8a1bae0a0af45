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
import { setup, show, tf, Figure, models, firstLayerFilters } from '../src';
import { netOf } from '../src/lecture/resolve';

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
    const [pct] = moved.out
      .match(/^mnist-cnn: training changed conv1 by (\d+)% of its size/m)!
      .slice(1)
      .map(Number);
    assert.ok(pct > 0 && pct < 100, `changed ${pct}%`);
    assert.match(moved.value.text, /32 kernels/);
    const shared = await printed(() => show.filters('mnist-cnn', { normalize: 'shared' }));
    const [weakest, median] = shared.out
      .match(/weakest (\d+)%, median (\d+)%/)!
      .slice(1)
      .map(Number);
    assert.ok(weakest <= median && median <= 100, `${weakest}% <= ${median}%`);
    assert.strictEqual(tf.memory().numTensors, before);
    start.dispose();
  });

  it('show.filters names itself and the models (and face-resnet) on a misspelt model', async () => {
    await assert.rejects(
      show.filters('mnist-cn'),
      /^Error: show\.filters: unknown model 'mnist-cn'; models: .*mnist-cnn.*face-resnet/,
    );
  });

  it('show.filters draws the face ResNet first layer: 32 filters of 7x7x3', async () => {
    const { out, value } = await printed(() => show.filters('face-resnet'));
    assert.match(out, /face ResNet \(conv32_down\/conv\/filters\): first-layer filters 32 x 7 x 7 x 3/);
    assert.ok(value instanceof Figure);
  });

  it('show.featureMaps: the input and a map per channel; a misspelt layer gets the layer list', async () => {
    const before = tf.memory().numTensors;
    const fig = await show.featureMaps('mnist-cnn', 'mnist', 'conv1', { index: 2 });
    assert.ok(fig instanceof Figure);
    assert.match(fig.text, /^images: 32 /);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(
      show.featureMaps('mnist-cnn', 'mnist', 'conv9'),
      /^Error: show\.featureMaps: unknown layer 'conv9'; layers of this model: .*conv1/,
    );
  });

  it('show.classImage: P and logit printed, classes by recipes, stored; errors name the choices', async () => {
    const before = tf.memory().numTensors;
    const one = await printed(() => show.classImage('mnist-cnn', 3, { recipe: 'simonyan', steps: 3 }));
    assert.match(one.out, /^P\(3\) = \d\.\d{4} \(logit -?\d+\.\d\)$/m);
    assert.strictEqual(one.value.images.length, 1);
    assert.deepStrictEqual(one.value.images[0].shape, [28, 28, 1]);
    assert.ok(one.value.figure instanceof Figure);
    const again = await printed(() => show.classImage('mnist-cnn', 3, { recipe: 'simonyan', steps: 3 }));
    assert.match(again.out, /classvis-mnist-cnn-3-simonyan: loaded from the cache/);
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
      /^Error: show\.classImage: unknown recipe 'olha'; recipes: olah, simonyan, yosinski1/,
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
    tf.dispose(r.images);
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
    const diverse = await show.channelImage('cifar-cnn', 'conv2:3', { diverse: 2, steps: 2 });
    assert.strictEqual(diverse.images.length, 2);
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
      /show\.channelImage: unknown layer 'conv7'; layers/,
    );
  });

  it('show.topPatches: a channel of cifar-cnn over CIFAR-10, the field and the class count printed', async () => {
    const before = tf.memory().numTensors;
    const { out, value } = await printed(() => show.topPatches('cifar-cnn', 'conv2', 12, 'cifar-10', { count: 60 }));
    assert.match(out, /^conv2: output 16x16x64, receptive field \d+x\d+ px of 32x32$/m);
    assert.match(out, /^ {2}conv2 channel 12: \d of 9 '\w+'$/m);
    assert.strictEqual(value.channels[0].top.length, 9);
    assert.ok(value.figures[0] instanceof Figure);
    const survey = await printed(() => show.topPatches('cifar-cnn', 'conv3', 'cifar-10', { count: 60 }));
    assert.match(survey.out, /^\d+ of 128 conv3 channels have 7 or more top images of one class; \d+ never fire/m);
    assert.strictEqual(survey.value.figures.length, 2, 'the most and the least class-specific channel');
    assert.ok(tf.memory().numTensors <= before + 1, 'at most the 60 images, loaded once per kernel');
    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv2', 12, 'cifar10' as never),
      /^Error: show\.topPatches: unknown data set "cifar10"; data sets: imagenet-sample, cifar-10/,
    );
    await assert.rejects(
      show.topPatches('cifar-cnn', 'conv2', 64, 'cifar-10'),
      /^Error: show\.topPatches: channel must be a whole number in \[0, 63\] \(conv2 has 64\), got 64/,
    );
    await assert.rejects(show.topPatches('cifar-cnn', 'conv', 1, 'cifar-10'), /show\.topPatches: unknown layer 'conv'/);
  });

  it('show.dataset, show.predictions, show.classify: the health check of notebook 00', async () => {
    const before = tf.memory().numTensors;
    const d = await printed(() => show.dataset('mnist', { limit: 4 }));
    assert.match(d.out, /^mnist: images \[4, 28, 28, 1\] in \[0, 1\]; classes: 0, 1, 2/);
    assert.ok(d.value instanceof Figure);
    const p = await printed(() => show.predictions('mnist-cnn', 'mnist', { limit: 4 }));
    assert.match(p.out, /^mnist-cnn: \d+\.\d% on the \d+ test images$/);
    const c = await printed(() => show.classify('cifar-cnn', 'dog'));
    assert.match(c.out, /^cifar-cnn: [\d,]+ weights, input 32x32; on the dog photo: \w+ \(\d\.\d{3}\)$/);
    assert.strictEqual(tf.memory().numTensors, before);
    await assert.rejects(show.dataset('mnsit'), /^Error: show\.dataset: unknown data set "mnsit"; data sets: mnist, /);
    await assert.rejects(
      show.classify('cifar-cnn', 'dgo'),
      /^Error: show\.classify: unknown image 'dgo': not a sample/,
    );
  });
});
