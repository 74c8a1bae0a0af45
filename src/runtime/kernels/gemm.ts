/**
 * Pointwise convolutions (1x1, stride 1: about 95% of MobileNet's multiply-adds) as one matrix
 * product C[M, N] = A[M, K] B[K, N] + bias, in a WebAssembly loop of our own that works on the
 * wasm backend's heap. On MobileNet's layers at batch 13 (`npm run bench -- gemm`, one core here)
 * XNNPACK's loop in the tfjs build runs about 11 billion multiply-adds a second; this one, 4 rows
 * by 8 columns of C per tile with the weights packed in panels of 8 columns, about 14 billion with
 * a multiply and an add and about 18 billion with relaxed SIMD's fused multiply-add (bench/CAPTUM.md).
 *
 * Relaxed SIMD is on by default from V8 11.4 (Chrome 114, Node 22); Node 20 has it behind
 * --experimental-wasm-relaxed-simd, which setup() turns on (backend.ts). Without it the plain
 * module runs; without SIMD at all the built-in kernels do.
 */
import * as tf from '@tensorflow/tfjs';
import { assemble, Code, FnDef, I, loop } from './simd_asm';
import { addressOf, wasmMemory } from './simd';
import { FilterCache } from './filter_cache';
import { WasmOps } from './wasm_ops';

export const GEMM_ACTIVATIONS = ['linear', 'relu', 'relu6'] as const;
export type GemmActivation = (typeof GEMM_ACTIVATIONS)[number];

/** Output columns per panel of packed weights (two 4-lane vectors). */
const NR = 8;
/** Rows of C per tile: 8 accumulators; 5 or 6 rows spill registers in V8 (3x slower). */
const MR = 4;

const zero = I.v128const(new Array<number>(16).fill(0));
const six = I.v128const([...new Uint8Array(new Float32Array([6, 6, 6, 6]).buffer)]);

/**
 * gemm(a, b, bias, c, m, k, n): c[m, n] = act(a[m, k] b + bias), b packed as [n / 8][k][8]; n % 8 == 0.
 * Tiles of MR rows, then single rows for the rest.
 */
function gemmFn(fma: boolean, bias: boolean, act: GemmActivation): FnDef {
  const [a, b, bs, c, m, k, n] = [0, 1, 2, 3, 4, 5, 6];
  const [row, col, kk, bp, cp, mEnd] = [7, 8, 9, 10, 11, 12];
  const ap = [13, 14, 15, 16];
  const acc = [17, 18, 19, 20, 21, 22, 23, 24];
  const [b0, b1, s] = [25, 26, 27];
  const madd = (ac: number, bb: number): Code =>
    fma
      ? [...I.get(s), ...I.get(bb), ...I.get(ac), ...I.f32x4relaxedMadd, ...I.set(ac)]
      : [...I.get(s), ...I.get(bb), ...I.f32x4mul, ...I.get(ac), ...I.f32x4add, ...I.set(ac)];
  const bytes = (x: number, by: number): Code => [...I.get(x), ...I.i32(by), ...I.shl];
  const tile = (rows: number): Code => {
    const out: Code = [];
    for (let r = 0; r < rows; r++) {
      for (const half of [0, 1]) {
        if (bias) out.push(...I.get(bs), ...bytes(col, 2), ...I.add, ...I.v128load(16 * half));
        else out.push(...zero);
        out.push(...I.set(acc[2 * r + half]));
      }
      // ap[r] = a + (row + r) * k * 4
      out.push(...I.get(row), ...I.i32(r), ...I.add, ...I.get(k), ...I.mul, ...I.i32(2), ...I.shl);
      out.push(...I.get(a), ...I.add, ...I.set(ap[r]));
    }
    // bp = b + col * k * 4 (panel col / 8 holds k * 8 floats)
    out.push(...I.get(col), ...I.get(k), ...I.mul, ...I.i32(2), ...I.shl, ...I.get(b), ...I.add, ...I.set(bp));
    const step: Code = [...I.get(bp), ...I.v128load(0), ...I.set(b0), ...I.get(bp), ...I.v128load(16), ...I.set(b1)];
    for (let r = 0; r < rows; r++) {
      step.push(...I.get(ap[r]), ...I.v128load32splat(0), ...I.set(s));
      step.push(...madd(acc[2 * r], b0), ...madd(acc[2 * r + 1], b1));
      step.push(...I.get(ap[r]), ...I.i32(4), ...I.add, ...I.set(ap[r]));
    }
    step.push(...I.get(bp), ...I.i32(32), ...I.add, ...I.set(bp));
    out.push(...loop(kk, I.i32(0), I.get(k), 1, step));
    for (let r = 0; r < rows; r++) {
      out.push(...I.get(row), ...I.i32(r), ...I.add, ...I.get(n), ...I.mul, ...I.get(col), ...I.add);
      out.push(...I.i32(2), ...I.shl, ...I.get(c), ...I.add, ...I.set(cp));
      for (const half of [0, 1]) {
        out.push(...I.get(cp), ...I.get(acc[2 * r + half]));
        if (act !== 'linear') out.push(...zero, ...I.f32x4max);
        if (act === 'relu6') out.push(...six, ...I.f32x4min);
        out.push(...I.v128store(16 * half));
      }
    }
    return out;
  };
  const body: Code = [
    ...I.get(m),
    ...I.i32(MR - 1),
    ...I.sub,
    ...I.set(mEnd),
    ...loop(row, I.i32(0), I.get(mEnd), MR, loop(col, I.i32(0), I.get(n), NR, tile(MR))),
    ...loop(row, I.get(row), I.get(m), 1, loop(col, I.i32(0), I.get(n), NR, tile(1))),
  ];
  return { name: fnName(bias, act), params: 7, i32Locals: 10, v128Locals: 11, body };
}

