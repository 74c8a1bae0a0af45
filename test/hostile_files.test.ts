// Damaged files on disk: model weight files cut short or grown, refused with the file named
// and no tensor left behind.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { spawnSync } from 'child_process';
import { datasets, models, tf } from '../src';
import { entry, fileState, mirrorDir, sha256 } from '../src/data/store';
import { REPO } from './util/notebook';
import { smallCnn, useWasm } from './util/techniques_fixtures';
import { withEnv } from './util/env';

describe('models.load: damaged weight files', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-weights-'));
  before(async () => {
    await useWasm();
    const m = smallCnn();
    await models.save(m, path.join(dir, 'good'));
    m.dispose();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function copyWith(name: string, change: (w: Buffer) => Buffer): string {
    const to = path.join(dir, name);
    fs.mkdirSync(to, { recursive: true });
    fs.copyFileSync(path.join(dir, 'good', 'model.json'), path.join(to, 'model.json'));
    fs.writeFileSync(path.join(to, 'weights.bin'), change(fs.readFileSync(path.join(dir, 'good', 'weights.bin'))));
    return to;
  }

  it('a whole model loads; a file cut in half or 4 KB too long is refused, naming it, no tensor left', async () => {
    const good = await models.load(path.join(dir, 'good'));
    good.dispose();
    const size = fs.statSync(path.join(dir, 'good', 'weights.bin')).size;
    const cases: [string, (w: Buffer) => Buffer, string][] = [
      ['half', (w) => w.subarray(0, Math.floor(w.length / 2)), 'truncated'],
      ['long', (w) => Buffer.concat([w, Buffer.alloc(4096)]), 'too long'],
    ];
    for (const [name, change, what] of cases) {
      const at = copyWith(name, change);
      const before = tf.memory().numTensors;
      const bytes = fs.statSync(path.join(at, 'weights.bin')).size;
      await assert.rejects(models.load(at), (err: Error) => {
        assert.ok(err.message.startsWith('models.load: the weights of '), err.message);
        assert.ok(err.message.includes(path.join(at, 'weights.bin')), err.message);
        assert.ok(err.message.includes(`are ${bytes} bytes; its manifest needs ${size} (${what}`), err.message);
        return true;
      });
      assert.strictEqual(tf.memory().numTensors, before, `${name}: no tensor left behind`);
    }
  });
});

describe('data files: hash-checked at their first read in a process', function () {
  this.timeout(300000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-integrity-'));
  const empty = path.join(root, 'no-mirror');
  const gzSource = path.join(mirrorDir() ?? '/nonexistent', 'cifar-10-batches-bin', 'test_batch.bin.gz');
  before(() => fs.mkdirSync(empty));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const load = (data: string) =>
    withEnv({ CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty }, async () => {
      const ds = await datasets.load('cifar-10', { split: 'test', limit: 5 });
      const labels = Array.from(ds.labels);
      ds.images.dispose();
      return labels;
    });

  it('a plain test_batch.bin is checked too: with every label shifted it is refused by name', async () => {
    assert.ok(fs.existsSync(gzSource), `the mirror's ${gzSource}`);
    const plain = zlib.gunzipSync(fs.readFileSync(gzSource));
    const good = path.join(root, 'plain-good');
    fs.mkdirSync(path.join(good, 'cifar-10-batches-bin'), { recursive: true });
    fs.writeFileSync(path.join(good, 'cifar-10-batches-bin', 'test_batch.bin'), plain);
    const labels = await load(good);
    assert.strictEqual(labels.length, 5);
    const shifted = Buffer.from(plain);
    for (let r = 0; r < 10000; r++) shifted[r * 3073] = (shifted[r * 3073] + 1) % 10;
    const bad = path.join(root, 'plain-shifted');
    const file = path.join(bad, 'cifar-10-batches-bin', 'test_batch.bin');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, shifted);
    await assert.rejects(load(bad), (err: Error) => {
      assert.ok(err.message.startsWith(`datasets.load('cifar-10'): ${file} has sha256 `), err.message);
      assert.match(err.message, /the manifest says [0-9a-f]{64} for the content of .*test_batch\.bin\.gz; delete it/);
      return true;
    });
  });

  it('a file corrupted in place with its modification time restored is caught (inode/ctime, fresh hash)', async () => {
    const data = path.join(root, 'in-place');
    const file = path.join(data, 'cifar-10-batches-bin', 'test_batch.bin.gz');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(gzSource, file);
    fs.utimesSync(file, 1.7e9, 1.7e9);
    await load(data);
    const st = fs.statSync(file);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100] ^= 0x55;
    fs.writeFileSync(file, bytes);
    // as cp -p, rsync -t or bit rot leave it: same size, same modification time
    fs.utimesSync(file, 1.7e9, 1.7e9);
    assert.strictEqual(fs.statSync(file).mtimeMs, st.mtimeMs);
    await assert.rejects(load(data), /test_batch\.bin\.gz has sha256 [0-9a-f]{64}, the manifest says/);
  });
});

