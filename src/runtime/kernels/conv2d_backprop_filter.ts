import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

/**
 * dW[i,j,ci,co] = sum over (b,y,x) of Xpad[b, y*s + i*d, x*s + j*d, ci] * dY[b,y,x,co]:
 * gather the kh*kw strided views of the padded input side by side (im2col) and reduce
 * them against dY with one matrix product on the backend's fast matmul.
 */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('cnnviz: Conv2DBackpropFilter on wasm supports NHWC only');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
    );
    const ops = new WasmOps(backend as tf.KernelBackend);
    const { batchSize: b, outHeight: ho, outWidth: wo, inChannels: ci, outChannels: co } = info;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const needH = (kh - 1) * dh + (ho - 1) * sh + 1;
    const needW = (kw - 1) * dw + (wo - 1) * sw + 1;
    const [, h, w] = x.shape;
    const xp = ops.pad(x, [[0, 0], [top, Math.max(0, needH - h - top)], [left, Math.max(0, needW - w - left)], [0, 0]]);
    const cols: tf.TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        cols.push(ops.stridedSlice(xp, [0, i * dh, j * dw, 0], [b, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1, ci], [1, sh, sw, 1]));
      }
    }
    const patches = cols.length === 1 ? cols[0] : ops.concat(cols, 3);
    const n = b * ho * wo;
    const a = ops.reshape(patches, [1, n, kh * kw * ci]);
    const g = ops.reshape(dy, [1, n, co]);
    const prod = ops.matMul(a, g, true, false);
    const out = ops.reshape(prod, [kh, kw, ci, co]);
    ops.free(xp, a, g, prod);
    if (cols.length > 1) ops.free(...cols, patches);
    else ops.free(patches);
    return out;
  },
};
