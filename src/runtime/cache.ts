/**
 * A disk cache for heavy notebook results (the 10,000-point embeddings, feature vectors): a
 * result is stored under a key made from everything it was computed from, so a changed model,
 * dataset or option computes afresh, and an unchanged one loads in a fraction of a second.
 * That is what keeps a lecture notebook live-codable: the teacher changes a perplexity and
 * waits once; re-running the notebook in class does not wait at all.
 *
 * Values: typed arrays, tensors, numbers, strings, booleans, null, and arrays / plain objects of
 * them. Files are JSON (typed arrays and tensors as base64) in `cacheDir()`.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { findPackageRoot } from '../common/package_root';
import { fail } from '../common';

export interface CacheOptions {
  /** Folder of the cache files (default: env CNNVIZ_CACHE, else `.cache/results` in the package). */
  dir?: string;
  /**
   * Compute even when a stored result exists, and store the new one. Default: env
   * CNNVIZ_RECOMPUTE is '1' / 'true' / 'all', or a comma-separated list that names this entry.
   */
  recompute?: boolean;
  /**
   * Read-only folder looked in after `dir` (default `shippedCacheDir()`: results committed with
   * the lecture, so a fresh clone does not wait for its 10,000-point embeddings); null for none.
   */
  shipped?: string | null;
  /** Print nothing (default: one line saying whether the result was loaded or computed). */
  quiet?: boolean;
}

/** What `cached` returns besides the value. */
export interface CacheHit {
  /** True when the value came from disk. */
  hit: boolean;
  file: string;
  /** Seconds the computation took (now, or when the stored value was made). */
  computeSeconds: number;
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array | Int16Array | Uint32Array | Int8Array;
const TYPED: Record<string, new (b: ArrayBuffer) => Typed> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int8Array,
};

/** The package root, or the working folder when cnnviz runs from elsewhere. */
function packageRoot(): string {
  return findPackageRoot() ?? process.cwd();
}

/** Where results are stored: env CNNVIZ_CACHE, else `<package>/.cache/results`. */
export function cacheDir(): string {
  return process.env.CNNVIZ_CACHE || path.join(packageRoot(), '.cache', 'results');
}

/** Results shipped with the repository for the lecture notebooks (read-only): `<package>/notebooks/results`. */
export function shippedCacheDir(): string {
  return path.join(packageRoot(), 'notebooks', 'results');
}

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function isModel(v: unknown): v is tf.LayersModel {
  return v instanceof tf.LayersModel;
}

/**
 * A short hex digest of anything a result depends on: numbers, strings, typed arrays, tensors,
 * models (their layer names and weights), and arrays / objects of these (object keys sorted).
 */
export function fingerprint(...parts: unknown[]): string {
  const h = createHash('sha256');
  const feed = (v: unknown): void => {
    if (v === undefined) h.update('u;');
    else if (v === null) h.update('n;');
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
      h.update(`${typeof v}:${String(v)};`);
    else if (typeof v === 'string') h.update(`s${v.length}:${v};`);
    else if (typeof v === 'function')
      fail('cache.fingerprint', 'functions cannot be fingerprinted; pass the values the function depends on');
    else if (isTyped(v)) {
      h.update(`${v.constructor.name}${v.length}:`);
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else if (v instanceof tf.Tensor) {
      if (v.isDisposed) fail('cache.fingerprint', 'a tensor among the inputs has been disposed');
      h.update(`tensor:${v.dtype}:[${v.shape.join(',')}]:`);
      feed(v.dataSync());
    } else if (isModel(v)) {
      h.update(`model:${v.layers.map((l) => `${l.name}/${l.getClassName()}`).join(',')}:`);
      for (const w of v.getWeights()) feed(w);
    } else if (Array.isArray(v)) {
      h.update(`a${v.length}[`);
      v.forEach(feed);
      h.update(']');
    } else if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      h.update('{');
      for (const k of Object.keys(o).sort()) {
        h.update(`${k}=`);
        feed(o[k]);
      }
      h.update('}');
    } else h.update(String(v));
  };
  parts.forEach(feed);
  return h.digest('hex').slice(0, 16);
}

function encode(v: unknown, where: string): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
    if (typeof v === 'number' && !Number.isFinite(v)) return { __number: String(v) };
    return v;
  }
  if (isTyped(v))
    return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof tf.Tensor) return { __tensor: v.dtype, shape: v.shape, data: encode(v.dataSync(), where) };
  if (Array.isArray(v)) return v.map((x, i) => encode(x, `${where}[${i}]`));
  if (typeof v === 'object' && v !== undefined && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      if (x !== undefined) out[k] = encode(x, `${where}.${k}`);
    return out;
  }
  fail(
    'cache',
    `cannot store ${where} ` +
      `(${v === undefined ? 'undefined' : ((v as object).constructor?.name ?? typeof v)}); store typed arrays, ` +
      `tensors, numbers, strings, or arrays / plain objects of them`,
  );
}