const fnName = (bias: boolean, act: GemmActivation): string => `gemm_${bias ? 'b' : 'n'}_${act}`;

function moduleFor(fma: boolean): WebAssembly.Module {
  const fns: FnDef[] = [];
  for (const bias of [false, true]) for (const act of GEMM_ACTIVATIONS) fns.push(gemmFn(fma, bias, act));
  return new WebAssembly.Module(assemble(fns));
}

/** A module with one relaxed-SIMD instruction: does this engine take relaxed SIMD (as configured now)? */
export function relaxedSimdAvailable(): boolean {
  try {
    return WebAssembly.validate(assemble([gemmFn(true, false, 'linear')]));
  } catch {
    return false;
  }
}

export const GEMM_FLAVOURS = ['auto', 'plain', 'off'] as const;
/** auto: fused multiply-add where the engine has relaxed SIMD, else plain; plain: multiply then add; off: XNNPACK. */
export type GemmFlavour = (typeof GEMM_FLAVOURS)[number];

/** setGemmFlavour's choice, else CNNVIZ_GEMM's (read on first use), else 'auto'. */
let wanted: GemmFlavour | undefined;

function flavour(): GemmFlavour {
  if (wanted === undefined) {
    // (`process` is absent in the browser, where the explorer page uses these kernels too.)
    const env = typeof process === 'undefined' ? undefined : process.env.CNNVIZ_GEMM;
    if (env !== undefined && !(GEMM_FLAVOURS as readonly string[]).includes(env)) {
      throw new Error(`cnnviz: CNNVIZ_GEMM must be one of ${GEMM_FLAVOURS.join(', ')}; got '${env}'`);
    }
    wanted = (env as GemmFlavour | undefined) ?? 'auto';
  }
  return wanted;
}
const modules = new Map<boolean, WebAssembly.Module | null>();

function compiled(fma: boolean): WebAssembly.Module | null {
  if (!modules.has(fma)) {
    try {
      modules.set(fma, moduleFor(fma));
    } catch {
      modules.set(fma, null); // no (relaxed) SIMD in this engine
    }
  }
  return modules.get(fma)!;
}

/** For tests and benchmarks: which pointwise loop runs (see GemmFlavour). */
export function setGemmFlavour(flavour: GemmFlavour): void {
  if (!(GEMM_FLAVOURS as readonly string[]).includes(flavour)) {
    throw new Error(
      `cnnviz.setGemmFlavour: flavour must be one of ${GEMM_FLAVOURS.join(', ')}; got ${String(flavour)}`,
    );
  }
  wanted = flavour;
}

