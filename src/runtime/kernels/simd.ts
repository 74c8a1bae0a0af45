/**
 * A few 128-bit SIMD loops that XNNPACK has no operator for (comparisons into bools, select,
 * the max-pool gradient's routing, the depthwise filter gradient, the gradient of a clip), as a tiny WebAssembly module
 * of our own that imports the wasm backend's memory and works on tensors where they lie.
 * Scalar JavaScript does the same work more slowly; it stays as the fallback when the module
 * cannot be made (no SIMD, no exported memory) and for shapes these loops do not take.
 */
import * as tf from '@tensorflow/tfjs';
import { assemble, at4, Code, FnDef, I, loop } from './simd_asm';

export const COMPARISONS = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual'] as const;
export type Comparison = (typeof COMPARISONS)[number];

type Fn = (...args: number[]) => void;

export interface SimdKernels {
  /** out[i] = a[i] op b[i] (bools as bytes), n elements. */
  compare: Record<Comparison, Fn>;
  /** out[i] = a[i] op s[0]. */
  compareScalar: Record<Comparison, Fn>;
  and: Fn;
  or: Fn;
  /** out[i] = c[i] ? t[i] : e[i] for 4-byte elements. */
  select: Fn;
  /** (x, dy, dx, nb, h, w, c, ho, wo, sh, sw, fh, fw, top, left); c % 4 == 0; dx zeroed. */
  maxPoolGrad: Fn;
  /** (x, dy, acc, nb, h, w, c, ho, wo, sh, sw, dh, dw, kh, kw, top, left); c % 4 == 0; acc zeroed. */
  depthwiseFilterGrad: Fn;
  /** (x, dy, out, n, bounds): out[i] = bounds[0] <= x[i] <= bounds[1] ? dy[i] : 0 (NaN x: 0). */
  clipGrad: Fn;
  /** (x, dy, out, n): out[i] = dy[i] * (x[i] > 0 ? 1 : 0), NaN where x is NaN (tfjs's dy * step(x)). */
  reluGrad: Fn;
  /** (x, dy, mean, s1, s2, rows, c): s1[k] += sum of dy[., k], s2[k] += sum of dy * (x - mean[k]); c % 4 == 0. */
  bnSums: Fn;
  /**
   * (x, dy, mean, coef, out, rows, c): out = dy * A[k] + (x - mean[k]) * B[k] + C[k], coef = [A | B | C]; c % 4 == 0.
   */
  bnDx: Fn;
  /** (x, mean, s, rows, c): s[k] += sum of (x[., k] - mean[k])^2; c % 4 == 0. */
  sqDev: Fn;
  /**
   * (xp, dy, out, ho, wo, hp, wp, ci, co, kh, kw, r0, r1, sh, sw, ts, js): out[i, j, ci, co] += sum
   * over output rows r0 <= r < r1 (r = image * ho + y) and columns x of
   * xp[image, y * sh + i, x * sw + j, ci] * dy[r, x, co] (a filter gradient with xp padded so
   * every tap is in range); ci % 4 == 0, co % 8 == 0, ts = ci, js = 1.
   * With one input channel, ts = ci = 1 and js = 4 take four neighbouring taps (kw % 4 == 0) as
   * the four lanes instead of four channels.
   */
  filterGrad: Fn;
}

const MIRROR: Record<Comparison, Comparison> = {
  Greater: 'Less',
  GreaterEqual: 'LessEqual',
  Less: 'Greater',
  LessEqual: 'GreaterEqual',
  Equal: 'Equal',
  NotEqual: 'NotEqual',
};
export function mirrored(op: Comparison): Comparison {
  return MIRROR[op];
}

const ones8 = I.v128const(new Array<number>(16).fill(1));
const zeros = I.v128const(new Array<number>(16).fill(0));
const lanes0123 = I.v128const([...new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer)]);
const minusOnes = I.v128const(new Array<number>(16).fill(0xff));
const minusInf = I.v128const([
  ...new Uint8Array(new Float32Array([-Infinity, -Infinity, -Infinity, -Infinity]).buffer),
]);

