import * as tf from '@tensorflow/tfjs';
import { convGradKernel } from './conv_info';
import { dilateAndPad } from './dilate';
import { FilterCache } from './filter_cache';

/** Spatially flipped filters, [kh, kw, c * m, 1], while their filter lives (see FilterCache). */
const flippedCache = new FilterCache(64);

/**
 * dX of a depthwise conv: dY dilated by the stride and padded, depthwise-convolved (stride 1,
 * the forward dilation) with the spatially flipped filter, on XNNPACK. With a channel
 * multiplier m each input channel gathers its m output channels: convolve all c*m of them with
 * multiplier 1, then sum each group of m (a reduction over the last axis).
 */
export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = convGradKernel(
  'DepthwiseConv2dNativeBackpropInput',
  'input',
  true,
  (ops, { dy, filter }, info) => {
    const [kh, kw, c, m] = filter.shape;
    const {
      strideHeight: sh,
      strideWidth: sw,
      dilationHeight: dh,
      dilationWidth: dw,
      inHeight: h,
      inWidth: w,
      batchSize: b,
    } = info;
    const effH = (kh - 1) * dh + 1;
    const effW = (kw - 1) * dw + 1;
    const wf = flippedCache.get(ops, filter, () => {
      const flipped = ops.reverse(filter, [0, 1]);
      // The reshape shares the flipped data (one more reference); the cache keeps that reference.
      const reshaped = ops.reshape(flipped, [kh, kw, c * m, 1]);
      ops.free(flipped);
      return reshaped;
    });
    const before: [number, number] = [effH - 1 - info.padInfo.top, effW - 1 - info.padInfo.left];
    const d = dilateAndPad(ops, dy, [sh, sw], before, [effH, effW], [h, w]);
    const conv = ops.depthwiseConv2d(d.x, wf, [1, 1], d.pads, [dh, dw]);
    if (d.x !== dy) ops.free(d.x);
    if (m === 1) return conv;
    const grouped = ops.reshape(conv, [b, h, w, c, m]);
    const out = ops.run('Sum', { x: grouped }, { axis: [4], keepDims: false });
    ops.free(conv, grouped);
    return out;
  },
);
