import * as tf from '@tensorflow/tfjs';
import { convGradKernel, trailingPad } from './conv_info';
import { addressOf, SimdKernels, simdFor } from './simd';
import { Pads2D, WasmOps } from './wasm_ops';

/**
 * dW[i,j,ci,co] = sum over (b,y,x) of Xpad[b, y*s + i, x*s + j, ci] * dY[b,y,x,co].
 *
 * Routes, first that applies: (1) our SIMD GEMM (filterGradBySimd, below) for output channels
 * a multiple of 8 and input channels 1, 3, 6 or a multiple of 4; (2) a small 1x1 gradient at
 * stride 1 as the matrix product X^T dY; (3) im2col for few input channels at stride 1; (4) the
 * conv route: read with ci as the batch, b as the channels and dY as the filter, dW is one
 * forward conv on XNNPACK, Xt[ci, H, W, b] (*) dYt[ho, wo, b, co] with stride 1 and dilation s,
 * whose output [ci, kh, kw, co] is dW up to a transpose.
 */
/**
 * dW by im2col for few input channels (a first layer on pixels): the conv route would pack all
 * of dY as XNNPACK weights, which costs more than its few FLOPs per element. Here the kh*kw
 * shifted views of Xt[ci, b, Hp, Wp] stack into [kh*kw*ci, N] and one plain product with
 * dY[N, co] gives dW; stride 1 only (strided views are slow on wasm).
 */
