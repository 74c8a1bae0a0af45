import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/**
 * out[s] = sum of the rows x[i] with segmentIds[i] == s; ids outside [0, numSegments) are
 * dropped, as on the cpu backend. The gradient of every gather (a class score picked per
 * example, an embedding lookup) needs it, and the wasm backend has none. One sequential pass
 * over x: a scatter-add has no XNNPACK counterpart.
 */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new Error(`cnnviz: UnsortedSegmentSum on wasm got dtype '${x.dtype}'; valid choices: float32, int32`);
    }
    const n = tf.util.sizeFromShape(segmentIds.shape);
    if (x.shape.length < 1 || x.shape[0] !== n) {
      throw new Error(
        `cnnviz: UnsortedSegmentSum needs one segment id per row of x: ${n} ids for x of shape [${x.shape}]`,
      );
    }
    const inner = n === 0 ? 0 : tf.util.sizeFromShape(x.shape) / n;
    const ops = new WasmOps(backend as tf.KernelBackend);
    const outInfo = ops.empty([numSegments, ...x.shape.slice(1)], x.dtype);
    const ids = ops.intView(segmentIds);
    const src = x.dtype === 'float32' ? ops.view(x) : ops.intView(x);
    const out = x.dtype === 'float32' ? ops.view(outInfo) : ops.intView(outInfo);
    out.fill(0);
    for (let i = 0; i < n; i++) {
      const s = ids[i];
      if (s < 0 || s >= numSegments) continue;
      const o = s * inner;
      const r = i * inner;
      for (let k = 0; k < inner; k++) out[o + k] += src[r + k];
    }
    return outInfo;
  },
};