describe('doctor --verify: bit rot the hash records cannot see', () => {
  it('a record made before the bytes rotted says present; the fresh hash says bad hash', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-rot-'));
    try {
      await withEnv({ CNNVIZ_DATA: data }, async () => {
        const f = entry('mobilenet').files[0];
        const file = path.join(data, f.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.copyFileSync(path.join(mirrorDir()!, f.path), file);
        assert.strictEqual(fileState(data, f), 'present');
        const bytes = fs.readFileSync(file);
        bytes[7] ^= 0x01;
        fs.writeFileSync(file, bytes);
        // bit rot changes no size and no time: the record (written before) still matches the file's status
        const records = path.join(data, '.hashes.json');
        const all = JSON.parse(fs.readFileSync(records, 'utf8'));
        const st = fs.statSync(file);
        all[path.resolve(file)] = {
          size: st.size,
          mtimeMs: st.mtimeMs,
          ino: st.ino,
          ctimeMs: st.ctimeMs,
          sha256: f.sha256,
        };
        fs.writeFileSync(records, JSON.stringify(all));
        assert.strictEqual(sha256(file), f.sha256, 'the record is trusted');
        assert.strictEqual(fileState(data, f), 'present');
        assert.strictEqual(fileState(data, f, true, true), 'bad hash');
      });
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('fill-data: unreadable files and left-overs', function () {
  this.timeout(120000);
  const fill = path.join(REPO, 'kernel-setup', 'fill-data.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-fill-hostile-'));
  const empty = path.join(root, 'no-mirror');
  before(() => {
    fs.mkdirSync(empty);
    fs.chmodSync(root, 0o755);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** fill-data as a user who cannot read what root made unreadable (root reads everything). */
  function run(data: string, args: string[]): { status: number | null; out: string } {
    const env = {
      ...process.env,
      CNNVIZ_DATA: data,
      CNNVIZ_MIRROR: empty,
      CNNVIZ_DOWNLOAD_BASE: 'http://127.0.0.1:9/',
    };
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const cmd = [...asUser, process.execPath, fill, ...args];
    const r = spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8', timeout: 100000 });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  it('a loader meets an unreadable file: the named error with the fix, not a raw EACCES', () => {
    const data = path.join(root, 'locked-cifar');
    const file = path.join(data, 'cifar-10-batches-bin', 'test_batch.bin.gz');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(path.join(mirrorDir()!, 'cifar-10-batches-bin', 'test_batch.bin.gz'), file);
    fs.chmodSync(file, 0);
    fs.chmodSync(data, 0o755);
    fs.chmodSync(path.dirname(file), 0o755);
    const script =
      `require(${JSON.stringify(path.join(REPO, 'build', 'src'))}).datasets.load('cifar-10', { split: 'test', ` +
      `limit: 2 }).then(() => console.log('LOADED'), (e) => console.log('ERROR ' + e.message))`;
    const env = { ...process.env, CNNVIZ_DATA: data, CNNVIZ_MIRROR: empty };
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const cmd = [...asUser, process.execPath, '-e', script];
    const r = spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8', timeout: 100000 });
    const line = (r.stdout + r.stderr).split('\n').find((l) => l.startsWith('ERROR ') || l === 'LOADED') ?? r.stderr;
    assert.strictEqual(
      line,
      `ERROR datasets.load('cifar-10'): ${file} cannot be read (permission denied); fix with: chmod a+r '${file}' ` +
        `(or run 'bash kernel-setup/setup.sh' as the user who reads it)`,
    );
  });

  it('--check reports every unreadable file with the fix, not just the first', () => {
    const data = path.join(root, 'locked');
    const files = entry('mobilenet').files.slice(0, 3);
    for (const f of files) {
      const to = path.join(data, f.path);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(mirrorDir()!, f.path), to);
      fs.chmodSync(to, 0);
    }
    fs.chmodSync(data, 0o755);
    fs.chmodSync(path.join(data, 'models'), 0o755);
    fs.chmodSync(path.join(data, 'models', 'mobilenet_v1_0.75_224'), 0o755);
    const r = run(data, ['--check']);
    assert.strictEqual(r.status, 1, r.out);
    assert.match(r.out, /3 file\(s\) cannot be read; fix the permissions \(chmod a\+r FILE\)/);
    for (const f of files) assert.ok(r.out.includes(`${path.join(data, f.path)} (EACCES)`), r.out);
  });

  it('removes left-over .part files of stopped runs, keeps those of a running one', () => {
    const data = path.join(root, 'parts');
    const dir = path.join(data, 'models', 'mobilenet_v1_0.75_224');
    fs.mkdirSync(dir, { recursive: true });
    const dead = path.join(dir, 'group1-shard1of1.part-999999');
    const live = path.join(dir, `group2-shard1of1.part-${process.pid}`);
    fs.writeFileSync(dead, Buffer.alloc(1 << 20));
    fs.writeFileSync(live, Buffer.alloc(10));
    fs.chmodSync(data, 0o777);
    fs.chmodSync(path.join(data, 'models'), 0o777);
    fs.chmodSync(dir, 0o777);
    const r = run(data, []);
    assert.match(r.out, /removed 1 left-over partial file\(s\) of stopped runs \(1\.0 MB\)/);
    assert.ok(!fs.existsSync(dead), 'the file of the stopped run is gone');
    assert.ok(fs.existsSync(live), 'the file of the running one is kept');
  });
});