function filterGradByIm2col(
  ops: WasmOps,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  k: [number, number],
  pads: Pads2D,
): tf.TensorInfo {
  const [b, , , ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const xp = ops.padOrCrop(x, [[0, 0], pads[0], pads[1], [0, 0]]);
  const xt = ops.transpose(xp, [3, 0, 1, 2]);
  const rows: tf.TensorInfo[] = [];
  for (let i = 0; i < k[0]; i++) {
    for (let j = 0; j < k[1]; j++) {
      const view = ops.slice(xt, [0, 0, i, j], [ci, b, ho, wo]);
      rows.push(ops.reshape(view, [ci, b * ho * wo]));
      ops.free(view);
    }
  }
  const cols = rows.length === 1 ? rows[0] : ops.concat(rows, 0);
  const g = ops.reshape(dy, [b * ho * wo, co]);
  const prod = ops.matMul(cols, g, false, false);
  const out = ops.reshape(prod, [k[0], k[1], ci, co]);
  ops.free(xp, xt, g, prod, ...rows);
  if (cols !== rows[0]) ops.free(cols);
  return out;
}

/** dW as [ci, kh, kw, co] (a transpose away from [kh, kw, ci, co]). */
function filterGradByConv(
  ops: WasmOps,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  strides: [number, number],
  pads: Pads2D,
): tf.TensorInfo {
  const xt = ops.transpose(x, [3, 1, 2, 0]);
  const dyt = ops.transpose(dy, [1, 2, 0, 3]);
  let src = xt;
  let p = pads;
  if (pads[0][1] < 0 || pads[1][1] < 0) {
    // The conv would read rows the forward pass never used: drop them instead.
    src = ops.padOrCrop(xt, [
      [0, 0],
      [0, Math.min(0, pads[0][1])],
      [0, Math.min(0, pads[1][1])],
      [0, 0],
    ]);
    p = [
      [pads[0][0], Math.max(0, pads[0][1])],
      [pads[1][0], Math.max(0, pads[1][1])],
    ];
  }
  const conv = ops.conv2d(src, dyt, [1, 1], p, strides);
  ops.free(xt, dyt);
  if (src !== xt) ops.free(src);
  return conv;
}

/**
 * Pixels of dy per call of the SIMD filter gradient (whole rows, at least one): few, so a tile's
 * stream of x and dy stays in L1 for the next tile (measured: bench/KERNELS.md).
 */
const FILTER_GRAD_BLOCK_PIXELS = 16;

/**
 * A 1x1 filter gradient over at most this many pixels is a small X^T dY: XNNPACK's matrix product
 * beats the SIMD GEMM there (bench/KERNELS.md).
 */
const MATMUL_MAX_PIXELS = 2048;

/**
 * Input channels a multiple of 4 (or 3 and 6, padded with a zero channel or two) and output
 * channels of 8 (every conv of a VGG- or MobileNet-style net, the first included): our SIMD GEMM
 * reads x (padded once so every tap is in range) and dy where they lie and adds straight into
 * dW [kh, kw, ci, co]. XNNPACK's route needs two transposes and packs all of dy as weights, then
 * streams that packed copy from L3 for every block of rows of its long reduction (bench/KERNELS.md).
 */
function filterGradBySimd(
  ops: WasmOps,
  fast: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  k: [number, number],
  strides: [number, number],
  pads: Pads2D,
): tf.TensorInfo | undefined {
  const [b, , , ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  // One input channel (a first layer on grey pixels): four neighbouring taps of a row fill the
  // four lanes instead of four channels, the row of taps padded to a multiple of 4.
  const taps = ci === 1;
  const kw4 = taps ? Math.ceil(k[1] / 4) * 4 : k[1];
  const ci4 = taps ? 1 : Math.ceil(ci / 4) * 4;
  const extra = kw4 - k[1];
  const padded = ci4 !== ci || extra > 0 || pads.some(([p, q]) => p !== 0 || q !== 0);
  const xp = padded ? ops.padOrCrop(x, [[0, 0], pads[0], [pads[1][0], pads[1][1] + extra], [0, ci4 - ci]]) : x;
  const [, hp, wp] = xp.shape;
  if (hp !== (ho - 1) * strides[0] + k[0] || wp !== (wo - 1) * strides[1] + kw4) {
    if (xp !== x) ops.free(xp);
    return undefined;
  }
  const out = ops.empty([k[0], kw4, ci4, co], 'float32');
  ops.view(out).fill(0);
  const [ax, ady, aout] = [xp, dy, out].map((t) => addressOf(ops.backend, t));
  const rows = b * ho;
  const step = Math.max(1, Math.round(FILTER_GRAD_BLOCK_PIXELS / wo));
  for (let r = 0; r < rows; r += step) {
    fast.filterGrad(
      ax,
      ady,
      aout,
      ho,
      wo,
      hp,
      wp,
      ci4,
      co,
      k[0],
      kw4,
      r,
      Math.min(rows, r + step),
      strides[0],
      strides[1],
      ci4,
      taps ? 4 : 1,
    );
  }
  if (xp !== x) ops.free(xp);
  if (ci4 === ci && kw4 === k[1]) return out;
  const dw = ops.slice(out, [0, 0, 0, 0], [k[0], k[1], ci, co]);
  ops.free(out);
  return dw;
}

/**
 * Input channels that pad up to a multiple of 4 with at most a third more work (3, 6, 4n), or
 * one channel (taps as lanes). Two channels stay on im2col (bench/KERNELS.md).
 */
function simdChannels(ci: number): boolean {
  return ci === 1 || ci % 4 === 0 || (ci >= 3 && Math.ceil(ci / 4) * 4 * 3 <= ci * 4);
}

/** Below this many input channels im2col beats the conv route (measured on 1- and 3-channel inputs). */
const IM2COL_MAX_CHANNELS = 8;

export const conv2DBackpropFilterConfig: tf.KernelConfig = convGradKernel(
  'Conv2DBackpropFilter',
  'filter',
  false,
  (ops, { x, dy }, info) => {
    const {
      batchSize: b,
      inHeight: h,
      inWidth: w,
      outHeight: ho,
      outWidth: wo,
      inChannels: ci,
      outChannels: co,
    } = info;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    const bottom = trailingPad(h, top, ho, sh, kh, 1);
    const right = trailingPad(w, left, wo, sw, kw, 1);

    const smallPointwise =
      kh === 1 &&
      kw === 1 &&
      sh === 1 &&
      sw === 1 &&
      top === 0 &&
      left === 0 &&
      ho === h &&
      wo === w &&
      b * h * w <= MATMUL_MAX_PIXELS;
    const fast =
      !smallPointwise && info.dilationHeight === 1 && info.dilationWidth === 1 && simdChannels(ci) && co % 8 === 0
        ? simdFor(ops.backend)
        : undefined;
    const bySimd =
      fast && x.dtype === 'float32' && dy.dtype === 'float32'
        ? filterGradBySimd(
            ops,
            fast,
            x,
            dy,
            [kh, kw],
            [sh, sw],
            [
              [top, bottom],
              [left, right],
            ],
          )
        : undefined;
    if (bySimd) return bySimd;

    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && ho === h && wo === w) {
      const x2 = ops.reshape(x, [b * h * w, ci]);
      const xt = ops.transpose(x2, [1, 0]);
      const g = ops.reshape(dy, [b * h * w, co]);
      const prod = ops.matMul(xt, g, false, false);
      const out = ops.reshape(prod, [1, 1, ci, co]);
      ops.free(x2, xt, g, prod);
      return out;
    }

    if (ci < IM2COL_MAX_CHANNELS && sh === 1 && sw === 1) {
      return filterGradByIm2col(
        ops,
        x,
        dy,
        [kh, kw],
        [
          [top, bottom],
          [left, right],
        ],
      );
    }
    const grad = filterGradByConv(
      ops,
      x,
      dy,
      [sh, sw],
      [
        [top, bottom],
        [left, right],
      ],
    );
    const out = ops.transpose(grad, [1, 2, 0, 3]);
    ops.free(grad);
    return out;
  },
);
