// Damaged files on disk: model weight files cut short or grown, refused with the file named
// and no tensor left behind.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { models, tf } from '../src';
import { smallCnn, useWasm } from './techniques_fixtures';

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
