import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/**
 * Identity, and Cast to the same dtype (every ReLU gradient casts its input to float32), copy
 * the whole tensor on the wasm backend. Tensors are immutable, so sharing the buffer with a
 * reference count (as Reshape does, and as the cpu backend's Identity does) is enough.
 */
function share(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stockCall('Identity', { x }, {}, backend);
    return share(x, backend as tf.KernelBackend);
  },
};

export const castConfig: tf.KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { dtype } = attrs as unknown as { dtype: tf.DataType };
    if (dtype === x.dtype && dtype !== 'string') return share(x, backend as tf.KernelBackend);
    return stockCall('Cast', { x }, attrs ?? {}, backend);
  },
};

function stockCall(
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: tf.NamedAttrMap,
  backend: unknown,
): tf.TensorInfo {
  return new WasmOps(backend as tf.KernelBackend).run(name, inputs, attrs as Record<string, unknown>);
}
