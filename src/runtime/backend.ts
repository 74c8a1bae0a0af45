import * as tf from '@tensorflow/tfjs';
import * as os from 'os';
import * as v8 from 'v8';
import { registerWasmKernels } from './kernels';
import { relaxedSimdAvailable } from './kernels/gemm';
import { dropRethrowingListeners, errorListeners, guardWasmMalloc } from './wasm_guard';
import { fail } from '../common';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface SetupOptions {
  /** Which engine runs the maths. Default: env CNNVIZ_BACKEND, else 'auto'. */
  backend?: BackendChoice;
  /** Worker threads for batch-level work (default: number of cores). */
  threads?: number;
  /** Print nothing (the report is still returned). */
  quiet?: boolean;
}

export interface SetupResult {
  /** tfjs backend name in use: 'tensorflow' | 'wasm' | 'cpu'. */
  backend: string;
  /** What runs it, in words. */
  device: string;
  /** Why this backend was chosen, e.g. "tfjs-node not installed". */
  reason: string;
  /** Worker threads available to batch-level work. */
  threads: number;
  /** One line for people: "wasm (tfjs-node-gpu not installed; tfjs-node not installed)". */
  report: string;
}

/** Loads an optional module by name; replaced in tests to fake tfjs-node being present or absent. */
export type ModuleLoader = (name: string) => unknown;

const defaultLoader: ModuleLoader = (name) => require(name);
let loader: ModuleLoader = defaultLoader;
let current: SetupResult | undefined;
let lastChoice: BackendChoice | undefined;
let pending: Promise<SetupResult> | undefined;

/** For tests: swap how optional backends are required. Returns a function restoring the default. */
export function setModuleLoaderForTests(fake: ModuleLoader | undefined): () => void {
  const previous = loader;
  loader = fake ?? defaultLoader;
  current = undefined;
  pending = undefined;
  return () => {
    loader = previous;
    current = undefined;
    pending = undefined;
  };
}

function describeLoadFailure(name: string, err: unknown): string {
  const code = (err as { code?: string })?.code;
  const msg = String((err as Error)?.message ?? err);
  if (code === 'MODULE_NOT_FOUND' && msg.includes(name)) return `${name} not installed`;
  return `${name} failed to load: ${msg.split('\n')[0]}`;
}

interface Attempt {
  ok: boolean;
  note: string;
}