/** n - 15: the SIMD loops take 16 elements while i < n - 15. */
const last16 = (n: number): Code => [...I.get(n), ...I.i32(15), ...I.sub];

function compareFn(op: Comparison, scalar: boolean): FnDef {
  const [a, b, out, n, i, sv] = [0, 1, 2, 3, 4, 5];
  const lhs = (off: number): Code => [...at4(a, I.get(i)), ...I.v128load(off)];
  const rhs = (off: number): Code => (scalar ? I.get(sv) : [...at4(b, I.get(i)), ...I.v128load(off)]);
  const cmp = (off: number): Code => [...lhs(off), ...rhs(off), ...I.f32x4cmp[op]];
  const body: Code = [
    ...(scalar ? [...I.get(b), ...I.f32load(), ...I.f32x4splat, ...I.set(sv)] : []),
    ...loop(i, I.i32(0), last16(n), 16, [
      ...I.get(out),
      ...I.get(i),
      ...I.add,
      ...cmp(0),
      ...cmp(16),
      ...I.i16narrow,
      ...cmp(32),
      ...cmp(48),
      ...I.i16narrow,
      ...I.i8narrow,
      ...ones8,
      ...I.v128and,
      ...I.v128store(),
    ]),
    ...loop(i, I.get(i), I.get(n), 1, [
      ...I.get(out),
      ...I.get(i),
      ...I.add,
      ...at4(a, I.get(i)),
      ...I.f32load(),
      ...(scalar ? [...I.get(b), ...I.f32load()] : [...at4(b, I.get(i)), ...I.f32load()]),
      ...I.f32cmp[op],
      ...I.store8(),
    ]),
  ];
  return { name: `${scalar ? 'cs' : 'c'}${op}`, params: 4, i32Locals: 1, v128Locals: 1, body };
}

function logicalFn(name: 'and' | 'or'): FnDef {
  const [a, b, out, n, i] = [0, 1, 2, 3, 4];
  const byte = (p: number): Code => [...I.get(p), ...I.get(i), ...I.add];
  return {
    name,
    params: 4,
    i32Locals: 1,
    v128Locals: 0,
    body: [
      ...loop(i, I.i32(0), last16(n), 16, [
        ...byte(out),
        ...byte(a),
        ...I.v128load(),
        ...byte(b),
        ...I.v128load(),
        ...(name === 'and' ? I.v128and : I.v128or),
        ...I.v128store(),
      ]),
      ...loop(i, I.get(i), I.get(n), 1, [
        ...byte(out),
        ...byte(a),
        ...I.load8(),
        ...byte(b),
        ...I.load8(),
        ...(name === 'and' ? I.and : I.or),
        ...I.store8(),
      ]),
    ],
  };
}

function selectFn(): FnDef {
  const [c, t, e, out, n, i, m, lo, hi] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const masks: Code[] = [
    [...I.get(lo), ...I.i32extendLow],
    [...I.get(lo), ...I.i32extendHigh],
    [...I.get(hi), ...I.i32extendLow],
    [...I.get(hi), ...I.i32extendHigh],
  ];
  const blend = (k: number): Code => [
    ...at4(out, I.get(i)),
    ...at4(t, I.get(i)),
    ...I.v128load(16 * k),
    ...at4(e, I.get(i)),
    ...I.v128load(16 * k),
    ...masks[k],
    ...I.bitselect,
    ...I.v128store(16 * k),
  ];
  return {
    name: 'select',
    params: 5,
    i32Locals: 1,
    v128Locals: 3,
    body: [
      ...loop(i, I.i32(0), last16(n), 16, [
        ...I.get(c),
        ...I.get(i),
        ...I.add,
        ...I.v128load(),
        ...zeros,
        ...I.i8x16ne,
        ...I.set(m),
        ...I.get(m),
        ...I.i16extendLow,
        ...I.set(lo),
        ...I.get(m),
        ...I.i16extendHigh,
        ...I.set(hi),
        ...blend(0),
        ...blend(1),
        ...blend(2),
        ...blend(3),
      ]),
      ...loop(i, I.get(i), I.get(n), 1, [
        ...at4(out, I.get(i)),
        ...at4(t, I.get(i)),
        ...I.i32load(),
        ...at4(e, I.get(i)),
        ...I.i32load(),
        ...I.get(c),
        ...I.get(i),
        ...I.add,
        ...I.load8(),
        ...I.select,
        ...I.i32store(),
      ]),
    ],
  };
}

