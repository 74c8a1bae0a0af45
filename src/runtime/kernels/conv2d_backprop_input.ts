import * as tf from '@tensorflow/tfjs';
import { ConvGradAttrs, convInfoFor } from './conv_info';
import { dilateAndPad } from './dilate';
import { WasmOps } from './wasm_ops';

/**
 * dX = dY, dilated by the stride and padded, convolved (stride 1) with the filter flipped in
 * space and with its channel axes swapped: a forward conv on XNNPACK. The built-in kernel is a
 * scalar loop about ten times slower.
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
    const info = convInfoFor('Conv2DBackpropInput', a.inputShape, filter.shape, a, false);
    const ops = new WasmOps(backend as tf.KernelBackend);
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = info;
    const flipped = ops.reverse(filter, [0, 1]);
    const wt = ops.transpose(flipped, [0, 1, 3, 2]);
    const before: [number, number] = [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left];
    const d = dilateAndPad(ops, dy, [sh, sw], before, [kh, kw], [h, w]);
    const out = ops.conv2d(d.x, wt, [1, 1], d.pads);
    ops.free(flipped, wt);
    if (d.x !== dy) ops.free(d.x);
    return out;
  },
};
