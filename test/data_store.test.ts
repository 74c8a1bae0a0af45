/**
 * The data folder and its manifest, CIFAR-10's binary format, photos: files are checked against
 * the manifest, bad ones refused by name with both hashes, and nothing half-written is left.
 */
import * as assert from 'assert';
import { spawnSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { createCanvas } from '@napi-rs/canvas';
import { datasets, images, setup, tf } from '../src';
import { CIFAR_RECORD, parseCifar, untar } from '../src/data/cifar';
import { dataDir, entry, locate, manifest, mirrorDir, packageRoot } from '../src/data/store';
import { withEnv } from './util/env';

const root = packageRoot();
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Every file under dir with its sha256, to show a folder did not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.existsSync(d) ? fs.readdirSync(d) : []) {
      const p = path.join(d, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (name !== '.hashes.json') out[path.relative(dir, p)] = sha(fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Where the CIFAR-10 test batch is (data folder, else mirror). */
function testBatchFile(): string {
  return locate('cifar-10', 'cifar-10-batches-bin/test_batch.bin.gz', 'test');
}

describe('data folder: manifest', () => {
  it('lists every third-party file with size, sha256, source and license, and none of them is committed', () => {
    const m = manifest();
    assert.deepStrictEqual(m.entries.map((e) => e.name).sort(), [
      'cifar-10',
      'darknet-tiny',
      'imagenet-sample',
      'mobilenet',
      'photos',
    ]);
    for (const e of m.entries) {
      assert.ok(e.license.length > 5 && e.source.length > 5, `${e.name} names its source and license`);
      for (const f of e.files) {
        assert.match(f.sha256, /^[0-9a-f]{64}$/);
        assert.ok(f.size > 0);
      }
    }
    const tracked = spawnSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).stdout.split('\n');
    const names = new Set(m.entries.flatMap((e) => e.files.map((f) => path.basename(f.path))));
    const committed = tracked.filter((t) => names.has(path.basename(t)) && !t.startsWith('models/'));
    assert.deepStrictEqual(committed, [], 'third-party files must not be committed');
    assert.ok(
      !tracked.some((t) => /group\d+-shard1of1|\.bin\.gz$/.test(t)),
      'no weight shards or CIFAR batches in git',
    );
  });
});

describe('CIFAR-10 binary format', () => {
  before(() => setup({ quiet: true }));

  it('reads the first and last record of the test batch exactly as the raw bytes say', async () => {
    const raw = zlib.gunzipSync(fs.readFileSync(testBatchFile()));
    assert.strictEqual(raw.length, 10000 * CIFAR_RECORD);
    const d = await datasets.load('cifar-10', { split: 'test' });
    assert.deepStrictEqual(d.images.shape, [10000, 32, 32, 3]);
    assert.deepStrictEqual(d.classNames, [
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    for (const i of [0, 9999]) {
      const rec = raw.subarray(i * CIFAR_RECORD, (i + 1) * CIFAR_RECORD);
      assert.strictEqual(d.labels[i], rec[0], `label of record ${i}`);
      const px = d.images.slice([i, 0, 0, 0], [1, 32, 32, 3]).dataSync();
      // Planar R, G, B in the file; HWC in the tensor.
      for (const [y, x, c] of [
        [0, 0, 0],
        [0, 0, 2],
        [5, 17, 1],
        [31, 31, 2],
        [31, 0, 0],
      ]) {
        assert.strictEqual(
          Math.round(px[(y * 32 + x) * 3 + c] * 255),
          rec[1 + c * 1024 + y * 32 + x],
          `record ${i} pixel ${y},${x},${c}`,
        );
      }
    }
    const counts = new Array(10).fill(0);
    for (const l of d.labels) counts[l]++;
    assert.deepStrictEqual(counts, new Array(10).fill(1000));
    d.images.dispose();
    const train = await datasets.load('cifar-10', { split: 'train', limit: 20 });
    assert.deepStrictEqual(train.images.shape, [20, 32, 32, 3]);
    train.images.dispose();
  });

  it('refuses truncated or foreign batches, naming the file and the record count', () => {
    const rec = Buffer.alloc(CIFAR_RECORD * 3, 7);
    rec[0] = 1;
    assert.strictEqual(parseCifar(rec, 'x.bin').count, 3);
    assert.throws(
      () => parseCifar(rec.subarray(0, CIFAR_RECORD * 2 + 100), 'cut.bin'),
      /cut\.bin has 6246 bytes, not a whole number of 3073-byte records \(2 whole records and 100 bytes over\)/,
    );
    assert.throws(() => parseCifar(rec, 'short.bin', 10000), /short\.bin holds 3 records, expected 10000/);
    const badLabel = Buffer.from(rec);
    badLabel[CIFAR_RECORD] = 12;
    assert.throws(() => parseCifar(badLabel, 'lbl.bin'), /lbl\.bin record 1 has label 12, outside 0\.\.9/);
  });

  it('reads batches out of the official tar.gz layout', () => {
    const body = Buffer.alloc(CIFAR_RECORD * 2, 3);
    const header = Buffer.alloc(512);
    header.write('cifar-10-batches-bin/test_batch.bin', 0);
    header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    header.write('0', 156);
    const tar = Buffer.concat([header, body, Buffer.alloc(512 - (body.length % 512)), Buffer.alloc(1024)]);
    const files = untar(tar, 't.tar');
    assert.strictEqual(files.get('cifar-10-batches-bin/test_batch.bin')!.length, body.length);
    assert.throws(
      () => untar(tar.subarray(0, 700), 'cut.tar'),
      /cut\.tar ends inside 'cifar-10-batches-bin\/test_batch\.bin'/,
    );
  });

  it('a truncated or altered file in the data folder is refused by name and left as it was', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-data-'));
    const batchDir = path.join(dir, 'cifar-10-batches-bin');
    fs.mkdirSync(batchDir);
    const good = fs.readFileSync(testBatchFile());
    const target = path.join(batchDir, 'test_batch.bin.gz');
    try {
      fs.writeFileSync(target, good.subarray(0, good.length - 1000));
      let before = snapshot(dir);
      await withEnv({ CNNVIZ_DATA: dir }, () =>
        assert.rejects(
          datasets.load('cifar-10', { split: 'test', limit: 5 }),
          new RegExp(
            `${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has ${good.length - 1000} bytes, the manifest ` +
              `says ${good.length}`,
          ),
        ),
      );
      assert.deepStrictEqual(snapshot(dir), before);
      const altered = Buffer.from(good);
      altered[5000] ^= 0xff;
      fs.writeFileSync(target, altered);
      before = snapshot(dir);
      const f = entry('cifar-10').files.find((x) => x.path.endsWith('test_batch.bin.gz'))!;
      await withEnv({ CNNVIZ_DATA: dir }, () =>
        assert.rejects(datasets.load('cifar-10', { split: 'test', limit: 5 }), (err: Error) => {
          assert.match(
            err.message,
            new RegExp(
              /^datasets\.load\('cifar-10'\): .*test_batch\.bin\.gz/.source +
                / has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/.source,
            ),
          );
          assert.ok(err.message.includes(sha(altered)) && err.message.includes(f.sha256), 'both hashes named');
          return true;
        }),
      );
      assert.deepStrictEqual(snapshot(dir), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data folder: the setup script fills it', function () {
  this.timeout(120000);
  const fill = path.join(root, 'kernel-setup', 'fill-data.js');
  const run = (env: Record<string, string>, args: string[] = []) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, [fill, ...args], { env: { ...process.env, ...env } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code: code ?? 1, out }));
    });
  const darknet = entry('darknet-tiny');

  it('copies from a mirror, refuses a mirror file of another hash (both named), leaves no partial file', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-fill-'));
    const mirror = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-mirror-'));
    try {
      for (const f of darknet.files) {
        fs.mkdirSync(path.join(mirror, path.dirname(f.path)), { recursive: true });
        fs.copyFileSync(locate('darknet-tiny', f.path, 'test'), path.join(mirror, f.path));
      }
      const bad = darknet.files.find((f) => f.path.endsWith('group19-shard1of1'))!;
      const badBytes = fs.readFileSync(path.join(mirror, bad.path));
      badBytes[10] ^= 1;
      fs.writeFileSync(path.join(mirror, bad.path), badBytes);
      const r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: mirror, CNNVIZ_DOWNLOAD_BASE: 'http://127.0.0.1:9/' });
      assert.strictEqual(r.code, 1, r.out);
      assert.match(
        r.out,
        new RegExp(
          `refused models/darknet-tiny/group19-shard1of1 from the mirror .*: sha256 ${sha(badBytes)}, the manifest ` +
            `says ${bad.sha256}`,
        ),
      );
      assert.match(r.out, /darknet-tiny: 32\/33 files, missing models\/darknet-tiny\/group19-shard1of1/);
      assert.match(r.out, /not complete\. Put the missing files under the data folder/);
      const got = snapshot(data);
      assert.ok(!(bad.path in got), 'the refused file is not in the data folder');
      assert.ok(!Object.keys(got).some((k) => k.includes('.part-')), 'no partial files left');
      for (const f of darknet.files) if (f !== bad) assert.strictEqual(got[f.path], f.sha256, f.path);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(mirror, { recursive: true, force: true });
    }
  });

  it('downloads when online: a model by structure and size, refusing a wrong size; models.load uses it', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-dl-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-nomirror-'));
    const folder = path.dirname(darknet.files.find((f) => f.path.endsWith('model.json'))!.path);
    let served = 0;
    let cut = true;
    const server = http.createServer((req, res) => {
      const m = /^\/darknet-tiny\/(.+)$/.exec(req.url ?? '');
      const f = m && darknet.files.find((x) => x.path === `${folder}/${m[1]}`);
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      served++;
      const bytes = fs.readFileSync(locate('darknet-tiny', f.path, 'test'));
      // First round: one shard arrives short, as over a broken connection.
      res.writeHead(200).end(cut && f.path.endsWith('group21-shard1of1') ? bytes.subarray(0, 1000) : bytes);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      let r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty, CNNVIZ_DOWNLOAD_BASE: base });
      assert.match(
        r.out,
        new RegExp(
          /download of darknet-tiny failed: models\/darknet-tiny\/group21-shard1of1/.source +
            /: 1000 bytes, the manifest says 1179648/.source,
        ),
      );
      assert.ok(
        !Object.keys(snapshot(data)).some((k) => k.startsWith('models/')),
        'nothing of a failed model download is kept',
      );
      cut = false;
      served = 0;
      r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty, CNNVIZ_DOWNLOAD_BASE: base });
      assert.match(r.out, /darknet-tiny: 33\/33 files/);
      assert.strictEqual(served, darknet.files.length, 'every file of the model downloaded again');
      const model = await withEnv({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty }, async () =>
        (await import('../src')).models.load('darknet-tiny'),
      );
      assert.strictEqual(model.outputs[0].shape[1], 1000);
      model.dispose();
    } finally {
      server.close();
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('says which files are missing and where to put them when there is no source', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-none-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-nomirror-'));
    try {
      const r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty, CNNVIZ_DOWNLOAD_BASE: 'http://127.0.0.1:9/' });
      assert.strictEqual(r.code, 1);
      assert.match(r.out, /mobilenet: 0\/57 files/);
      assert.match(
        r.out,
        new RegExp(
          `${path.join(data, 'models', 'mobilenet_v1_0.75_224', 'group1-shard1of1').replace(/[.]/g, '\\.')} \\(2592 ` +
            `bytes\\)`,
        ),
      );
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('photos', () => {
  before(() => setup({ quiet: true }));

  it('reads with fit cover (centre crop), contain (grey bars) and fill (stretch)', async () => {
    // 40 wide x 20 high: left quarter red, middle half green, right quarter blue.
    const c = createCanvas(40, 20);
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#ff0000';
    ctx.fillRect(0, 0, 10, 20);
    ctx.fillStyle = '#00ff00';
    ctx.fillRect(10, 0, 20, 20);
    ctx.fillStyle = '#0000ff';
    ctx.fillRect(30, 0, 10, 20);
    const file = path.join(os.tmpdir(), `cnnviz-fit-${process.pid}.png`);
    fs.writeFileSync(file, c.toBuffer('image/png'));
    const px = async (fit: 'cover' | 'contain' | 'fill', y: number, x: number) => {
      const t = await images.read(file, { size: 20, fit });
      const v = Array.from(t.slice([y, x, 0], [1, 1, 3]).dataSync()).map((a) => Math.round(a * 255));
      t.dispose();
      return v;
    };
    assert.deepStrictEqual(await px('cover', 10, 1), [0, 255, 0], 'cover crops the red and blue sides away');
    assert.deepStrictEqual(await px('cover', 10, 18), [0, 255, 0]);
    assert.deepStrictEqual(await px('contain', 1, 10), [128, 128, 128], 'contain pads with grey above');
    assert.deepStrictEqual(await px('contain', 10, 1), [255, 0, 0], 'contain keeps the red side');
    assert.deepStrictEqual(await px('fill', 10, 1), [255, 0, 0]);
    assert.deepStrictEqual(await px('fill', 10, 19), [0, 0, 255]);
    await assert.rejects(
      images.read(file, { size: 20, fit: 'crop' as 'cover' }),
      /images\.read: unknown fit 'crop'; valid choices: cover, contain, fill/,
    );
    fs.rmSync(file);
  });

  it('names the sample photos and reads them by name; an unknown one lists them', async () => {
    const list = images.samples();
    assert.ok(list.length >= 12);
    for (const s of list) assert.ok(s.present, `${s.name} present in the data folder (run the setup script)`);
    const dog = await images.sample('dog');
    assert.deepStrictEqual(dog.shape, [576, 768, 3]);
    const cat = await images.read('cat', { size: [224, 224] });
    assert.deepStrictEqual(cat.shape, [224, 224, 3]);
    await assert.rejects(images.sample('zebra'), /images\.sample: unknown sample 'zebra'; samples: dog, eagle, .*cat/);
    tf.dispose([dog, cat]);
  });

  it('resolves the data folder and mirror from the environment', () => {
    assert.ok(dataDir().length > 0);
    assert.ok(mirrorDir() === undefined || fs.existsSync(mirrorDir()!));
  });
});
