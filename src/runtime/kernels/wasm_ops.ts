import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/**
 * The wasm backend's own kernels, saved before cnnviz replaces any of them, so that a
 * replacement (e.g. our BatchMatMul) can still call the built-in it wraps.
 */
const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * The backend instance each saved kernel was last set up for: a kernel's setupFunc binds it to
 * one wasm module, and a saved kernel is no longer in the registry when a new wasm backend
 * starts (tf.removeBackend + setBackend), so we set it up again ourselves.
 */
const setUpFor = new Map<string, tf.KernelBackend | undefined>();

/** Remember the built-in wasm kernel `name` (first call wins) before it is replaced. */
export function saveStockKernel(name: string): void {
  if (stockKernels.has(name)) return;
  const k = tf.getKernel(name, 'wasm');
  if (!k) return;
  stockKernels.set(name, k);
  setUpFor.set(name, tf.engine().registry['wasm']);
}

/** The built-in kernel saved under `name`, if cnnviz replaced it. */
export function stockKernelConfig(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

function kernelFor(name: string, backend: tf.KernelBackend): tf.KernelConfig {
  const stock = stockKernels.get(name);
  if (stock) {
    if (stock.setupFunc && setUpFor.get(name) !== backend) {
      stock.setupFunc(backend);
      setUpFor.set(name, backend);
    }
    return stock;
  }
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`cnnviz: wasm backend has no '${name}' kernel`);
  return k;
}

/** 2-D padding for a conv: [[top, bottom], [left, right]]; entries must be >= 0. */
export type Pads2D = [[number, number], [number, number]];

/** The wasm backend object as far as we touch it beyond the KernelBackend interface. */
interface WasmBackendLike extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
}

/** The attributes of an NHWC convolution with explicit padding. */
function convAttrs(strides: [number, number], pads: Pads2D, dilations: [number, number]): tf.NamedAttrMap {
  return {
    strides,
    dilations,
    pad: [[0, 0], pads[0], pads[1], [0, 0]],
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  } as unknown as tf.NamedAttrMap;
}

/**
 * Calls the wasm backend's built-in kernels from inside a kernel we register, so that composite
 * kernels run on XNNPACK instead of scalar JavaScript. Intermediates are freed with `free`.
 */
export class WasmOps {
  readonly backend: WasmBackendLike;

  constructor(backend: tf.KernelBackend) {
    this.backend = backend as WasmBackendLike;
  }

