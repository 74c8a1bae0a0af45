// Faults that must end one call (a cell) with a clear error and leave the process working:
// a wasm out-of-memory, and an unhandled rejection once the wasm backend is loaded.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { WASM_TENSOR_LIMIT } from '../src/runtime/wasm_guard';

describe('faults on the wasm backend', function () {
  this.timeout(120000);
  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
  });

  it('a tensor too big for the wasm heap fails with a clear error; the backend works after', async () => {
    const keep = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numTensors;
    const row = tf.ones([1, 1000, 1000]);
    // 4.04 GB of output from a 4 MB input: refused before anything is allocated.
    const times = Math.ceil(WASM_TENSOR_LIMIT / 4e6) + 1;
    assert.throws(
      () => tf.tile(row, [times, 1, 1]),
      (err: Error) => {
        assert.ok(err instanceof RangeError);
        assert.match(
          err.message,
          new RegExp(
            /^wasm out of memory: could not allocate 3\.\d\d GB for a tensor/.source +
              / \(tensors hold 0\.\d\d GB/.source +
              /, the wasm heap is .* of at most 4 GB\); dispose tensors/.source,
          ),
        );
        return true;
      },
    );
    row.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
    const sum = tf.sum(
      tf.mul(
        keep,
        tf
          .matMul(tf.ones([64, 64]), tf.ones([64, 1]))
          .slice([0, 0], [3, 1])
          .reshape([3]),
      ),
    );
    assert.strictEqual((await sum.data())[0], 64 * 6);
    tf.dispose([keep, sum]);
  });

  it('once the wasm backend is loaded, an unhandled rejection no longer kills the process', () => {
    const backend = path.join(__dirname, '..', 'src', 'runtime', 'backend.js');
    const script = `
      const { setup } = require(${JSON.stringify(backend)});
      process.on('unhandledRejection', (r) => console.log('handled: ' + r.message));
      setup({ backend: 'wasm', quiet: true }).then(() => {
        Promise.reject(new Error('late'));
        setTimeout(() => console.log('alive'), 100);
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /handled: late\nalive/);
  });
});
