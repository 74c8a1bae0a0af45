/**
 * Just enough of a WebAssembly assembler to write a few SIMD loops (see simd.ts): bytes for
 * instructions, structured loops, and a module of functions that import one memory.
 */

export type Code = number[];

function uleb(v: number): Code {
  const out: Code = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(v: number): Code {
  const out: Code = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const simd = (op: number, ...rest: number[]): Code => [0xfd, ...uleb(op), ...rest];
const mem = (op: number, offset: number): Code => [op, 0, ...uleb(offset)];

/** Instructions, each as its bytes. Locals are numbered: parameters first, then declared ones. */
export const I = {
  get: (l: number): Code => [0x20, ...uleb(l)],
  set: (l: number): Code => [0x21, ...uleb(l)],
  tee: (l: number): Code => [0x22, ...uleb(l)],
  i32: (v: number): Code => [0x41, ...sleb(v)],
  f32: (v: number): Code => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  divU: [0x6e],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  eqz: [0x45],
  lt: [0x48],
  gt: [0x4a],
  le: [0x4c],
  ge: [0x4e],
  select: [0x1b],
  /** f32 comparisons, leaving an i32 0 or 1. */
  f32cmp: {
    Equal: [0x5b],
    NotEqual: [0x5c],
    Less: [0x5d],
    Greater: [0x5e],
    LessEqual: [0x5f],
    GreaterEqual: [0x60],
  } as Record<string, Code>,
  f32add: [0x92],
  f32mul: [0x94],
  f32load: (offset = 0): Code => mem(0x2a, offset),
  f32store: (offset = 0): Code => mem(0x38, offset),
  i32load: (offset = 0): Code => mem(0x28, offset),
  i32store: (offset = 0): Code => mem(0x36, offset),
  load8: (offset = 0): Code => mem(0x2d, offset),
  store8: (offset = 0): Code => mem(0x3a, offset),
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  block: (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b],
  ifThen: (...body: Code[]): Code => [0x04, 0x40, ...body.flat(), 0x0b],
  v128load: (offset = 0): Code => simd(0x00, 0, ...uleb(offset)),
  v128store: (offset = 0): Code => simd(0x0b, 0, ...uleb(offset)),
  /** One f32 from memory into all four lanes. */
  v128load32splat: (offset = 0): Code => simd(0x09, 2, ...uleb(offset)),
  v128const: (bytes: number[]): Code => simd(0x0c, ...bytes),
  i8x16splat: simd(0x0f),
  i32x4splat: simd(0x11),
  f32x4splat: simd(0x13),
  extractLane: (lane: number): Code => simd(0x1b, lane),
  i8x16ne: simd(0x24),
  /** f32x4 comparisons, leaving lanes of all ones or all zeros. */
  f32x4cmp: {
    Equal: simd(0x41),
    NotEqual: simd(0x42),
    Less: simd(0x43),
    Greater: simd(0x44),
    LessEqual: simd(0x45),
    GreaterEqual: simd(0x46),
  } as Record<string, Code>,
  v128and: simd(0x4e),
  v128or: simd(0x50),
  bitselect: simd(0x52),
  i8narrow: simd(0x65),
  i16narrow: simd(0x85),
  i16extendLow: simd(0x87),
  i16extendHigh: simd(0x88),
  i32extendLow: simd(0xa7),
  i32extendHigh: simd(0xa8),
  i32x4add: simd(0xae),
  f32x4add: simd(0xe4),
  f32x4sub: simd(0xe5),
  f32x4mul: simd(0xe6),
  f32x4min: simd(0xe8),
  f32x4max: simd(0xe9),
  /** Relaxed SIMD: a * b + c, fused where the machine has FMA (stack: a, b, c). */
  f32x4relaxedMadd: simd(0x105),
  f32sub: [0x93],
};

/** i from `start` while i < `end` (both i32 expressions), by `step`; `body` may use br 0 to skip to the next i. */
export function loop(i: number, start: Code, end: Code, step: number | Code, ...body: Code[]): Code {
  return [
    ...start,
    ...I.set(i),
    ...I.block([
      0x03,
      0x40,
      ...I.get(i),
      ...end,
      ...I.ge,
      ...I.brIf(1),
      ...I.block(...body),
      ...I.get(i),
      ...(typeof step === 'number' ? I.i32(step) : step),
      ...I.add,
      ...I.set(i),
      ...I.br(0),
      0x0b,
    ]),
  ];
}

/** Byte address of element `index` (an i32 expression) of 4-byte elements at pointer local `base`. */
export function at4(base: number, index: Code): Code {
  return [...I.get(base), ...index, ...I.i32(2), ...I.shl, ...I.add];
}

export interface FnDef {
  name: string;
  params: number;
  /** Extra locals: i32 count and v128 count (numbered after the parameters, i32 first). */
  i32Locals: number;
  v128Locals: number;
  body: Code;
}

function section(id: number, content: Code): Code {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): Code {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** A module importing `env.memory` and exporting the functions (all parameters i32, no results). */
export function assemble(fns: FnDef[]): Uint8Array {
  const types = fns.map((f) => [0x60, ...vec(new Array<Code>(f.params).fill([0x7f])), 0x00]);
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]);
  const funcs = vec(fns.map((_, i) => uleb(i)));
  const exports = vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const bodies = vec(
    fns.map((f) => {
      const locals = vec([
        [...uleb(f.i32Locals), 0x7f],
        [...uleb(f.v128Locals), 0x7b],
      ]);
      const body = [...locals, ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, bodies),
  ]);
}
