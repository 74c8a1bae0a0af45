import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { createCanvas } from '@napi-rs/canvas';
import { datasets, images, setup, tf } from '../src';
import { encodeIdx, parseIdx } from '../src/data/idx';

describe('IDX reader', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
  it('reads plain and gzip files with their dims', () => {
    const file = encodeIdx([2, 3, 4], data);
    for (const buf of [file, zlib.gzipSync(file)]) {
      const r = parseIdx(buf, { rank: 3, source: 'x' });
      assert.deepStrictEqual(r.dims, [2, 3, 4]);
      assert.deepStrictEqual(Array.from(r.data), Array.from(data));
    }
  });
  it('rejects a wrong magic, a wrong rank, a truncated payload and trailing bytes', () => {
    const file = encodeIdx([2, 3, 4], data);
    const badMagic = file.slice();
    badMagic[0] = 0x1;
    assert.throws(
      () => parseIdx(badMagic, { rank: 3, source: 'f.idx' }),
      /f\.idx: not an IDX file \(magic starts 0x0100/,
    );
    assert.throws(() => parseIdx(file, { rank: 1, source: 'f.idx' }), /IDX rank 3, expected 1/);
    assert.throws(
      () => parseIdx(file.subarray(0, file.length - 5), { rank: 3, source: 'f.idx' }),
      /truncated: header promises 2x3x4 = 24 bytes of data, file has 19/,
    );
    const longer = new Uint8Array(file.length + 2);
    longer.set(file);
    assert.throws(() => parseIdx(longer, { rank: 3 }), /2 unexpected trailing bytes/);
    const gz = zlib.gzipSync(file);
    assert.throws(
      () => parseIdx(gz.subarray(0, gz.length - 10), { rank: 3, source: 'g.gz' }),
      /g\.gz: gzip data is corrupt or truncated/,
    );
    const float = file.slice();
    float[2] = 0x0d;
    assert.throws(() => parseIdx(float, { rank: 3 }), /element type 0x0d is not supported/);
  });
});

