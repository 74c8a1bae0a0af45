import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { setup, setModuleLoaderForTests, ModuleLoader } from '../src/runtime/backend';

function notInstalled(name: string): Error {
  const err = new Error(`Cannot find module '${name}'`) as Error & { code: string };
  err.code = 'MODULE_NOT_FOUND';
  return err;
}

/**
 * A loader where the given tfjs-node packages "load" by registering a stand-in 'tensorflow'
 * backend (a cpu backend under that name, as the real package registers its native one), and
 * every other optional package resolves as usual.
 */
function fakeLoader(present: { node?: boolean; gpu?: boolean; broken?: boolean }): ModuleLoader {
  return (name: string) => {
    const wanted =
      (name === '@tensorflow/tfjs-node' && present.node) || (name === '@tensorflow/tfjs-node-gpu' && present.gpu);
    if (name.startsWith('@tensorflow/tfjs-node')) {
      if (!wanted) throw notInstalled(name);
      tf.registerBackend('tensorflow', () => {
        if (present.broken) throw new Error('libtensorflow.so: cannot open shared object file');
        return new MathBackendCPU();
      });
      return {};
    }
    return require(name);
  };
}

describe('setup() chooses the backend', function () {
  let restore: (() => void) | undefined;
  const savedEnv = process.env.CNNVIZ_BACKEND;

  afterEach(async () => {
    restore?.();
    restore = undefined;
    if (tf.engine().registryFactory['tensorflow']) tf.removeBackend('tensorflow');
    if (savedEnv === undefined) delete process.env.CNNVIZ_BACKEND;
    else process.env.CNNVIZ_BACKEND = savedEnv;
    await tf.setBackend('wasm');
  });

  it('falls back to wasm when tfjs-node is absent, and says why', async () => {
    delete process.env.CNNVIZ_BACKEND;
    restore = setModuleLoaderForTests(fakeLoader({}));
    const r = await setup({ backend: 'auto', quiet: true });
    assert.strictEqual(r.backend, 'wasm');
    assert.strictEqual(tf.getBackend(), 'wasm');
    assert.match(r.reason, /tfjs-node-gpu not installed; tfjs-node not installed/);
    assert.match(r.device, /WebAssembly/);
  });

  it('prefers tfjs-node when it loads', async () => {
    delete process.env.CNNVIZ_BACKEND;
    restore = setModuleLoaderForTests(fakeLoader({ node: true }));
    const r = await setup({ quiet: true });
    assert.strictEqual(r.backend, 'tensorflow');
    assert.strictEqual(tf.getBackend(), 'tensorflow');
    assert.strictEqual(r.device, 'CPU (libtensorflow)');
    assert.match(r.reason, /tfjs-node loaded/);
  });

  it('prefers tfjs-node-gpu over tfjs-node', async () => {
    restore = setModuleLoaderForTests(fakeLoader({ node: true, gpu: true }));
    const r = await setup({ backend: 'auto', quiet: true });
    assert.strictEqual(r.backend, 'tensorflow');
    assert.match(r.device, /GPU/);
  });

  it('moves on to wasm when tfjs-node loads but its backend cannot start', async () => {
    restore = setModuleLoaderForTests(fakeLoader({ node: true, broken: true }));
    // tfjs logs the failed initialisation itself; keep the test output clean.
    const warn = console.warn;
    console.warn = () => undefined;
    let r;
    try {
      r = await setup({ backend: 'auto', quiet: true });
    } finally {
      console.warn = warn;
    }
    assert.strictEqual(r.backend, 'wasm');
    assert.match(r.reason, /tfjs-node backend failed to initialise/);
  });

  it("explains how to get 'tensorflow' when it is forced but absent", async () => {
    restore = setModuleLoaderForTests(fakeLoader({}));
    await assert.rejects(
      setup({ backend: 'tensorflow', quiet: true }),
      /npm install @tensorflow\/tfjs-node.*'wasm' or 'cpu'/,
    );
  });

  it('honours CNNVIZ_BACKEND and rejects unknown names with the valid choices', async () => {
    restore = setModuleLoaderForTests(fakeLoader({ node: true }));
    process.env.CNNVIZ_BACKEND = 'cpu';
    assert.strictEqual((await setup({ quiet: true })).backend, 'cpu');
    process.env.CNNVIZ_BACKEND = 'gpu';
    await assert.rejects(
      setup({ quiet: true }),
      /unknown CNNVIZ_BACKEND 'gpu'; valid choices: auto, tensorflow, wasm, cpu/,
    );
    await assert.rejects(setup({ backend: 'webgl' as never, quiet: true }), /unknown backend option 'webgl'/);
  });

  it('validates threads', async () => {
    await assert.rejects(
      setup({ backend: 'wasm', threads: 0, quiet: true }),
      /threads must be a positive integer, got 0/,
    );
    assert.strictEqual((await setup({ backend: 'wasm', threads: 2, quiet: true })).threads, 2);
  });

  it('registers the fast wasm gradient kernels', async () => {
    restore = setModuleLoaderForTests(fakeLoader({}));
    await setup({ backend: 'wasm', quiet: true });
    for (const name of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
    ]) {
      assert.ok(tf.getKernel(name, 'wasm'), `${name} is not registered for wasm`);
    }
  });
});