/** min(local, bound) and max(local, 0), written back to the local. */
const clampHigh = (l: number, bound: number): Code => [
  ...I.get(l),
  ...I.get(bound),
  ...I.get(l),
  ...I.get(bound),
  ...I.lt,
  ...I.select,
  ...I.set(l),
];
const clampLow = (l: number): Code => [
  ...I.get(l),
  ...I.i32(0),
  ...I.get(l),
  ...I.i32(0),
  ...I.gt,
  ...I.select,
  ...I.set(l),
];
/** ((p0 * d1 + p1) * d2 + p2) * d3 with locals. */
const index4 = (p0: number, d1: number, p1: number, d2: number, p2: number, d3: number): Code => [
  ...I.get(p0),
  ...I.get(d1),
  ...I.mul,
  ...I.get(p1),
  ...I.add,
  ...I.get(d2),
  ...I.mul,
  ...I.get(p2),
  ...I.add,
  ...I.get(d3),
  ...I.mul,
];

/** dst = o * stride + k * dilation - pad: the input row (or column) that tap k of output o reads. */
const tapAt = (dst: number, o: number, stride: number, k: number, dilation: number, pad: number): Code => [
  ...I.get(o),
  ...I.get(stride),
  ...I.mul,
  ...I.get(k),
  ...I.get(dilation),
  ...I.mul,
  ...I.add,
  ...I.get(pad),
  ...I.sub,
  ...I.set(dst),
];
/** The rows (or columns) [lo, hi) that a pooling window of `size` at output o covers, clipped to [0, bound). */
const windowAt = (
  lo: number,
  hi: number,
  o: number,
  stride: number,
  pad: number,
  size: number,
  bound: number,
): Code => [
  ...I.get(o),
  ...I.get(stride),
  ...I.mul,
  ...I.get(pad),
  ...I.sub,
  ...I.set(lo),
  ...I.get(lo),
  ...I.get(size),
  ...I.add,
  ...I.set(hi),
  ...clampHigh(hi, bound),
  ...clampLow(lo),
];