describe('datasets', () => {
  before(async () => {
    await setup({ quiet: true });
  });

  it('mnist: 8,000 train and 2,000 test digits; split test is the tail of split all, in a fixed order', async () => {
    const train = await datasets.load('mnist', { split: 'train' });
    const test = await datasets.load('mnist', { split: 'test' });
    assert.deepStrictEqual(train.images.shape, [8000, 28, 28, 1]);
    assert.deepStrictEqual(test.images.shape, [2000, 28, 28, 1]);
    assert.strictEqual(test.classNames.length, 10);
    const [min, max] = [test.images.min().dataSync()[0], test.images.max().dataSync()[0]];
    assert.ok(min >= 0 && max <= 1 && max > 0.9, `pixel range ${min}..${max}`);
    // every class present in the test split, roughly balanced
    const counts = new Array(10).fill(0);
    test.labels.forEach((l) => counts[l]++);
    assert.ok(
      counts.every((c) => c > 120 && c < 300),
      `test class counts ${counts}`,
    );
    // no test image equals a train image at the same position of the concatenation
    const all = await datasets.load('mnist', { split: 'all' });
    const again = await datasets.load('mnist', { split: 'test', limit: 5 });
    assert.deepStrictEqual(Array.from(again.labels), Array.from(test.labels.subarray(0, 5)));
    const tail = all.images.slice(8000, 5);
    assert.strictEqual(tf.sub(tail, again.images).abs().max().dataSync()[0], 0);
    tf.dispose([train.images, test.images, all.images, again.images, tail]);
  });

  it('fashion-mnist: official splits with their class names', async () => {
    const test = await datasets.load('fashion-mnist', { split: 'test', limit: 100 });
    assert.deepStrictEqual(test.images.shape, [100, 28, 28, 1]);
    assert.strictEqual(test.classNames[9], 'Ankle boot');
    // The first official test image is an ankle boot (label 9).
    assert.strictEqual(test.labels[0], 9);
    test.images.dispose();
  });

  it('fashion-mnist from a folder given by the user, with a clear error for a truncated file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-'));
    const imgs = new Uint8Array(3 * 28 * 28).fill(255);
    for (const [prefix, n] of [
      ['train', 3],
      ['t10k', 3],
    ] as const) {
      fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte.gz`), zlib.gzipSync(encodeIdx([n, 28, 28], imgs)));
      fs.writeFileSync(
        path.join(dir, `${prefix}-labels-idx1-ubyte.gz`),
        zlib.gzipSync(encodeIdx([n], Uint8Array.from([1, 2, 3]))),
      );
    }
    const d = await datasets.load('fashion-mnist', { split: 'all', dataDir: dir });
    assert.deepStrictEqual(d.images.shape, [6, 28, 28, 1]);
    assert.deepStrictEqual(Array.from(d.labels), [1, 2, 3, 1, 2, 3]);
    d.images.dispose();
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-'));
    fs.writeFileSync(path.join(dir2, 'train-images-idx3-ubyte'), encodeIdx([3, 28, 28], imgs).subarray(0, 100));
    fs.writeFileSync(path.join(dir2, 'train-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 2, 3])));
    await assert.rejects(
      datasets.load('fashion-mnist', { split: 'train', dataDir: dir2 }),
      /train-images-idx3-ubyte: truncated/,
    );
  });

  it('fashion-mnist: a file of the official size with altered items (shifted labels) is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-'));
    const official = '/usr/share/datasets/fashion-mnist';
    fs.copyFileSync(path.join(official, 't10k-images-idx3-ubyte.gz'), path.join(dir, 't10k-images-idx3-ubyte.gz'));
    const labels = parseIdx(fs.readFileSync(path.join(official, 't10k-labels-idx1-ubyte.gz')), { rank: 1 });
    const shifted = labels.data.map((l) => (l + 1) % 10);
    fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([10000], shifted));
    await assert.rejects(
      datasets.load('fashion-mnist', { split: 'test', dataDir: dir }),
      new RegExp(
        /datasets\.load\('fashion-mnist'\): \S+t10k-labels-idx1-ubyte has 10000 items like the /.source +
          /official t10k-labels-idx1-ubyte, but their sha256 is [0-9a-f]{64}, not the official 3d0e6c6e/.source,
      ),
    );
    // the same labels unshifted, unpacked: the official items, taken
    fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([10000], labels.data));
    const d = await datasets.load('fashion-mnist', { split: 'test', dataDir: dir, limit: 3 });
    assert.deepStrictEqual(Array.from(d.labels), Array.from(labels.data.subarray(0, 3)));
    d.images.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a folder of images, one subfolder per class', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgs-'));
    const colours = { blue: '#0000ff', red: '#ff0000' };
    for (const [name, colour] of Object.entries(colours)) {
      fs.mkdirSync(path.join(dir, name));
      for (let i = 0; i < 2; i++) {
        const c = createCanvas(8 + i * 4, 6 + i * 4);
        const ctx = c.getContext('2d');
        ctx.fillStyle = colour;
        ctx.fillRect(0, 0, c.width, c.height);
        fs.writeFileSync(path.join(dir, name, `${i}.png`), c.toBuffer('image/png'));
      }
    }
    const d = await datasets.load(dir, { split: 'all' });
    assert.deepStrictEqual(d.classNames, ['blue', 'red']);
    assert.deepStrictEqual(d.images.shape, [4, 6, 8, 3]);
    assert.deepStrictEqual(Array.from(d.labels), [0, 0, 1, 1]);
    const px = await d.images.slice([2, 3, 3, 0], [1, 1, 1, 3]).data();
    assert.deepStrictEqual(Array.from(px), [1, 0, 0]);
    d.images.dispose();
    await assert.rejects(datasets.load(dir, { split: 'train' }), /split 'train' needs train\/ and test\/ subfolders/);
    const img = await images.read(path.join(dir, 'blue', '1.png'), { channels: 1 });
    assert.deepStrictEqual(img.shape, [10, 12, 1]);
    assert.ok(Math.abs(img.dataSync()[0] - 0.114) < 0.01);
    img.dispose();
  });

  it('bad input names the value and the valid choices', async () => {
    await assert.rejects(
      datasets.load('imagenet'),
      /unknown dataset 'imagenet'; known: mnist, fashion-mnist, cifar-10/,
    );
    await assert.rejects(
      datasets.load('mnist', { split: 'validation' as never }),
      /unknown split 'validation'; valid choices: train, test, all/,
    );
    await assert.rejects(datasets.load('mnist', { limit: -3 }), /limit must be a positive integer, got -3/);
    await assert.rejects(images.read('/nonexistent/x.png'), /no file at '\/nonexistent\/x.png'/);
  });
});
