/**
 * Judged outside the student's process. In the sandboxed kernel a check runs as usual, but every
 * call of the student's function is recorded: its arguments' fingerprint, the value it returned
 * (serialized: tensors, typed arrays, numbers, plain objects), the error it threw, and the calls
 * it made of the callbacks the check gave it (gradientAscent's step and regularizer). The grader
 * then runs the same check in its own process on the same hidden inputs, with the student's
 * function replaced by the recording: the verdict is the grader's code on the grader's inputs,
 * and what happens in the kernel (patched checks, a patched `fs`, forged lines) can change only
 * the values the student's function is said to return.
 */
import * as tf from '@tensorflow/tfjs';

/** A value on the wire (JSON). */
export type Wire =
  | null
  | boolean
  | string
  | { t: 'num'; v: string }
  | { t: 'undef' }
  | { t: 'tensor'; shape: number[]; dtype: string; data: string }
  | { t: 'disposed' }
  | { t: 'typed'; kind: string; data: string }
  | { t: 'arg'; i: number }
  | { t: 'fn' }
  | { t: 'other'; what: string }
  | { t: 'array'; items: Wire[] }
  | { t: 'object'; entries: Array<[string, Wire]> }
  | number;

export interface RecordedCall {
  /** Fingerprint of the grader's arguments, to tell calls recorded on other inputs. */
  fp: string;
  value?: Wire;
  error?: string;
  leaked: number;
  /** Calls the student's function made of the functions among its arguments, in order. */
  callbacks: Array<{ arg: number; args: Wire[] }>;
}

export interface StudentRun {
  value?: unknown;
  error?: string;
  leaked: number;
}

/** What callStudent does instead of calling, while a hook is set (recording in the kernel, replay in the grader). */
export type StudentCallHook = (args: unknown[], real: (args: unknown[]) => Promise<StudentRun>) => Promise<StudentRun>;

let hook: StudentCallHook | undefined;

export function currentHook(): StudentCallHook | undefined {
  return hook;
}

/** Sets the hook; returns the one before (restore it when done). */
export function setHook(h: StudentCallHook | undefined): StudentCallHook | undefined {
  const old = hook;
  hook = h;
  return old;
}

const MAX_ELEMENTS = 1 << 24;
const TYPED: Record<string, new (b: ArrayBuffer) => ArrayLike<number>> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint32Array,
};

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Serializes a value; `refs` are objects written by reference (the call's own arguments). */
export function encode(v: unknown, refs: readonly unknown[] = [], depth = 0): Wire {
  const at = refs.findIndex((r) => r === v && typeof r === 'object' && r !== null);
  if (at >= 0 && !(v instanceof tf.Tensor)) return { t: 'arg', i: at };
  if (v === undefined) return { t: 'undef' };
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : { t: 'num', v: String(v) };
  if (typeof v === 'function') return { t: 'fn' };
  if (v instanceof tf.Tensor) {
    if (v.isDisposed) return { t: 'disposed' };
    const data = v.dtype === 'int32' ? Int32Array.from(v.dataSync()) : Float32Array.from(v.dataSync() as Float32Array);
    return { t: 'tensor', shape: v.shape.slice(), dtype: v.dtype === 'int32' ? 'int32' : 'float32', data: b64(data) };
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return { t: 'typed', kind: v.constructor.name, data: b64(v) };
  if (depth > 8) return { t: 'other', what: 'a value nested too deep' };
  if (Array.isArray(v)) return { t: 'array', items: v.slice(0, MAX_ELEMENTS).map((x) => encode(x, refs, depth + 1)) };
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null)
      return { t: 'other', what: `a ${v.constructor?.name ?? 'value'}` };
    return { t: 'object', entries: Object.entries(v).map(([k, x]) => [k, encode(x, refs, depth + 1)]) };
  }
  return { t: 'other', what: typeof v };
}

/** Thrown for a recording that is not a value this module writes. */
export class BadRecording extends Error {}

function bytes(s: unknown): Buffer {
  if (typeof s !== 'string') throw new BadRecording('data is not a string');
  return Buffer.from(s, 'base64');
}