function maxPoolGradFn(): FnDef {
  const [x, dy, dx, nb, h, w, c, ho, wo, sh, sw, fh, fw, top, left] = Array.from({ length: 15 }, (_, k) => k);
  const [b, oy, ox, y, xx, k, y0, y1, x0, x1, o, p, t] = Array.from({ length: 13 }, (_, q) => 15 + q);
  const [best, idx, v, gt] = [28, 29, 30, 31];
  const route = (lane: number): Code => [
    ...I.get(idx),
    ...I.extractLane(lane),
    ...I.set(t),
    ...I.get(t),
    ...I.i32(0),
    ...I.ge,
    ...I.ifThen([
      ...at4(dx, I.get(t)),
      ...at4(dx, I.get(t)),
      ...I.f32load(),
      ...at4(dy, [...I.get(o), ...I.get(k), ...I.add]),
      ...I.f32load(lane * 4),
      ...I.f32add,
      ...I.f32store(),
    ]),
  ];
  const tap: Code = [
    ...index4(b, h, y, w, xx, c),
    ...I.get(k),
    ...I.add,
    ...I.set(p),
    ...at4(x, I.get(p)),
    ...I.v128load(),
    ...I.set(v),
    ...I.get(v),
    ...I.get(best),
    ...I.f32x4cmp.Greater,
    ...I.set(gt),
    ...I.get(v),
    ...I.get(best),
    ...I.get(gt),
    ...I.bitselect,
    ...I.set(best),
    ...I.get(p),
    ...I.i32x4splat,
    ...lanes0123,
    ...I.i32x4add,
    ...I.get(idx),
    ...I.get(gt),
    ...I.bitselect,
    ...I.set(idx),
  ];
  const body = loop(
    b,
    I.i32(0),
    I.get(nb),
    1,
    loop(
      oy,
      I.i32(0),
      I.get(ho),
      1,
      windowAt(y0, y1, oy, sh, top, fh, h),
      loop(
        ox,
        I.i32(0),
        I.get(wo),
        1,
        [...windowAt(x0, x1, ox, sw, left, fw, w), ...index4(b, ho, oy, wo, ox, c), ...I.set(o)],
        loop(
          k,
          I.i32(0),
          I.get(c),
          4,
          [...minusInf, ...I.set(best), ...minusOnes, ...I.set(idx)],
          loop(y, I.get(y0), I.get(y1), 1, loop(xx, I.get(x0), I.get(x1), 1, tap)),
          route(0),
          route(1),
          route(2),
          route(3),
        ),
      ),
    ),
  );
  return { name: 'maxPoolGrad', params: 15, i32Locals: 13, v128Locals: 4, body };
}

function depthwiseFilterGradFn(): FnDef {
  const [x, dy, acc, nb, h, w, c, ho, wo, sh, sw, dh, dw, kh, kw, top, left] = Array.from({ length: 17 }, (_, q) => q);
  const [b, oy, ox, i, j, y, xx, k, gp, xp, ap] = Array.from({ length: 11 }, (_, q) => 17 + q);
  const skipUnless = (l: number, bound: number): Code => [
    ...I.get(l),
    ...I.i32(0),
    ...I.lt,
    ...I.brIf(0),
    ...I.get(l),
    ...I.get(bound),
    ...I.ge,
    ...I.brIf(0),
  ];
  const accAt = at4(acc, [...I.get(ap), ...I.get(k), ...I.add]);
  const body = loop(
    b,
    I.i32(0),
    I.get(nb),
    1,
    loop(
      oy,
      I.i32(0),
      I.get(ho),
      1,
      loop(
        ox,
        I.i32(0),
        I.get(wo),
        1,
        [...index4(b, ho, oy, wo, ox, c), ...I.set(gp)],
        loop(
          i,
          I.i32(0),
          I.get(kh),
          1,
          tapAt(y, oy, sh, i, dh, top),
          skipUnless(y, h),
          loop(
            j,
            I.i32(0),
            I.get(kw),
            1,
            tapAt(xx, ox, sw, j, dw, left),
            skipUnless(xx, w),
            [
              ...index4(b, h, y, w, xx, c),
              ...I.set(xp),
              ...I.get(i),
              ...I.get(kw),
              ...I.mul,
              ...I.get(j),
              ...I.add,
              ...I.get(c),
              ...I.mul,
              ...I.set(ap),
            ],
            loop(k, I.i32(0), I.get(c), 4, [
              ...accAt,
              ...accAt,
              ...I.v128load(),
              ...at4(x, [...I.get(xp), ...I.get(k), ...I.add]),
              ...I.v128load(),
              ...at4(dy, [...I.get(gp), ...I.get(k), ...I.add]),
              ...I.v128load(),
              ...I.f32x4mul,
              ...I.f32x4add,
              ...I.v128store(),
            ]),
          ),
        ),
      ),
    ),
  );
  return { name: 'depthwiseFilterGrad', params: 17, i32Locals: 11, v128Locals: 0, body };
}

