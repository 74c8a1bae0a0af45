import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cacheFile, cachedWithInfo, shippedCacheDir } from '../src/runtime/cache';

describe('result cache: the user cache, then the results shipped with the lecture', () => {
  let dir: string;
  let shipped: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-cache-'));
    shipped = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-shipped-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(shipped, { recursive: true, force: true });
  });

  it('computes and stores on a miss, loads from the user cache on a hit', async () => {
    let calls = 0;
    const compute = () => ({ points: Float32Array.from([1, 2, 3]), n: ++calls });
    const a = await cachedWithInfo('thing', { k: 1 }, compute, { dir, shipped, quiet: true });
    const b = await cachedWithInfo('thing', { k: 1 }, compute, { dir, shipped, quiet: true });
    assert.strictEqual(calls, 1);
    assert.deepStrictEqual([a.info.hit, b.info.hit], [false, true]);
    assert.deepStrictEqual(Array.from(b.value.points), [1, 2, 3]);
    assert.deepStrictEqual(fs.readdirSync(shipped), [], 'nothing is written to the shipped folder');
  });

  it('falls back to a shipped result, read-only; recompute skips both and writes only the user cache', async () => {
    // A result made elsewhere and committed: the same file name under the shipped folder.
    await cachedWithInfo('emb', { model: 'w', perplexity: 30 }, () => ({ points: Float32Array.from([7, 8]) }), {
      dir: shipped,
      shipped: null,
      quiet: true,
    });
    let calls = 0;
    const compute = () => ({ points: Float32Array.from([calls++, 0]) });
    const hit = await cachedWithInfo('emb', { model: 'w', perplexity: 30 }, compute, { dir, shipped, quiet: true });
    assert.strictEqual(calls, 0);
    assert.ok(hit.info.hit);
    assert.strictEqual(
      hit.info.file,
      path.join(shipped, path.basename(cacheFile('emb', { model: 'w', perplexity: 30 }, { dir }))),
    );
    assert.deepStrictEqual(Array.from(hit.value.points), [7, 8]);
    // Other inputs are not served by the shipped result.
    const other = await cachedWithInfo('emb', { model: 'w', perplexity: 5 }, compute, { dir, shipped, quiet: true });
    assert.ok(!other.info.hit);
    const again = await cachedWithInfo('emb', { model: 'w', perplexity: 30 }, compute, {
      dir,
      shipped,
      quiet: true,
      recompute: true,
    });
    assert.ok(!again.info.hit);
    assert.strictEqual(calls, 2);
    assert.ok(fs.existsSync(cacheFile('emb', { model: 'w', perplexity: 30 }, { dir })));
    assert.deepStrictEqual(fs.readdirSync(shipped).length, 1, 'the shipped folder is untouched');
  });

  it('ships the lecture results in notebooks/results', () => {
    const files = fs.readdirSync(shippedCacheDir());
    for (const name of [
      'cifar-tsne',
      'cifar-umap',
      'cifar-kpca',
      'cifar-pixels-tsne',
      'cifar-mobilenet-tsne',
      'cifar-features-knn',
    ]) {
      assert.ok(
        files.some((f) => f.startsWith(`${name}-`) && f.endsWith('.json')),
        `no shipped ${name} result`,
      );
    }
  });
});
