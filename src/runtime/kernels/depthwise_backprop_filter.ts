import * as tf from '@tensorflow/tfjs';
import { convGradKernel } from './conv_info';
import { addressOf, simdFor } from './simd';

/**
 * dW[i,j,c,q] = sum over (b,y,x) of Xpad[b, y*s + i*d, x*s + j*d, c] * dY[b, y, x, c*m + q].
 *
 * Each channel is its own tiny correlation, which no XNNPACK op expresses well: as a depthwise
 * conv the whole of dY becomes a filter of ho*wo taps (measured no faster, and it copies dY
 * twice). One pass over dY here, with the kh*kw*c*m sums held in a small array: our SIMD loop
 * (simd.ts) for multiplier 1 and channels in fours, scalar JavaScript otherwise.
 */
export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = convGradKernel(
  'DepthwiseConv2dNativeBackpropFilter',
  'filter',
  true,
  (ops, { x, dy }, info, filterShape) => {
    const [kh, kw, c, m] = filterShape;
    const outInfo = ops.empty([kh, kw, c, m], 'float32');
    const fast = simdFor(ops.backend);
    if (fast && m === 1 && c % 4 === 0) {
      ops.view(outInfo).fill(0);
      fast.depthwiseFilterGrad(
        addressOf(ops.backend, x),
        addressOf(ops.backend, dy),
        addressOf(ops.backend, outInfo),
        info.batchSize,
        info.inHeight,
        info.inWidth,
        c,
        info.outHeight,
        info.outWidth,
        info.strideHeight,
        info.strideWidth,
        info.dilationHeight,
        info.dilationWidth,
        kh,
        kw,
        info.padInfo.top,
        info.padInfo.left,
      );
      return outInfo;
    }
    const xv = ops.view(x);
    const g = ops.view(dy);
    const out = ops.view(outInfo);
    const acc = new Float64Array(kh * kw * c * m);
    accumulate(xv, g, acc, info, kh, kw, c, m);
    out.set(acc);
    return outInfo;
  },
);

function accumulate(
  x: Float32Array,
  g: Float32Array,
  acc: Float64Array,
  info: tf.backend_util.Conv2DInfo,
  kh: number,
  kw: number,
  c: number,
  m: number,
): void {
  const { batchSize: nb, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const cm = c * m;
  for (let b = 0; b < nb; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const gp = ((b * ho + oy) * wo + ox) * cm;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw + j * dw - left;
            if (xx < 0 || xx >= w) continue;
            const xp = ((b * h + y) * w + xx) * c;
            const ap = (i * kw + j) * cm;
            if (m === 1) {
              for (let k = 0; k < c; k++) acc[ap + k] += x[xp + k] * g[gp + k];
            } else {
              for (let k = 0; k < c; k++) {
                const v = x[xp + k];
                for (let q = 0; q < m; q++) acc[ap + k * m + q] += v * g[gp + k * m + q];
              }
            }
          }
        }
      }
    }
  }
}
