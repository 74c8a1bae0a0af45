import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/**
 * Calls the wasm backend's own kernels from inside a kernel we register, so that composite
 * kernels run on XNNPACK instead of scalar JavaScript. Intermediates are freed with `free`.
 */
export class WasmOps {
  constructor(readonly backend: tf.KernelBackend) {}

  run(name: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`cnnviz: wasm backend has no '${name}' kernel`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs: attrs as tf.NamedAttrMap, backend: this.backend });
    return Array.isArray(out) ? out[0] : out;
  }

  free(...infos: Info[]): void {
    for (const i of infos) this.backend.disposeData(i.dataId);
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return this.run('Identity', { x });
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  stridedSlice(x: Info, begin: number[], end: number[], strides: number[]): Info {
    return this.run('StridedSlice', { x }, {
      begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
    });
  }

  matMul(a: Info, b: Info, transposeA: boolean, transposeB: boolean): Info {
    return this.run('BatchMatMul', { a, b }, { transposeA, transposeB });
  }

  concat(xs: Info[], axis: number): Info {
    // The wasm Concat kernel takes inputs as an array-like map.
    const kernel = tf.getKernel('Concat', 'wasm')!;
    const out = kernel.kernelFunc({ inputs: xs as unknown as tf.NamedTensorInfoMap, attrs: { axis }, backend: this.backend });
    return Array.isArray(out) ? out[0] : out;
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }
}