function clipGradFn(): FnDef {
  const [x, dy, out, n, bounds, i, lo, hi] = [0, 1, 2, 3, 4, 5, 6, 7];
  const xs = (off: number): Code => [...at4(x, I.get(i)), ...I.v128load(off)];
  const inRange: Code = [
    ...xs(0),
    ...I.get(lo),
    ...I.f32x4cmp.GreaterEqual,
    ...xs(0),
    ...I.get(hi),
    ...I.f32x4cmp.LessEqual,
    ...I.v128and,
  ];
  const x1: Code = [...at4(x, I.get(i)), ...I.f32load()];
  return {
    name: 'clipGrad',
    params: 5,
    i32Locals: 1,
    v128Locals: 2,
    body: [
      ...I.get(bounds),
      ...I.f32load(0),
      ...I.f32x4splat,
      ...I.set(lo),
      ...I.get(bounds),
      ...I.f32load(4),
      ...I.f32x4splat,
      ...I.set(hi),
      ...loop(i, I.i32(0), [...I.get(n), ...I.i32(3), ...I.sub], 4, [
        ...at4(out, I.get(i)),
        ...at4(dy, I.get(i)),
        ...I.v128load(),
        ...inRange,
        ...I.v128and,
        ...I.v128store(),
      ]),
      ...loop(i, I.get(i), I.get(n), 1, [
        ...at4(out, I.get(i)),
        ...at4(dy, I.get(i)),
        ...I.f32load(),
        ...I.f32(0),
        ...x1,
        ...I.get(bounds),
        ...I.f32load(0),
        ...I.f32cmp.GreaterEqual,
        ...x1,
        ...I.get(bounds),
        ...I.f32load(4),
        ...I.f32cmp.LessEqual,
        ...I.and,
        ...I.select,
        ...I.f32store(),
      ]),
    ],
  };
}

/** Per-channel sums of a batch norm's gradient over rows of c channels (NHWC, channels inner). */
function bnSumsFn(): FnDef {
  const [x, dy, mean, s1, s2, rows, c, r, k, p] = Array.from({ length: 10 }, (_, q) => q);
  const at = (base: number): Code => at4(base, [...I.get(p), ...I.get(k), ...I.add]);
  const acc = (base: number): Code => at4(base, I.get(k));
  const body = loop(
    r,
    I.i32(0),
    I.get(rows),
    1,
    [...I.get(r), ...I.get(c), ...I.mul, ...I.set(p)],
    loop(k, I.i32(0), I.get(c), 4, [
      ...acc(s1),
      ...acc(s1),
      ...I.v128load(),
      ...at(dy),
      ...I.v128load(),
      ...I.f32x4add,
      ...I.v128store(),
      ...acc(s2),
      ...acc(s2),
      ...I.v128load(),
      ...at(dy),
      ...I.v128load(),
      ...at(x),
      ...I.v128load(),
      ...acc(mean),
      ...I.v128load(),
      ...I.f32x4sub,
      ...I.f32x4mul,
      ...I.f32x4add,
      ...I.v128store(),
    ]),
  );
  return { name: 'bnSums', params: 7, i32Locals: 3, v128Locals: 0, body };
}

function sqDevFn(): FnDef {
  const [x, mean, acc, rows, c, r, k, p, d] = Array.from({ length: 9 }, (_, q) => q);
  const body = loop(
    r,
    I.i32(0),
    I.get(rows),
    1,
    [...I.get(r), ...I.get(c), ...I.mul, ...I.set(p)],
    loop(k, I.i32(0), I.get(c), 4, [
      ...at4(x, [...I.get(p), ...I.get(k), ...I.add]),
      ...I.v128load(),
      ...at4(mean, I.get(k)),
      ...I.v128load(),
      ...I.f32x4sub,
      ...I.set(d),
      ...at4(acc, I.get(k)),
      ...at4(acc, I.get(k)),
      ...I.v128load(),
      ...I.get(d),
      ...I.get(d),
      ...I.f32x4mul,
      ...I.f32x4add,
      ...I.v128store(),
    ]),
  );
  return { name: 'sqDev', params: 5, i32Locals: 3, v128Locals: 1, body };
}

