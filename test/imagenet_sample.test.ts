/**
 * 'imagenet-sample': 1,000 ImageNet photos through the data folder and mirror, labels by synset
 * (MobileNet's order, and Darknet's mapped by synset), the WordNet groups, the named errors. The slow part
 * (a forward pass of all 1,000 photos) is imagenet_sample_slow.test.ts.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { datasets, models, setup, tf } from '../src';
import { entry, mirrorDir, packageRoot } from '../src/data/store';
import { withEnv } from './util/env';

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const CALLER = /^datasets\.load\('imagenet-sample'\): /;

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Share of each point's k nearest neighbours (itself left out) that fall in its group. */
describe('imagenet-sample', () => {
  before(() => setup());

  it('loads through the mirror into an empty data folder; five files against their synsets', async () => {
    const mirror = mirrorDir();
    assert.ok(mirror && fs.existsSync(path.join(mirror, 'imagenet-sample')), 'the mirror holds the photos');
    const empty = tempDir('cnnviz-in-data-');
    const before = tf.memory().numTensors;
    try {
      const picks = [0, 151, 386, 403, 999];
      const d = await withEnv({ CNNVIZ_DATA: empty, CNNVIZ_MIRROR: mirror }, () =>
        datasets.load('imagenet-sample', { classes: picks }),
      );
      assert.deepStrictEqual(d.images.shape, [5, 224, 224, 3]);
      assert.deepStrictEqual(Array.from(d.labels), picks);
      // WordNet 3.0 noun offsets of these classes, and the names the files carry.
      assert.deepStrictEqual(d.synsets, ['n01440764', 'n02085620', 'n02504458', 'n02687172', 'n15075141']);
      assert.deepStrictEqual(
        d.files!.map((f, i) => f.startsWith(d.synsets![i] + '_')),
        [true, true, true, true, true],
      );
      assert.deepStrictEqual(
        picks.map((p) => d.classNames[p]),
        ['tench', 'Chihuahua', 'African elephant', 'aircraft carrier', 'toilet tissue'],
      );
      const [lo, hi] = tf.tidy(() => [d.images.min().dataSync()[0], d.images.max().dataSync()[0]]);
      assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.5, `pixels in [0, 1], got ${lo}..${hi}`);
      d.images.dispose();
      assert.deepStrictEqual(
        fs.readdirSync(empty).filter((f) => !f.startsWith('.')),
        [],
        'read in place',
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('takes size, fit and limit; the WordNet groups', async () => {
    const d = await datasets.load('imagenet-sample', { size: [48, 64], fit: 'contain', limit: 3 });
    assert.deepStrictEqual(d.images.shape, [3, 48, 64, 3]);
    assert.deepStrictEqual(Array.from(d.labels), [0, 1, 2]);
    d.images.dispose();
    const classes = datasets.imagenetClasses();
    assert.strictEqual(classes.length, 1000);
    const group = (s: string) => classes.find((c) => c.synset === s)!.group;
    assert.deepStrictEqual(['n02085620', 'n02504458', 'n02687172', 'n01530575', 'n07747607'].map(group), [
      'dog',
      'other mammal',
      'vehicle',
      'bird',
      'food',
    ]);
    assert.ok(classes.every((c) => datasets.IMAGENET_GROUPS.includes(c.group)));
  });

  it("maps labels by synset to Darknet's class order", async () => {
    const picks = [1, 100, 207, 340, 409, 530, 817, 948];
    const d = await datasets.load('imagenet-sample', { classes: picks, labelsFor: 'darknet-tiny' });
    const std = await datasets.load('imagenet-sample', { classes: picks, size: 8 });
    const net = await models.load('darknet-tiny');
    const before = tf.memory().numTensors;
    const top = tf.tidy(() => Array.from((net.predict(d.images) as tf.Tensor).argMax(-1).dataSync()));
    assert.strictEqual(tf.memory().numTensors, before);
    // The same photo keeps its class name; only the index moves to Darknet's.
    assert.deepStrictEqual(
      Array.from(d.labels, (l) => d.classNames[l]),
      Array.from(std.labels, (l) => std.classNames[l]),
    );
    assert.notDeepStrictEqual(Array.from(d.labels), picks);
    const right = top.filter((t, i) => t === d.labels[i]).length;
    const unmapped = top.filter((t, i) => t === std.labels[i]).length;
    assert.ok(right >= 5, `darknet-tiny right on ${right} of 8 with labels mapped by synset`);
    assert.ok(unmapped <= 1, `only ${unmapped} of 8 would match without the mapping`);
    d.images.dispose();
    std.images.dispose();
  });

  it('refuses an unknown class, a limit out of range, a missing and a corrupt file, by name', async () => {
    await assert.rejects(datasets.load('imagenet-sample', { classes: ['elephant'] }), (err: Error) => {
      assert.match(err.message, CALLER);
      assert.match(err.message, /unknown class 'elephant'.*did you mean: 'Indian elephant'.*'African elephant'/);
      return true;
    });
    await assert.rejects(datasets.load('imagenet-sample', { classes: [1000] }), /unknown class 1000; .*0\.\.999/);
    await assert.rejects(datasets.load('imagenet-sample', { limit: 0 }), /limit must be an integer in 1\.\.1000/);
    await assert.rejects(datasets.load('imagenet-sample', { limit: 1001 }), /limit must be an integer in 1\.\.1000/);
    await assert.rejects(
      datasets.load('imagenet-sample', { classes: [3, 4], limit: 3 }),
      /limit must be an integer in 1\.\.2 \(the photos chosen\), got 3/,
    );
    const data = tempDir('cnnviz-in-bad-');
    const empty = tempDir('cnnviz-in-nomirror-');
    const f = entry('imagenet-sample').files[0];
    try {
      await withEnv({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty }, () =>
        assert.rejects(datasets.load('imagenet-sample', { limit: 1 }), (err: Error) => {
          assert.match(err.message, CALLER);
          assert.ok(err.message.includes(`${f.path} (imagenet-sample, ImageNet terms`), err.message);
          assert.match(err.message, /is not in the data folder .* nor in the mirror .*kernel-setup\/setup\.sh/);
          return true;
        }),
      );
      const bytes = fs.readFileSync(path.join(mirrorDir()!, f.path));
      bytes[bytes.length >> 1] ^= 0xff;
      fs.mkdirSync(path.join(data, 'imagenet-sample'));
      fs.writeFileSync(path.join(data, f.path), bytes);
      await withEnv({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty }, () =>
        assert.rejects(datasets.load('imagenet-sample', { limit: 1 }), (err: Error) => {
          assert.match(err.message, CALLER);
          assert.ok(err.message.includes('n01440764_tench.JPEG has sha256 ' + sha(bytes)), err.message);
          assert.ok(err.message.includes(`the manifest says ${f.sha256}`), err.message);
          return true;
        }),
      );
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('imagenet-sample: the setup script downloads the originals when there is no mirror', function () {
  this.timeout(300000);
  const fill = path.join(packageRoot(), 'kernel-setup', 'fill-data.js');
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, [fill], { env: { ...process.env, ...env } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code: code ?? 1, out }));
    });

  it('checks each by structure, records its own hash, refuses a cut file; datasets.load reads them', async () => {
    const data = tempDir('cnnviz-in-dl-');
    const empty = tempDir('cnnviz-in-nomirror-');
    const files = entry('imagenet-sample').files;
    let cut = true;
    // The "originals": the mirror's photos with a JPEG comment added (another size and hash, still a JPEG).
    const server = http.createServer((req, res) => {
      const m = /^\/imagenet-sample\/([^/]+\.JPEG)$/.exec(decodeURIComponent(req.url ?? ''));
      const f = m && files.find((x) => x.path === `imagenet-sample/${m[1]}`);
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      const bytes = fs.readFileSync(path.join(mirrorDir()!, f.path));
      const note = Buffer.from([0xff, 0xfe, 0x00, 0x08, 0x6f, 0x72, 0x69, 0x67, 0x69, 0x6e]);
      const original = Buffer.concat([bytes.subarray(0, 2), note, bytes.subarray(2)]);
      res.writeHead(200).end(cut && f === files[0] ? original.subarray(0, 5000) : original);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      let r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty, CNNVIZ_DOWNLOAD_BASE: base });
      assert.match(
        r.out,
        /download of imagenet-sample failed: imagenet-sample\/n01440764_tench\.JPEG: not a complete JPEG/,
      );
      assert.match(r.out, /imagenet-sample: 0\/1000 files/);
      assert.ok(
        !fs.existsSync(path.join(data, 'imagenet-sample')) ||
          fs.readdirSync(path.join(data, 'imagenet-sample')).length === 0,
      );
      cut = false;
      r = await run({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty, CNNVIZ_DOWNLOAD_BASE: base });
      assert.match(r.out, /imagenet-sample: 1000\/1000 files/);
      const got = fs.readFileSync(path.join(data, files[386].path));
      assert.notStrictEqual(sha(got), files[386].sha256, 'the original, not the mirror copy');
      const d = await withEnv({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty }, () =>
        datasets.load('imagenet-sample', { classes: [386], size: 64 }),
      );
      assert.deepStrictEqual(d.synsets, ['n02504458']);
      d.images.dispose();
    } finally {
      server.close();
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