function decode(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decode);
  const o = v as Record<string, unknown>;
  if (typeof o.__number === 'string') return Number(o.__number);
  if (typeof o.__typed === 'string') {
    const Ctor = TYPED[o.__typed];
    if (!Ctor) fail('cache', `unknown array type ${o.__typed}`);
    const bytes = Buffer.from(o.b64 as string, 'base64');
    // Copy into a fresh, aligned buffer.
    const buf = new ArrayBuffer(bytes.length);
    new Uint8Array(buf).set(bytes);
    return new Ctor(buf);
  }
  if (typeof o.__tensor === 'string') {
    const data = decode(o.data) as Typed;
    return tf.tensor(data as Float32Array, o.shape as number[], o.__tensor as tf.DataType);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = decode(x);
  return out;
}

function recomputeWanted(name: string, opt: boolean | undefined): boolean {
  if (opt !== undefined) return opt;
  const env = (process.env.CNNVIZ_RECOMPUTE ?? '').trim().toLowerCase();
  if (!env || env === '0' || env === 'false') return false;
  if (env === '1' || env === 'true' || env === 'all') return true;
  return env
    .split(',')
    .map((s) => s.trim())
    .includes(name.toLowerCase());
}

function safeName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    fail(
      'cache',
      `name ${JSON.stringify(name)} should be letters, digits, '-', '_' or '.' (it becomes part of a file name)`,
    );
  }
  return name;
}

/** The file a result with this name and these inputs is stored in. */
export function cacheFile(name: string, key: unknown, opts: CacheOptions = {}): string {
  return path.join(opts.dir ?? cacheDir(), `${safeName(name)}-${fingerprint(key)}.json`);
}

/**
 * The stored result of `compute` for these inputs, or compute it now and store it.
 * `key` is everything the result depends on (model, data, options); see `fingerprint`.
 * Returns the value and whether it came from disk (`info`).
 */
export async function cachedWithInfo<T>(
  name: string,
  key: unknown,
  compute: () => T | Promise<T>,
  opts: CacheOptions = {},
): Promise<{ value: T; info: CacheHit }> {
  const file = cacheFile(name, key, opts);
  const say = (line: string) => {
    if (!opts.quiet) console.log(line);
  };
  if (!recomputeWanted(name, opts.recompute)) {
    const shippedDir = opts.shipped === undefined ? shippedCacheDir() : opts.shipped;
    const shipped = shippedDir === null ? undefined : path.join(shippedDir, path.basename(file));
    for (const [from, where] of [
      [file, 'the cache'],
      [shipped, 'the results shipped with cnnviz'],
    ] as const) {
      if (!from || !fs.existsSync(from)) continue;
      try {
        const stored = JSON.parse(fs.readFileSync(from, 'utf8')) as {
          value: unknown;
          seconds: number;
          created: string;
        };
        const value = decode(stored.value) as T;
        say(
          `${name}: loaded from ${where} (computed in ${stored.seconds.toFixed(1)} s ` +
            `on ${stored.created.slice(0, 10)}; recompute: { recompute: true } or CNNVIZ_RECOMPUTE=${name})`,
        );
        return { value, info: { hit: true, file: from, computeSeconds: stored.seconds } };
      } catch {
        // A damaged file (e.g. an interrupted write) is recomputed below.
      }
    }
  }
  const t0 = performance.now();
  const value = await compute();
  const seconds = (performance.now() - t0) / 1000;
  const body = JSON.stringify({ name, created: new Date().toISOString(), seconds, value: encode(value, name) });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename, so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
  say(`${name}: computed in ${seconds.toFixed(1)} s, stored in the cache`);
  return { value, info: { hit: false, file, computeSeconds: seconds } };
}

/** `cachedWithInfo` without the info: the stored value for these inputs, or computed and stored. */
export async function cached<T>(
  name: string,
  key: unknown,
  compute: () => T | Promise<T>,
  opts: CacheOptions = {},
): Promise<T> {
  return (await cachedWithInfo(name, key, compute, opts)).value;
}

/** Deletes stored results: all, or those whose name starts with `prefix`. Returns how many. */
export function clearCache(prefix = '', opts: Pick<CacheOptions, 'dir'> = {}): number {
  const dir = opts.dir ?? cacheDir();
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.json') && f.startsWith(prefix)) {
      fs.unlinkSync(path.join(dir, f));
      n++;
    }
  }
  return n;
}