/** The value back; tensors made fresh (the caller owns them). Checks everything: the recording is untrusted. */
export function decode(w: unknown, refs: readonly unknown[] = [], made: tf.Tensor[] = [], depth = 0): unknown {
  if (depth > 10) throw new BadRecording('nested too deep');
  if (w === null || typeof w === 'boolean' || typeof w === 'string' || typeof w === 'number') return w;
  if (typeof w !== 'object' || Array.isArray(w)) throw new BadRecording('not a recorded value');
  const o = w as Record<string, unknown>;
  switch (o.t) {
    case 'undef':
      return undefined;
    case 'num':
      return Number(o.v);
    case 'fn':
      return () => undefined;
    case 'other':
      return { toString: () => String(o.what) };
    case 'disposed': {
      const t = tf.scalar(0);
      t.dispose();
      return t;
    }
    case 'arg':
      if (typeof o.i !== 'number' || !(o.i in refs)) throw new BadRecording('a reference to no argument');
      return refs[o.i];
    case 'tensor': {
      const shape = o.shape;
      if (!Array.isArray(shape) || shape.length > 6 || !shape.every((n) => Number.isInteger(n) && n >= 0))
        throw new BadRecording('a tensor with a bad shape');
      const n = (shape as number[]).reduce((a, b) => a * b, 1);
      const buf = bytes(o.data);
      if (n > MAX_ELEMENTS || buf.length !== n * 4)
        throw new BadRecording('a tensor whose data does not fit its shape');
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      const t =
        o.dtype === 'int32'
          ? tf.tensor(new Int32Array(ab), shape as number[], 'int32')
          : tf.tensor(new Float32Array(ab), shape as number[], 'float32');
      made.push(t);
      return t;
    }
    case 'typed': {
      const Kind = TYPED[String(o.kind)];
      if (!Kind) throw new BadRecording(`an unknown array kind ${String(o.kind)}`);
      const buf = bytes(o.data);
      const size = (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (buf.length % size !== 0 || buf.length / size > MAX_ELEMENTS) throw new BadRecording('a bad typed array');
      return new Kind(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    }
    case 'array':
      if (!Array.isArray(o.items) || o.items.length > MAX_ELEMENTS) throw new BadRecording('a bad array');
      return o.items.map((x) => decode(x, refs, made, depth + 1));
    case 'object': {
      if (!Array.isArray(o.entries)) throw new BadRecording('a bad object');
      const out: Record<string, unknown> = {};
      for (const e of o.entries as unknown[]) {
        if (!Array.isArray(e) || typeof e[0] !== 'string') throw new BadRecording('a bad object entry');
        // A key like __proto__ would set the prototype: values of that name are not something a check reads.
        if (e[0] === '__proto__' || e[0] === 'constructor' || e[0] === 'prototype') continue;
        out[e[0]] = decode(e[1], refs, made, depth + 1);
      }
      return out;
    }
    default:
      throw new BadRecording(`an unknown kind '${String(o.t)}'`);
  }
}

/** A short text that is the same for the same inputs in the kernel and in the grader. */
export function fingerprint(v: unknown, depth = 0): string {
  if (depth > 4) return '…';
  if (v instanceof tf.Tensor) {
    if (v.isDisposed) return 'T(disposed)';
    const d = v.dataSync();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i] * ((i % 7) + 1);
    return `T[${v.shape.join(',')}]${s.toPrecision(6)}`;
  }
  // Not by name: a model's name counts the models made before it in that process.
  if (v instanceof tf.LayersModel) {
    const shapes = JSON.stringify([v.inputs.map((i) => i.shape), v.outputs.map((o) => o.shape)]);
    return `M(${shapes}:${v.layers.length})`;
  }
  if (typeof v === 'function') return 'F';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  if (v === null || typeof v !== 'object') return String(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return fingerprint(Array.from(v as unknown as number[]), depth);
  if (Array.isArray(v)) return `[${v.map((x) => fingerprint(x, depth + 1)).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${k}:${fingerprint((v as Record<string, unknown>)[k], depth + 1)}`)
    .join(',')}}`;
}

/** In the kernel: records each call of the student's function into `calls`. */
export function recordingHook(calls: RecordedCall[]): StudentCallHook {
  return async (args, real) => {
    const callbacks: RecordedCall['callbacks'] = [];
    const fp = fingerprint(args);
    const wrapped = args.map((a, i) =>
      typeof a === 'function'
        ? (...cb: unknown[]) => {
            callbacks.push({ arg: i, args: cb.map((x) => encode(x, args)) });
            return (a as (...x: unknown[]) => unknown)(...cb);
          }
        : a,
    );
    const run = await real(wrapped);
    calls.push({
      fp,
      value: run.error === undefined ? encode(run.value, args) : undefined,
      error: run.error,
      leaked: run.leaked,
      callbacks,
    });
    return run;
  };
}

/** Why a recording could not stand for the student's function (a message for the report). */
export interface ReplayTrouble {
  missing: number;
  mismatched: number;
  bad: string[];
}

/** In the grader: answers each call from the recording, replaying the callbacks the student's function made. */
export function replayHook(calls: readonly unknown[], trouble: ReplayTrouble): StudentCallHook {
  let k = 0;
  return async (args) => {
    const rec = calls[k++] as Partial<RecordedCall> | undefined;
    if (!rec || typeof rec !== 'object') {
      trouble.missing++;
      return { error: "no value of the student's function was recorded for this hidden input", leaked: 0 };
    }
    if (rec.fp !== fingerprint(args)) {
      trouble.mismatched++;
      return { error: "the values recorded in the kernel were made on other inputs than the grader's", leaked: 0 };
    }
    try {
      for (const cb of Array.isArray(rec.callbacks) ? rec.callbacks : []) {
        const f = args[cb.arg];
        if (typeof f !== 'function' || !Array.isArray(cb.args)) throw new BadRecording('a callback that is not one');
        const made: tf.Tensor[] = [];
        const out = (f as (...x: unknown[]) => unknown)(...cb.args.map((x) => decode(x, args, made)));
        const result = out instanceof Promise ? await out : out;
        tf.dispose(made);
        if (result instanceof tf.Tensor) result.dispose();
      }
      const leaked = typeof rec.leaked === 'number' && rec.leaked >= 0 ? rec.leaked : 0;
      if (typeof rec.error === 'string') return { error: rec.error, leaked };
      return { value: decode(rec.value, args), leaked };
    } catch (err) {
      trouble.bad.push(err instanceof Error ? err.message : String(err));
      return { error: `the recorded value could not be read (${String(err)})`, leaked: 0 };
    }
  };
}
