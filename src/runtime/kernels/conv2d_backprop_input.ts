import * as tf from '@tensorflow/tfjs';
import { convGradKernel } from './conv_info';
import { dilateAndPad } from './dilate';
import { FilterCache } from './filter_cache';
import { pointwise } from './gemm';
import { isPointwiseInfo } from './pointwise_conv';
import { WasmOps } from './wasm_ops';

/**
 * dX = dY, dilated by the stride and padded, convolved (stride 1) with the filter flipped in
 * space and with its channel axes swapped: a forward conv on XNNPACK. The built-in kernel is a
 * scalar loop about ten times slower.
 */
/** Below this many input channels col2im beats a conv with that few output channels. */
const COL2IM_MAX_CHANNELS = 8;

/** cols = dY W^T, one product [b*ho*wo, kh*kw*ci]: row r holds what output pixel r sends to each tap. */
function columns(
  ops: WasmOps,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const [b, ho, wo, co] = dy.shape;
  const wr = ops.reshape(filter, [info.filterHeight * info.filterWidth * info.inChannels, co]);
  const wt = ops.transpose(wr, [1, 0]);
  const g = ops.reshape(dy, [b * ho * wo, co]);
  const cols = ops.matMul(g, wt, false, false);
  ops.free(wr, wt, g);
  return cols;
}

/**
 * dX from the columns by col2im at stride 1, for few input channels (the saliency of a first
 * layer on pixels; XNNPACK's conv is slow with 1-3 output channels): add each tap's
 * [ci, b, ho, wo] block into dX at its offset.
 */
function inputGradByCol2im(ops: WasmOps, cols: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: b, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, inHeight: h, inWidth: w } = info;
  const n = b * ho * wo;
  const colsT = ops.transpose(cols, [1, 0]);
  ops.free(cols);
  // Taps add into a canvas whose origin is the first tap's offset, each only padded (no crops,
  // which copy row by row on wasm); one crop to [h, w] at the end.
  const canvasH = kh - 1 + ho;
  const canvasW = kw - 1 + wo;
  let acc: tf.TensorInfo | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = i * kw + j;
      const block = ops.slice(colsT, [tap * ci, 0], [ci, n]);
      const piece = ops.reshape(block, [ci * b, ho, wo]);
      ops.free(block);
      const placed = ops.pad(piece, [
        [0, 0],
        [i, canvasH - i - ho],
        [j, canvasW - j - wo],
      ]);
      ops.free(piece);
      if (acc === undefined) acc = placed;
      else {
        const sum = ops.add(acc, placed);
        ops.free(acc, placed);
        acc = sum;
      }
    }
  }
  ops.free(colsT);
  const { top, left } = info.padInfo;
  const cropped = ops.padOrCrop(acc!, [
    [0, 0],
    [-top, h + top - canvasH],
    [-left, w + left - canvasW],
  ]);
  const grid = ops.reshape(cropped, [ci, b, h, w]);
  const out = ops.transpose(grid, [1, 2, 3, 0]);
  ops.free(acc!, cropped, grid);
  return out;
}

/**
 * The same for a strided layer (a first conv with stride 2): there the tap blocks would need
 * dilating, so the columns are added into dX one output pixel at a time, where the forward pass
 * read them (kh*kw*ci adds per output pixel). At stride 1 the block adds above are faster
 * (bench/KERNELS.md).
 */
function inputGradByScatter(ops: WasmOps, cols: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: b, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, inHeight: h, inWidth: w } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const taps = kh * kw * ci;
  const out = ops.empty([b, h, w, ci], 'float32');
  // Views after the last allocation (see WasmOps.view).
  const src = ops.view(cols);
  const dst = ops.view(out);
  dst.fill(0);
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const row = ((n * ho + oy) * wo + ox) * taps;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const x = ox * sw + j * dw - left;
            if (x < 0 || x >= w) continue;
            const d = ((n * h + y) * w + x) * ci;
            const s = row + (i * kw + j) * ci;
            for (let c = 0; c < ci; c++) dst[d + c] += src[s + c];
          }
        }
      }
    }
  }
  ops.free(cols);
  return out;
}

/**
 * Flipped filters (in space, channel axes swapped). Each layer's backward conv reuses one while
 * its filter lives, and XNNPACK keeps its packed copy too (it caches packed weights per filter
 * tensor). With the built-in Reverse the flip took 25-30% of a backward conv of a 256-channel
 * layer; since WasmOps.reverse moves blocks, the flip, transpose and packing saved here are 3-5%.
 */
const flippedCache = new FilterCache(64);

/** The flipped filter of `filter` on this backend; owned by the cache (do not free it). */
function flippedFilter(ops: WasmOps, filter: tf.TensorInfo): tf.TensorInfo {
  return flippedCache.get(ops, filter, () => {
    const flipped = ops.reverse(filter, [0, 1]);
    const wt = ops.transpose(flipped, [0, 1, 3, 2]);
    ops.free(flipped);
    return wt;
  });
}

/** Flipped filters currently cached (for tests). */
export function flippedFilterCount(): number {
  return flippedCache.size;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = convGradKernel(
  'Conv2DBackpropInput',
  'input',
  false,
  (ops, { dy, filter }, info) => {
    // dX = dY W^T, one matrix product on our loop (./gemm).
    const product = isPointwiseInfo(info) ? pointwise(ops, dy, filter, { transposed: true }) : undefined;
    if (product) return product;
    if (info.inChannels < COL2IM_MAX_CHANNELS) {
      // Each route frees the columns as soon as it is done with them.
      const cols = columns(ops, dy, filter, info);
      return info.strideHeight === 1 && info.strideWidth === 1
        ? inputGradByCol2im(ops, cols, info)
        : inputGradByScatter(ops, cols, info);
    }
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = info;
    const wt = flippedFilter(ops, filter);
    const before: [number, number] = [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left];
    const d = dilateAndPad(ops, dy, [sh, sw], before, [kh, kw], [h, w]);
    const out = ops.conv2d(d.x, wt, [1, 1], d.pads);
    if (d.x !== dy) ops.free(d.x);
    return out;
  },
);
