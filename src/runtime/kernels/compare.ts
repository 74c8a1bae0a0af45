import * as tf from '@tensorflow/tfjs';
import { addressOf, Comparison, mirrored, simdFor } from './simd';
import { WasmOps } from './wasm_ops';

/**
 * Comparisons, logical and/or and select on the wasm backend compute an index per element,
 * which makes the gradient of ReLU6 / clipByValue
 * (where(x >= 0 && x <= 6, dy, 0)) cost more than the convolutions around it. Our SIMD loops
 * (simd.ts) are fastest, branch-free JavaScript next (bench/KERNELS.md). Same-shape operands,
 * or one scalar; float32 only for comparisons. Anything else goes to the built-in kernel.
 */
type Loop = (a: Float32Array, b: Float32Array, out: Uint8Array, n: number) => void;

const OPS: Record<string, string> = {
  Greater: '>',
  GreaterEqual: '>=',
  Less: '<',
  LessEqual: '<=',
  Equal: '===',
  NotEqual: '!==',
};

// One small loop per operator and operand form keeps each call site monomorphic for V8.
function makeLoop(op: string, form: 'same' | 'scalarB' | 'scalarA'): Loop {
  const lhs = form === 'scalarA' ? 's' : 'a[i]';
  const rhs = form === 'scalarB' ? 's' : 'b[i]';
  const init = form === 'scalarA' ? 'const s = a[0];' : form === 'scalarB' ? 'const s = b[0];' : '';

  return new Function(
    'a',
    'b',
    'out',
    'n',
    `${init} for (let i = 0; i < n; i++) out[i] = (${lhs} ${op} ${rhs}) | 0;`,
  ) as Loop;
}

const loops: Record<string, Record<'same' | 'scalarB' | 'scalarA', Loop>> = {};
for (const [name, op] of Object.entries(OPS)) {
  loops[name] = { same: makeLoop(op, 'same'), scalarB: makeLoop(op, 'scalarB'), scalarA: makeLoop(op, 'scalarA') };
}

/** A wasm kernel of two operands, a and b. */
function binaryKernel(
  name: string,
  body: (ops: WasmOps, a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo,
): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      return body(new WasmOps(backend as tf.KernelBackend), a, b);
    },
  };
}

function comparison(name: string): tf.KernelConfig {
  return binaryKernel(name, (ops, a, b) => {
    const na = tf.util.sizeFromShape(a.shape);
    const nb = tf.util.sizeFromShape(b.shape);
    const same = tf.util.arraysEqual(a.shape, b.shape);
    const form = same
      ? 'same'
      : nb === 1 && b.shape.length <= a.shape.length
        ? 'scalarB'
        : na === 1 && a.shape.length <= b.shape.length
          ? 'scalarA'
          : undefined;
    if (!form || a.dtype !== 'float32' || b.dtype !== 'float32' || na + nb < 4096) return ops.run(name, { a, b });
    const shape = form === 'scalarA' ? b.shape : a.shape;
    const outInfo = ops.empty(shape, 'bool');
    const n = tf.util.sizeFromShape(shape);
    const fast = simdFor(ops.backend);
    if (fast) {
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      if (form === 'same') fast.compare[name as Comparison](at(a), at(b), at(outInfo), n);
      else if (form === 'scalarB') fast.compareScalar[name as Comparison](at(a), at(b), at(outInfo), n);
      else fast.compareScalar[mirrored(name as Comparison)](at(b), at(a), at(outInfo), n);
      return outInfo;
    }
    const out = ops.backend.typedArrayFromHeap(outInfo) as Uint8Array;
    loops[name][form](ops.view(a), ops.view(b), out, n);
    return outInfo;
  });
}

export const comparisonConfigs: tf.KernelConfig[] = Object.keys(OPS).map(comparison);

function logical(name: 'LogicalAnd' | 'LogicalOr'): tf.KernelConfig {
  return binaryKernel(name, (ops, a, b) => {
    if (!tf.util.arraysEqual(a.shape, b.shape) || a.dtype !== 'bool' || b.dtype !== 'bool')
      return ops.run(name, { a, b });
    const outInfo = ops.empty(a.shape, 'bool');
    const fast = simdFor(ops.backend);
    if (fast) {
      (name === 'LogicalAnd' ? fast.and : fast.or)(
        addressOf(ops.backend, a),
        addressOf(ops.backend, b),
        addressOf(ops.backend, outInfo),
        tf.util.sizeFromShape(a.shape),
      );
      return outInfo;
    }
    const out = ops.backend.typedArrayFromHeap(outInfo) as Uint8Array;
    const x = ops.backend.typedArrayFromHeap(a) as Uint8Array;
    const y = ops.backend.typedArrayFromHeap(b) as Uint8Array;
    const n = out.length;
    if (name === 'LogicalAnd') for (let i = 0; i < n; i++) out[i] = x[i] & y[i];
    else for (let i = 0; i < n; i++) out[i] = x[i] | y[i];
    return outInfo;
  });
}

export const logicalAndConfig = logical('LogicalAnd');
export const logicalOrConfig = logical('LogicalOr');

/** Select(condition, t, e): a bitwise blend of the 32-bit words, exact for NaN and infinities. */
export const selectConfig: tf.KernelConfig = {
  kernelName: 'Select',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { condition, t, e } = inputs as { condition: tf.TensorInfo; t: tf.TensorInfo; e: tf.TensorInfo };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const plain =
      condition.dtype === 'bool' &&
      t.dtype === e.dtype &&
      (t.dtype === 'float32' || t.dtype === 'int32') &&
      tf.util.arraysEqual(condition.shape, t.shape) &&
      tf.util.arraysEqual(t.shape, e.shape);
    if (!plain) return ops.run('Select', { condition, t, e });
    const outInfo = ops.empty(t.shape, t.dtype);
    const fast = simdFor(ops.backend);
    if (fast) {
      const at = (x: tf.TensorInfo): number => addressOf(ops.backend, x);
      fast.select(at(condition), at(t), at(e), at(outInfo), tf.util.sizeFromShape(t.shape));
      return outInfo;
    }
    const words = (info: tf.TensorInfo): Int32Array => {
      const v = ops.backend.typedArrayFromHeap(info) as Float32Array | Int32Array;
      return new Int32Array(v.buffer, v.byteOffset, v.length);
    };
    const out = words(outInfo);
    const x = words(t);
    const y = words(e);
    const c = ops.backend.typedArrayFromHeap(condition) as Uint8Array;
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const m = -((c[i] | -c[i]) >>> 31); // all ones where the condition byte is non-zero
      out[i] = (x[i] & m) | (y[i] & ~m);
    }
    return outInfo;
  },
};