/**
 * The filter gradient as a GEMM with the long reduction over pixels, read straight from x and
 * dy (no transposes, no packing): a tile of 4 input by 8 output channels of one tap stays in
 * eight registers while the pixels of the given rows stream by; the caller gives a few rows at a
 * time so they stay in cache for every tap and tile.
 */
function filterGradFn(): FnDef {
  const [xp, dy, out, ho, wo, hp, wp, ci, co, kh, kw, r0, r1, sh, sw, ts, js] = Array.from({ length: 17 }, (_, q) => q);
  const [i, j, c0, d0, r, xc, bb, xa, da, ob, xs, ds] = Array.from({ length: 12 }, (_, q) => 17 + q);
  const acc = Array.from({ length: 8 }, (_, q) => 29 + q);
  const [b0, b1, av] = [37, 38, 39];
  const accAt = (q: number, _h: number): Code => [...I.get(ob), ...I.get(ds), ...I.i32(q), ...I.mul, ...I.add];
  const mac = (q: number): Code => [
    ...I.get(acc[2 * q]),
    ...I.get(xa),
    ...I.v128load32splat(4 * q),
    ...I.tee(av),
    ...I.get(b0),
    ...I.f32x4mul,
    ...I.f32x4add,
    ...I.set(acc[2 * q]),
    ...I.get(acc[2 * q + 1]),
    ...I.get(av),
    ...I.get(b1),
    ...I.f32x4mul,
    ...I.f32x4add,
    ...I.set(acc[2 * q + 1]),
  ];
  const body = [
    ...I.get(ts),
    ...I.get(sw),
    ...I.mul,
    ...I.i32(2),
    ...I.shl,
    ...I.set(xs),
    ...I.get(co),
    ...I.i32(2),
    ...I.shl,
    ...I.set(ds),
    ...loop(
      i,
      I.i32(0),
      I.get(kh),
      1,
      loop(
        j,
        I.i32(0),
        I.get(kw),
        I.get(js),
        loop(
          c0,
          I.i32(0),
          I.get(ci),
          4,
          loop(
            d0,
            I.i32(0),
            I.get(co),
            8,
            [
              ...I.get(out),
              ...I.get(i),
              ...I.get(kw),
              ...I.mul,
              ...I.get(j),
              ...I.add,
              ...I.get(ci),
              ...I.mul,
              ...I.get(c0),
              ...I.add,
              ...I.get(co),
              ...I.mul,
              ...I.get(d0),
              ...I.add,
              ...I.i32(2),
              ...I.shl,
              ...I.add,
              ...I.set(ob),
            ],
            ...[0, 1, 2, 3].flatMap((q) => [
              [...accAt(q, 0), ...I.v128load(0), ...I.set(acc[2 * q])],
              [...accAt(q, 1), ...I.v128load(16), ...I.set(acc[2 * q + 1])],
            ]),
            loop(
              r,
              I.get(r0),
              I.get(r1),
              1,
              [
                ...I.get(r),
                ...I.get(ho),
                ...I.divU,
                ...I.set(bb),
                // xa = xp + ((((bb * hp + y * sh + i) * wp + j) * ts + c0) << 2), y = r - bb * ho
                ...I.get(xp),
                ...I.get(bb),
                ...I.get(hp),
                ...I.mul,
                ...I.get(r),
                ...I.get(bb),
                ...I.get(ho),
                ...I.mul,
                ...I.sub,
                ...I.get(sh),
                ...I.mul,
                ...I.add,
                ...I.get(i),
                ...I.add,
                ...I.get(wp),
                ...I.mul,
                ...I.get(j),
                ...I.add,
                ...I.get(ts),
                ...I.mul,
                ...I.get(c0),
                ...I.add,
                ...I.i32(2),
                ...I.shl,
                ...I.add,
                ...I.set(xa),
                ...I.get(dy),
                ...I.get(r),
                ...I.get(wo),
                ...I.mul,
                ...I.get(co),
                ...I.mul,
                ...I.get(d0),
                ...I.add,
                ...I.i32(2),
                ...I.shl,
                ...I.add,
                ...I.set(da),
              ],
              loop(
                xc,
                I.i32(0),
                I.get(wo),
                1,
                [...I.get(da), ...I.v128load(0), ...I.set(b0), ...I.get(da), ...I.v128load(16), ...I.set(b1)],
                mac(0),
                mac(1),
                mac(2),
                mac(3),
                [
                  ...I.get(xa),
                  ...I.get(xs),
                  ...I.add,
                  ...I.set(xa),
                  ...I.get(da),
                  ...I.get(ds),
                  ...I.add,
                  ...I.set(da),
                ],
              ),
            ),
            ...[0, 1, 2, 3].flatMap((q) => [
              [...accAt(q, 0), ...I.get(acc[2 * q]), ...I.v128store(0)],
              [...accAt(q, 1), ...I.get(acc[2 * q + 1]), ...I.v128store(16)],
            ]),
          ),
        ),
      ),
    ),
  ];
  return { name: 'filterGrad', params: 17, i32Locals: 12, v128Locals: 11, body };
}

