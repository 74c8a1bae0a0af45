import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { models, setup, tf } from '../src';

describe('models: file IO handler', () => {
  before(async () => {
    await setup({ quiet: true });
  });

  it('save then load gives the same weights, predictions and card', async () => {
    const m = models.lectureCnn({ seed: 3 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-'));
    await models.save(m, dir, { classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], dataset: 'test' });
    assert.ok(fs.existsSync(path.join(dir, 'model.json')) && fs.existsSync(path.join(dir, 'weights.bin')));
    for (const where of [dir, path.join(dir, 'model.json')]) {
      const back = await models.load(where);
      assert.deepStrictEqual(
        back.layers.map((l) => l.name),
        m.layers.map((l) => l.name),
      );
      const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 7);
      const diff = tf
        .sub(m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor)
        .abs()
        .max()
        .dataSync()[0];
      assert.strictEqual(diff, 0);
      assert.strictEqual(models.classNames(back)[9], 'j');
      back.dispose();
      x.dispose();
    }
    m.dispose();
  });

  it('says what is missing: unknown name, folder without model.json, missing shard', async () => {
    await assert.rejects(
      models.load('resnet50'),
      /unknown model 'resnet50'; by name: mnist-cnn, fashion-cnn, cifar-cnn, mobilenet, darknet-tiny/,
    );
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-'));
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'x');
    await assert.rejects(models.load(empty), /has no model\.json \(it holds: notes\.txt\)/);
    await assert.rejects(models.load('/nonexistent/dir/model.json'), /nothing at '\/nonexistent\/dir\/model.json'/);
    const m = models.lectureCnn();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-'));
    await models.save(m, dir);
    fs.unlinkSync(path.join(dir, 'weights.bin'));
    await assert.rejects(models.load(dir), /weight shard 'weights.bin' named in .* is missing/);
    m.dispose();
  });
});

describe('models.layers: receptive fields', () => {
  it('match hand-computed values on the lecture CNN (same padding)', () => {
    const m = models.lectureCnn();
    const rf = Object.fromEntries(models.layers(m).map((l) => [l.name, l.receptiveField]));
    // conv1 5x5 same on 28: pad 2 -> size 5, offset -2
    assert.deepStrictEqual(rf.conv1, { size: [5, 5], stride: [1, 1], offset: [-2, -2] });
    // pool1 2x2/2: size 5+1 = 6, stride 2
    assert.deepStrictEqual(rf.pool1, { size: [6, 6], stride: [2, 2], offset: [-2, -2] });
    // conv2 3x3 same on 14: pad 1 at stride 2 -> size 6+2*2 = 10, offset -2-2 = -4
    assert.deepStrictEqual(rf.conv2, { size: [10, 10], stride: [2, 2], offset: [-4, -4] });
    assert.deepStrictEqual(rf.pool2, { size: [12, 12], stride: [4, 4], offset: [-4, -4] });
    assert.deepStrictEqual(rf.conv3, { size: [20, 20], stride: [4, 4], offset: [-8, -8] });
    assert.deepStrictEqual(rf.pool3, { size: [24, 24], stride: [8, 8], offset: [-8, -8] });
    assert.strictEqual(rf.features, null);
    m.dispose();
  });

  it('handle valid padding, strides, dilation and asymmetric same padding', () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({ name: 'a', inputShape: [32, 32, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }),
    );
    m.add(tf.layers.conv2d({ name: 'b', filters: 4, kernelSize: 3, dilationRate: 2, padding: 'valid' }));
    m.add(tf.layers.conv2d({ name: 'c', filters: 4, kernelSize: 4, strides: 2, padding: 'same' }));
    m.add(tf.layers.globalAveragePooling2d({ name: 'g' }));
    const rf = Object.fromEntries(models.layers(m).map((l) => [l.name, l.receptiveField]));
    assert.deepStrictEqual(rf.a, { size: [3, 3], stride: [2, 2], offset: [0, 0] });
    // dilated 3x3 = effective 5: size 3 + 4*2 = 11
    assert.deepStrictEqual(rf.b, { size: [11, 11], stride: [2, 2], offset: [0, 0] });
    // input to c is 11x11; same with k=4, s=2: out 6, total pad (6-1)*2+4-11 = 3, before 1 -> offset -2
    assert.deepStrictEqual(rf.c, { size: [17, 17], stride: [4, 4], offset: [-2, -2] });
    assert.strictEqual(rf.g, null);
    // every box from the field matches the gradient support of that unit
    const box = models.inputBox(rf.c!, 0, 0, [32, 32]);
    assert.deepStrictEqual(box, {
      top: 0,
      left: 0,
      bottom: 15,
      right: 15,
      padding: { top: 2, left: 2, bottom: 0, right: 0 },
    });
    m.dispose();
  });

  it('agree with the gradient support of a unit (pixels that move it are inside the box, and fill it)', () => {
    const m = models.lectureCnn({ seed: 5 });
    const info = models.layers(m);
    const x = tf.randomUniform([1, 28, 28, 1], 0.1, 1, 'float32', 3);
    for (const name of ['conv1', 'pool1', 'conv2', 'conv3']) {
      const rf = info.find((l) => l.name === name)!.receptiveField!;
      const sub = tf.model({ inputs: m.inputs, outputs: m.getLayer(name).output as tf.SymbolicTensor });
      const [y, xx] = [2, 3];
      const g = tf.grad((inp: tf.Tensor) => {
        const out = sub.apply(inp) as tf.Tensor4D;
        // a unit before its ReLU would be cleaner, but the sum over channels of a linear probe is enough:
        return out.slice([0, y, xx, 0], [1, 1, 1, -1]).sum();
      })(x);
      const gd = g.dataSync();
      const box = models.inputBox(rf, y, xx, [28, 28]);
      let outside = 0;
      const insideRows = new Set<number>();
      for (let i = 0; i < 28; i++)
        for (let j = 0; j < 28; j++) {
          if (gd[i * 28 + j] !== 0) {
            if (i < box.top || i >= box.bottom || j < box.left || j >= box.right) outside++;
            else insideRows.add(i);
          }
        }
      assert.strictEqual(outside, 0, `${name}: ${outside} pixels outside the box move the unit`);
      assert.ok(
        insideRows.has(box.top) && insideRows.has(box.bottom - 1),
        `${name}: box ${JSON.stringify(box)} larger than the gradient support`,
      );
      g.dispose();
    }
    x.dispose();
    m.dispose();
  });
});