  run(name: string, inputs: Record<string, Info> | Info[], attrs: Attrs = {}): Info {
    const out = kernelFor(name, this.backend).kernelFunc({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    return Array.isArray(out) ? out[0] : out;
  }

  free(...infos: Info[]): void {
    for (const i of infos) this.backend.disposeData(i.dataId);
  }

  /** A new, uninitialised float32 tensor on the wasm heap. */
  empty(shape: number[], dtype: tf.DataType = 'float32'): Info {
    return this.backend.makeOutput(shape, dtype);
  }

  /**
   * A live view of a tensor's heap memory. Take views only after the last allocation of the
   * kernel: growing the wasm heap detaches earlier views.
   */
  view(x: Info): Float32Array {
    const v = this.backend.typedArrayFromHeap(x);
    if (!(v instanceof Float32Array)) throw new Error(`cnnviz: expected a float32 tensor, got ${x.dtype}`);
    return v;
  }

  intView(x: Info): Int32Array {
    const v = this.backend.typedArrayFromHeap(x);
    if (!(v instanceof Int32Array)) throw new Error(`cnnviz: expected an int32 tensor, got ${x.dtype}`);
    return v;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  /** The same data under a new reference (tensors are immutable; free it like any other). */
  identity(x: Info): Info {
    this.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  }

  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return this.identity(x);
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * A box of x, copied run by run straight from the heap (the built-in Slice first copies all of
   * x out of the heap, whatever the size of the box).
   */
  slice(x: Info, begin: number[], size: number[]): Info {
    if (size.every((s, i) => s === x.shape[i])) return this.identity(x);
    if (x.dtype === 'string' || x.dtype === 'complex64') return this.run('Slice', { x }, { begin, size });
    const rank = x.shape.length;
    // The innermost axes taken whole, plus the first one cut, form contiguous runs.
    let cut = rank - 1;
    while (cut > 0 && size[cut] === x.shape[cut] && begin[cut] === 0) cut--;
    const strides = tf.util.computeStrides(x.shape);
    const run = size[cut] * (cut + 1 < rank ? strides[cut] : 1);
    const out = this.empty(size, x.dtype);
    const src = this.backend.typedArrayFromHeap(x);
    const dst = this.backend.typedArrayFromHeap(out);
    const outer = size.slice(0, cut);
    const count = outer.reduce((p, q) => p * q, 1);
    const idx = new Array<number>(cut).fill(0);
    for (let r = 0; r < count; r++) {
      let from = begin[cut] * (cut + 1 < rank ? strides[cut] : 1);
      for (let a = 0; a < cut; a++) from += (begin[a] + idx[a]) * strides[a];
      dst.set(src.subarray(from, from + run), r * run);
      for (let a = cut - 1; a >= 0; a--) {
        if (++idx[a] < outer[a]) break;
        idx[a] = 0;
      }
    }
    return out;
  }

  /** Pad where an entry is positive, crop where negative (a conv's padding can ask for either). */
  padOrCrop(x: Info, paddings: Array<[number, number]>): Info {
    const begin = paddings.map(([a]) => Math.max(0, -a));
    const size = paddings.map(([a, b], i) => x.shape[i] - Math.max(0, -a) - Math.max(0, -b));
    const cropped = this.slice(x, begin, size);
    const padded = this.pad(
      cropped,
      paddings.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as [number, number]),
    );
    this.free(cropped);
    return padded;
  }

  stridedSlice(x: Info, begin: number[], end: number[], strides: number[]): Info {
    return this.run(
      'StridedSlice',
      { x },
      {
        begin,
        end,
        strides,
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      },
    );
  }

  matMul(a: Info, b: Info, transposeA: boolean, transposeB: boolean): Info {
    return this.run('BatchMatMul', { a, b }, { transposeA, transposeB });
  }

  concat(xs: Info[], axis: number): Info {
    // The wasm Concat kernel takes its inputs as an array.
    return this.run('Concat', xs, { axis });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * x reversed along `dims`. Leading axes (a conv filter's spatial axes [0, 1]) are reversed by
   * moving whole blocks: reversing every leading axis maps block i to block n-1-i. The built-in
   * Reverse visits element by element (65 ms for a 3x3x256x256 filter, against under 1 ms).
   */
  reverse(x: Info, dims: number[]): Info {
    const rank = x.shape.length;
    const axes = [...new Set(dims.map((d) => (d < 0 ? d + rank : d)))].sort((a, b) => a - b);
    const leading = axes.every((d, i) => d === i);
    if (!leading || x.dtype === 'string' || x.dtype === 'complex64') return this.run('Reverse', { x }, { dims });
    const n = x.shape.slice(0, axes.length).reduce((p, q) => p * q, 1);
    const block = x.shape.slice(axes.length).reduce((p, q) => p * q, 1);
    const out = this.empty(x.shape, x.dtype);
    const src = this.backend.typedArrayFromHeap(x);
    const dst = this.backend.typedArrayFromHeap(out);
    for (let i = 0; i < n; i++) dst.set(src.subarray(i * block, (i + 1) * block), (n - 1 - i) * block);
    return out;
  }

  multiply(a: Info, b: Info): Info {
    return this.run('Multiply', { a, b });
  }

  add(a: Info, b: Info): Info {
    return this.run('Add', { a, b });
  }

  /** Sum over the given axes (the wasm kernel is fastest when they are the last ones). */
  sum(x: Info, axis: number[], keepDims = false): Info {
    return this.run('Sum', { x }, { axis, keepDims });
  }

  /** NHWC conv on XNNPACK with explicit padding. */
  conv2d(x: Info, filter: Info, strides: [number, number], pads: Pads2D, dilations: [number, number] = [1, 1]): Info {
    return this.run('Conv2D', { x, filter }, convAttrs(strides, pads, dilations));
  }

  /** NHWC depthwise conv on XNNPACK with explicit padding; filter [kh, kw, c, multiplier]. */
  depthwiseConv2d(
    x: Info,
    filter: Info,
    strides: [number, number],
    pads: Pads2D,
    dilations: [number, number] = [1, 1],
  ): Info {
    return this.run('DepthwiseConv2dNative', { x, filter }, convAttrs(strides, pads, dilations));
  }
}