function bnDxFn(): FnDef {
  const [x, dy, mean, coef, out, rows, c, r, k, p, c4] = Array.from({ length: 11 }, (_, q) => q);
  const at = (base: number): Code => at4(base, [...I.get(p), ...I.get(k), ...I.add]);
  // A, B, C are consecutive vectors of c floats: coef + 4k, + 4c, + 8c bytes.
  const co = (part: number): Code => [
    ...at4(coef, I.get(k)),
    ...I.get(c4),
    ...I.i32(part),
    ...I.mul,
    ...I.add,
    ...I.v128load(),
  ];
  const body = [
    ...I.get(c),
    ...I.i32(2),
    ...I.shl,
    ...I.set(c4),
    ...loop(
      r,
      I.i32(0),
      I.get(rows),
      1,
      [...I.get(r), ...I.get(c), ...I.mul, ...I.set(p)],
      loop(k, I.i32(0), I.get(c), 4, [
        ...at(out),
        ...at(dy),
        ...I.v128load(),
        ...co(0),
        ...I.f32x4mul,
        ...at(x),
        ...I.v128load(),
        ...at4(mean, I.get(k)),
        ...I.v128load(),
        ...I.f32x4sub,
        ...co(1),
        ...I.f32x4mul,
        ...I.f32x4add,
        ...co(2),
        ...I.f32x4add,
        ...I.v128store(),
      ]),
    ),
  ];
  return { name: 'bnDx', params: 7, i32Locals: 4, v128Locals: 0, body };
}