async function tryTensorflow(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<Attempt> {
  const short = pkg.replace('@tensorflow/', '');
  try {
    loader(pkg);
  } catch (err) {
    return { ok: false, note: describeLoadFailure(short, err) };
  }
  if (!tf.findBackend('tensorflow') && !tf.engine().registryFactory['tensorflow']) {
    return { ok: false, note: `${short} loaded but registered no 'tensorflow' backend` };
  }
  const ok = await tf.setBackend('tensorflow');
  return ok ? { ok: true, note: short } : { ok: false, note: `${short} backend failed to initialise` };
}

/**
 * Relaxed SIMD gives the pointwise convolutions (./kernels/gemm) a fused multiply-add, a third
 * faster. V8 ships it from 11.4 (Node 22); Node 20 has it behind this flag, which only affects
 * modules compiled after it is set.
 */
function enableRelaxedSimd(): void {
  if (!relaxedSimdAvailable()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

async function tryWasm(): Promise<Attempt> {
  const listeners = errorListeners();
  try {
    loader('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, note: describeLoadFailure('tfjs-backend-wasm', err) };
  }
  const ok = await tf.setBackend('wasm');
  dropRethrowingListeners(listeners);
  if (!ok) return { ok: false, note: 'wasm backend failed to initialise' };
  enableRelaxedSimd();
  registerWasmKernels();
  guardWasmMalloc();
  return { ok: true, note: 'wasm' };
}

async function tryCpu(): Promise<Attempt> {
  const ok = await tf.setBackend('cpu');
  return ok ? { ok: true, note: 'cpu' } : { ok: false, note: 'cpu backend failed to initialise' };
}

function deviceOf(backend: string, gpu: boolean): string {
  if (backend === 'tensorflow') return gpu ? 'GPU (libtensorflow CUDA)' : 'CPU (libtensorflow)';
  if (backend === 'wasm') return 'CPU (WebAssembly SIMD, XNNPACK)';
  return 'CPU (plain JavaScript)';
}

function resolveChoice(opts: SetupOptions): BackendChoice {
  const raw = opts.backend ?? process.env.CNNVIZ_BACKEND ?? 'auto';
  const choice = raw.trim().toLowerCase() as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) {
    const from = opts.backend !== undefined ? 'backend option' : 'CNNVIZ_BACKEND';
    fail('cnnviz.setup', `unknown ${from} '${raw}'; valid choices: ${BACKEND_CHOICES.join(', ')}`);
  }
  return choice;
}

async function choose(choice: BackendChoice): Promise<{ backend: string; gpu: boolean; reason: string }> {
  const notes: string[] = [];
  const tfjsNode = async (): Promise<{ backend: string; gpu: boolean } | undefined> => {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
      const a = await tryTensorflow(pkg);
      if (a.ok) return { backend: 'tensorflow', gpu: pkg.endsWith('-gpu') };
      notes.push(a.note);
    }
    return undefined;
  };
  if (choice === 'auto' || choice === 'tensorflow') {
    const got = await tfjsNode();
    if (got)
      return {
        ...got,
        reason: choice === 'auto' ? `auto: ${got.gpu ? 'tfjs-node-gpu' : 'tfjs-node'} loaded` : 'forced',
      };
    if (choice === 'tensorflow') {
      fail(
        'cnnviz.setup',
        `backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu ` +
          `(${notes.join('; ')}). ` +
          `Install one with 'npm install @tensorflow/tfjs-node' on a machine with internet, or choose 'wasm' or 'cpu'.`,
      );
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    const a = await tryWasm();
    if (a.ok) return { backend: 'wasm', gpu: false, reason: choice === 'auto' ? notes.join('; ') : 'forced' };
    notes.push(a.note);
    if (choice === 'wasm') fail('cnnviz.setup', `backend 'wasm' unavailable: ${a.note}`);
  }
  const a = await tryCpu();
  if (!a.ok) fail('cnnviz.setup', `no backend could start (${[...notes, a.note].join('; ')})`);
  return { backend: 'cpu', gpu: false, reason: choice === 'auto' ? notes.join('; ') : 'forced' };
}

let configuredThreads = Math.max(1, os.cpus().length);

/** Worker threads that batch-level work may use. */
export function threadCount(): number {
  return configuredThreads;
}

/**
 * Pick and start the backend. `auto` tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order;
 * `CNNVIZ_BACKEND` forces one. Calling again with the same choice returns the same result.
 */
export async function setup(opts: SetupOptions = {}): Promise<SetupResult> {
  const choice = resolveChoice(opts);
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      fail('cnnviz.setup', `threads must be a positive integer, got ${opts.threads}`);
    }
    configuredThreads = opts.threads;
  }
  if (current && choice === lastChoice && tf.getBackend() === current.backend) {
    return { ...current, threads: configuredThreads };
  }
  if (!pending) {
    pending = (async () => {
      const got = await choose(choice);
      await tf.ready();
      const reason = got.reason;
      const report =
        `${got.backend}${reason ? ` (${reason})` : ''}, ${configuredThreads} ` +
        `thread${configuredThreads > 1 ? 's' : ''}`;
      return {
        backend: got.backend,
        device: deviceOf(got.backend, got.gpu),
        reason,
        threads: configuredThreads,
        report,
      };
    })();
  }
  try {
    current = await pending;
    lastChoice = choice;
  } finally {
    pending = undefined;
  }
  if (!opts.quiet) console.log(`cnnviz backend: ${current.report}`);
  return { ...current, threads: configuredThreads };
}

/** Start the default backend once if nobody has called setup() yet (quietly). */
export async function ensureBackend(): Promise<void> {
  if (current && tf.getBackend() === current.backend) return;
  await setup({ quiet: true });
}

/** The result of the last setup(), if any. */
export function currentBackend(): SetupResult | undefined {
  return current;
}
