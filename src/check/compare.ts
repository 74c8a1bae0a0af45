/**
 * Comparing what a student's function returned with the reference, and saying what is wrong in
 * words a student can act on: the shape (with the likely fix), the sign, the scale, a known
 * mistake it matches, or where the values differ most.
 */
import * as tf from '@tensorflow/tfjs';
import { shapeText } from '../common';
import { pearson } from '../techniques/core/stats';

/** A value read back from a student's function: its shape and numbers. */
export interface Values {
  shape: number[];
  data: Float32Array;
}

/** A tensor's shape and numbers, read back. */
export function valuesOf(t: tf.Tensor): Values {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

/** A (reference) tensor read back and freed. */
export async function takeValues(p: Promise<tf.Tensor> | tf.Tensor): Promise<Values> {
  const t = await p;
  const v = valuesOf(t);
  t.dispose();
  return v;
}

/** A mistake students make, computed the wrong way on purpose, with what to do about it. */
export interface KnownMistake {
  values: Float32Array;
  hint: string;
}

export interface CompareOptions {
  /** What the value is, for messages ("your saliency map"). */
  what: string;
  /** Relative tolerance against the largest reference magnitude (default 1e-3). */
  tolerance?: number;
  /** Wrong-on-purpose answers: if the student's matches one, its hint is the message. */
  mistakes?: KnownMistake[];
  /** Extra shape advice: given the student's shape and the expected one, a hint or undefined. */
  shapeHint?: (got: number[], expected: number[]) => string | undefined;
  /** Name the axes in "largest difference at [...]" (e.g. ['row', 'column']). */
  axes?: string[];
  /** Say nothing about scale/sign fits (for values where only exact agreement means anything). */
  exactOnly?: boolean;
}

export interface Comparison {
  ok: boolean;
  /** Empty when ok; otherwise what is wrong and what to try. */
  message: string;
  maxDiff: number;
}

function nestedShape(v: unknown, where: string): number[] {
  if (Array.isArray(v)) {
    if (v.length === 0) return [0];
    const inner = nestedShape(v[0], where);
    for (let i = 1; i < v.length; i++) {
      const s = nestedShape(v[i], where);
      if (s.join(',') !== inner.join(','))
        throw new Error(
          `${where} is a ragged array: row 0 has shape ${shapeText(inner)}, row ${i} has ${shapeText(s)}`,
        );
    }
    return [v.length, ...inner];
  }
  if (ArrayBuffer.isView(v)) return [(v as Float32Array).length];
  if (typeof v === 'number') return [];
  throw new Error(`${where} holds ${v === null ? 'null' : typeof v}, not numbers`);
}

function flatten(v: unknown, out: number[]): void {
  if (Array.isArray(v)) v.forEach((x) => flatten(x, out));
  else if (ArrayBuffer.isView(v)) out.push(...Array.from(v as Float32Array));
  else out.push(v as number);
}

/** A failure message in the three parts every check message has: what was expected, what came back, what to try. */
export function explain(what: string, expected: string, got: string, hint: string): string {
  return `${what}\n  expected: ${expected}\n  got: ${got}\n  hint: ${hint}`;
}

/** readValue, then the student's tensor freed (its numbers are copied out by then). */
export function takeValue(v: unknown, what: string): Values | string {
  const got = readValue(v, what);
  if (v instanceof tf.Tensor) v.dispose();
  return got;
}

/**
 * A returned value as shape + numbers, or a message saying why it cannot be read
 * (undefined, a disposed tensor, a string, ...).
 */
export function readValue(v: unknown, what: string): Values | string {
  const bad = (got: string, hint: string) =>
    explain(`${what} cannot be read.`, 'a tensor (or an array of numbers)', got, hint);
  if (v === undefined) return bad('undefined', 'did the function end without `return`?');
  if (v === null) return bad('null', 'return the tensor you computed');
  if (v instanceof tf.Tensor) {
    if (v.isDisposed)
      return bad(
        'a tensor that was already disposed',
        'return it from tf.tidy (or do not dispose it) so the caller can read it',
      );
    if (v.dtype === 'string') return bad('a string tensor', 'return numbers (float32)');
    return { shape: [...v.shape], data: Float32Array.from(v.dataSync() as ArrayLike<number>) };
  }
  if (typeof v === 'number') return { shape: [], data: Float32Array.of(v) };
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    try {
      const shape = nestedShape(v, what);
      const flat: number[] = [];
      flatten(v, flat);
      return { shape, data: Float32Array.from(flat) };
    } catch (err) {
      return bad('an array that is not a grid of numbers', (err as Error).message);
    }
  }
  if (typeof (v as { then?: unknown }).then === 'function')
    return bad('a Promise', '`await` it inside your function before returning');
  return bad(
    typeof v === 'object'
      ? `an object with keys {${Object.keys(v as object)
          .slice(0, 6)
          .join(', ')}}`
      : `a ${typeof v}`,
    'return the tensor itself',
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Generic shape advice: batch axes of size 1, channel axes of size 1, swapped axes. */
export function genericShapeHint(got: number[], expected: number[]): string | undefined {
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  if (size(got) === size(expected)) {
    if (got.length === expected.length + 1 && got[0] === 1 && sameShape(got.slice(1), expected))
      return 'it has an extra batch axis of size 1 in front: remove it with .squeeze([0])';
    if (got.length === expected.length + 1 && got[got.length - 1] === 1 && sameShape(got.slice(0, -1), expected))
      return `it has an extra channel axis of size 1 at the end: remove it with .squeeze([${got.length - 1}])`;
    if (expected.length === got.length + 1 && expected[0] === 1 && sameShape(expected.slice(1), got))
      return 'the batch axis of size 1 in front is missing: add it with .expandDims(0)';
    if (
      expected.length === got.length + 1 &&
      expected[expected.length - 1] === 1 &&
      sameShape(expected.slice(0, -1), got)
    )
      return `the channel axis of size 1 at the end is missing: add it with .expandDims(${got.length})`;
    if (got.length === 2 && expected.length === 2 && got[0] === expected[1] && got[1] === expected[0])
      return 'rows and columns are swapped: the first axis should run down the image (y), the second across (x)';
    if (got.length === 1) return `it is flat: reshape it to ${shapeText(expected)}`;
    return `it holds the right number of values: reshape it to ${shapeText(expected)}`;
  }
  if (got.length === expected.length + 1 && sameShape(got.slice(0, -1), expected))
    return `it still has ${got[got.length - 1]} channels: reduce the last axis to one value per pixel`;
  return undefined;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** Pearson correlation (0 when either side is constant). */
export const correlation = (a: Float32Array, b: Float32Array): number => pearson(a, b);

/** True when a and b agree within tol * max|b| (plus a tiny absolute floor). */
export function close(a: Float32Array, b: Float32Array, tol: number): boolean {
  const scale = Math.max(maxAbs(b), 1e-12);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol * scale + 1e-7)) return false;
  return true;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

function position(flat: number, shape: number[], axes?: string[]): string {
  const idx: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  if (axes && axes.length === idx.length) return idx.map((v, i) => `${axes[i]} ${v}`).join(', ');
  return shapeText(idx);
}

/**
 * Compares values of the right shape with the reference; the message says what was expected, what came back, and what
 * to try.
 */
export function compareValues(got: Values, ref: Values, opts: CompareOptions): Comparison {
  const tol = opts.tolerance ?? 1e-3;
  if (!sameShape(got.shape, ref.shape)) {
    const hint =
      opts.shapeHint?.(got.shape, ref.shape) ??
      genericShapeHint(got.shape, ref.shape) ??
      'print the shapes of your intermediate tensors (t.shape) and compare them with the task';
    return {
      ok: false,
      maxDiff: Infinity,
      message: explain(
        `${opts.what} has the wrong shape.`,
        `shape ${shapeText(ref.shape)}`,
        `shape ${shapeText(got.shape)}`,
        hint,
      ),
    };
  }
  const a = got.data;
  const b = ref.data;
  const bad = a.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const what = Number.isNaN(a[bad]) ? 'NaN' : 'an infinite value';
    return {
      ok: false,
      maxDiff: Infinity,
      message: explain(
        `${opts.what} contains ${what}.`,
        `finite numbers (the reference has ${fmt(b[bad])} at ${position(bad, got.shape, opts.axes)})`,
        `${what} there`,
        'look for a division by zero or a log of zero',
      ),
    };
  }
  let maxDiff = 0;
  let at = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxDiff) {
      maxDiff = d;
      at = i;
    }
  }
  if (close(a, b, tol)) return { ok: true, message: '', maxDiff };
  const where = position(at, got.shape, opts.axes);
  const expected = `${fmt(b[at])} at ${where} (where yours differs most)`;
  const gotText = `${fmt(a[at])} there`;
  const fail = (head: string, hint: string): Comparison => ({
    ok: false,
    maxDiff,
    message: explain(`${opts.what} ${head}`, expected, gotText, hint),
  });
  for (const m of opts.mistakes ?? []) {
    if (m.values.length === a.length && close(a, m.values, Math.max(tol, 1e-3)))
      return fail('does not match the reference.', m.hint);
  }
  const refMax = maxAbs(b);
  const gotMax = maxAbs(a);
  if (gotMax === 0 && refMax > 0)
    return {
      ok: false,
      maxDiff,
      message: explain(
        `${opts.what} is all zeros.`,
        `values up to ${fmt(refMax)} in magnitude`,
        'zero everywhere',
        'check that what you return is computed from the input (a gradient of a score that does not depend on the ' +
          'image is zero)',
      ),
    };
  if (!opts.exactOnly && refMax > 0) {
    // Best scale factor c with a ~ c * b; if that explains a, the difference is a sign or a scale.
    const c = dot(a, b) / Math.max(dot(b, b), 1e-30);
    const scaled = b.map((v) => c * v);
    if (close(a, scaled, Math.max(tol, 1e-3))) {
      if (Math.abs(c + 1) < 0.01)
        return fail(
          'is the reference with the sign flipped (every value is -1 times the reference).',
          'check the direction: the score should be maximised (+), and differences taken the way round the task says',
        );
      if (c < 0)
        return fail(
          `is the reference times ${fmt(c)}: both the sign and the scale are off.`,
          'check the direction (+ gradient) and any factor or normalisation you applied',
        );
      return fail(
        `is the reference times ${fmt(c)}: right pattern, wrong scale.`,
        'remove (or add) the normalisation or constant factor; the reference is not rescaled',
      );
    }
    const absA = a.map(Math.abs);
    const absB = b.map(Math.abs);
    if (close(absA, absB, Math.max(tol, 1e-3))) {
      return fail(
        'has the right magnitudes but some signs differ from the reference.',
        `the reference ${b.some((v) => v < 0) ? 'keeps the sign' : 'takes the absolute value (all values >= 0)'}`,
      );
    }
  }
  const r = correlation(a, b);
  const hint =
    r > 0.9
      ? `the pattern is close (correlation ${fmt(r)} with the reference); look for a small difference in the formula ` +
        `(which score, which fill value, an offset)`
      : r < -0.5
        ? `the pattern is reversed (correlation ${fmt(r)}): check the sign of what you compute`
        : `correlation with the reference is ${fmt(r)}; follow the task's steps one at a time and print each ` +
          `intermediate tensor on one image`;
  return fail('differs from the reference.', hint);
}