function reluGradFn(): FnDef {
  const [x, dy, out, n, i, xv, m] = [0, 1, 2, 3, 4, 5, 6];
  const onesF = I.v128const([...new Uint8Array(new Float32Array([1, 1, 1, 1]).buffer)]);
  const nans = I.v128const([...new Uint8Array(new Float32Array([NaN, NaN, NaN, NaN]).buffer)]);
  const x1: Code = [...at4(x, I.get(i)), ...I.f32load()];
  return {
    name: 'reluGrad',
    params: 4,
    i32Locals: 1,
    v128Locals: 2,
    body: [
      ...loop(i, I.i32(0), [...I.get(n), ...I.i32(3), ...I.sub], 4, [
        ...at4(x, I.get(i)),
        ...I.v128load(),
        ...I.set(xv),
        // m = x > 0 ? 1 : 0, then NaN where x is NaN; out = dy * m
        ...onesF,
        ...I.get(xv),
        ...zeros,
        ...I.f32x4cmp.Greater,
        ...I.v128and,
        ...I.set(m),
        ...nans,
        ...I.get(m),
        ...I.get(xv),
        ...I.get(xv),
        ...I.f32x4cmp.NotEqual,
        ...I.bitselect,
        ...I.set(m),
        ...at4(out, I.get(i)),
        ...at4(dy, I.get(i)),
        ...I.v128load(),
        ...I.get(m),
        ...I.f32x4mul,
        ...I.v128store(),
      ]),
      ...loop(i, I.get(i), I.get(n), 1, [
        ...at4(out, I.get(i)),
        ...at4(dy, I.get(i)),
        ...I.f32load(),
        ...I.f32(NaN),
        ...I.f32(1),
        ...I.f32(0),
        ...x1,
        ...I.f32(0),
        ...I.f32cmp.Greater,
        ...I.select,
        ...x1,
        ...x1,
        ...I.f32cmp.NotEqual,
        ...I.select,
        ...I.f32mul,
        ...I.f32store(),
      ]),
    ],
  };
}

let moduleBytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | null | undefined;

function compile(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    moduleBytes = assemble([
      ...COMPARISONS.map((op) => compareFn(op, false)),
      ...COMPARISONS.map((op) => compareFn(op, true)),
      logicalFn('and'),
      logicalFn('or'),
      selectFn(),
      maxPoolGradFn(),
      depthwiseFilterGradFn(),
      clipGradFn(),
      bnSumsFn(),
      bnDxFn(),
      sqDevFn(),
      filterGradFn(),
      reluGradFn(),
    ]);
    compiled = new WebAssembly.Module(moduleBytes);
  } catch {
    compiled = null; // no SIMD in this engine: the JavaScript loops take over
  }
  return compiled;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();
// (`process` is absent in the browser, where the explorer page uses these kernels too.)
let enabled = typeof process === 'undefined' || process.env.CNNVIZ_SIMD !== '0';

/** For tests and benchmarks: turn the SIMD loops off (JavaScript fallbacks) or on. */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

interface WasmBackendInternals {
  wasm?: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(id: object): { memoryOffset: number } };
}

/** The wasm backend's heap, when it exports it. */
export function wasmMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const memory = (backend as unknown as WasmBackendInternals).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** The SIMD loops bound to this backend's memory, or undefined (then use the fallback). */
export function simdFor(backend: tf.KernelBackend): SimdKernels | undefined {
  if (!enabled) return undefined;
  const memory = wasmMemory(backend);
  if (!memory) return undefined;
  const known = instances.get(memory);
  if (known) return known;
  const mod = compile();
  if (!mod) return undefined;
  const e = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, Fn>;
  const kernels: SimdKernels = {
    compare: Object.fromEntries(COMPARISONS.map((op) => [op, e[`c${op}`]])) as Record<Comparison, Fn>,
    compareScalar: Object.fromEntries(COMPARISONS.map((op) => [op, e[`cs${op}`]])) as Record<Comparison, Fn>,
    and: e.and,
    or: e.or,
    select: e.select,
    maxPoolGrad: e.maxPoolGrad,
    depthwiseFilterGrad: e.depthwiseFilterGrad,
    clipGrad: e.clipGrad,
    bnSums: e.bnSums,
    bnDx: e.bnDx,
    sqDev: e.sqDev,
    filterGrad: e.filterGrad,
    reluGrad: e.reluGrad,
  };
  instances.set(memory, kernels);
  return kernels;
}

/** Byte address of a tensor's data on the wasm heap. */
export function addressOf(backend: tf.KernelBackend, x: tf.TensorInfo): number {
  return (backend as unknown as WasmBackendInternals).dataIdMap.get(x.dataId).memoryOffset;
}