/** What runs now: 'fma' (relaxed SIMD), 'plain', or 'off' (XNNPACK). */
export function gemmInUse(): 'fma' | 'plain' | 'off' {
  const choice = flavour();
  if (choice === 'off') return 'off';
  if (choice === 'auto' && compiled(true)) return 'fma';
  return compiled(false) ? 'plain' : 'off';
}

type GemmFn = (a: number, b: number, bias: number, c: number, m: number, k: number, n: number) => void;
const instances = new Map<boolean, WeakMap<WebAssembly.Memory, Record<string, GemmFn> | null>>();

function gemmFor(backend: tf.KernelBackend): Record<string, GemmFn> | undefined {
  const use = gemmInUse();
  if (use === 'off') return undefined;
  const memory = wasmMemory(backend);
  if (!memory) return undefined;
  const fma = use === 'fma';
  let byMemory = instances.get(fma);
  if (!byMemory) instances.set(fma, (byMemory = new WeakMap()));
  if (!byMemory.has(memory)) {
    let e: Record<string, GemmFn> | null = null;
    try {
      e = new WebAssembly.Instance(compiled(fma)!, { env: { memory } }).exports as Record<string, GemmFn>;
    } catch {
      // A heap the module cannot import (a shared one, in a threaded build): the built-in kernels run.
    }
    byMemory.set(memory, e);
  }
  return byMemory.get(memory) ?? undefined;
}

/** Weights packed in panels of 8 columns, by orientation (see FilterCache). */
const packedCache = { forward: new FilterCache(64), transposed: new FilterCache(64) };

let calls = 0;

/** Products this loop has run (for tests: which route a conv took). */
export function gemmCalls(): number {
  return calls;
}

/** Packed weights currently cached (for tests). */
export function packedWeightCount(): number {
  return packedCache.forward.size + packedCache.transposed.size;
}

/**
 * The [k, n] weights of a [1, 1, ci, co] filter packed as [n / 8][k][8]: forward k = ci, n = co;
 * transposed (for the input gradient) k = co, n = ci. Owned by the cache (do not free it).
 */
function packedWeights(ops: WasmOps, filter: tf.TensorInfo, transposed: boolean): tf.TensorInfo {
  return packedCache[transposed ? 'transposed' : 'forward'].get(ops, filter, () => {
    const [ci, co] = filter.shape.slice(2);
    const [k, n] = transposed ? [co, ci] : [ci, co];
    const packed = ops.empty([k * n], 'float32');
    const w = ops.view(filter);
    const p = ops.view(packed);
    for (let panel = 0; panel < n / NR; panel++) {
      for (let kk = 0; kk < k; kk++) {
        const to = (panel * k + kk) * NR;
        for (let j = 0; j < NR; j++) {
          const col = panel * NR + j;
          // w is [ci, co]: forward reads w[kk, col], transposed w[col, kk].
          p[to + j] = transposed ? w[col * co + kk] : w[kk * co + col];
        }
      }
    }
    return packed;
  });
}

/**
 * x [b, h, w, k] times a [1, 1, ci, co] filter (transposed: times its transpose), plus bias [n],
 * then the activation; or undefined when this loop cannot run here (no module, n % 8 != 0).
 */
export function pointwise(
  ops: WasmOps,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  opts: { transposed?: boolean; bias?: tf.TensorInfo; activation?: GemmActivation } = {},
): tf.TensorInfo | undefined {
  const transposed = opts.transposed ?? false;
  const [ci, co] = filter.shape.slice(2);
  const [k, n] = transposed ? [co, ci] : [ci, co];
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || n % NR !== 0 || x.shape[3] !== k) return undefined;
  if (opts.bias && (opts.bias.dtype !== 'float32' || tf.util.sizeFromShape(opts.bias.shape) !== n)) return undefined;
  const e = gemmFor(ops.backend);
  if (!e) return undefined;
  const packed = packedWeights(ops, filter, transposed);
  const [b, h, w] = x.shape;
  const out = ops.empty([b, h, w, n], 'float32');
  const m = b * h * w;
  calls++;
  const addr = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
  e[fnName(opts.bias !== undefined, opts.activation ?? 'linear')](
    addr(x),
    addr(packed),
    opts.bias ? addr(opts.bias) : 0,
    addr(out),
    m,
    k,
    n,
  );
  return out;
}
