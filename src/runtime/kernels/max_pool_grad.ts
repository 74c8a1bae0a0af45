import * as tf from '@tensorflow/tfjs';
import { PadAttr } from './conv_info';
import { addressOf, simdFor } from './simd';
import { WasmOps } from './wasm_ops';

/**
 * Route each dY to the first maximum of its window in x (row-major, padding never wins), the
 * tie rule of the cpu backend. One pass over x with channels innermost, so every read is
 * sequential; the built-in kernel revisits each input pixel per overlapping window.
 * There is no XNNPACK op for this: our SIMD loop (simd.ts) takes 4 channels at a time when the
 * channel count allows, scalar JavaScript otherwise.
 */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: PadAttr;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const ops = new WasmOps(backend as tf.KernelBackend);
    const dxInfo = ops.empty(input.shape, 'float32');
    const x = ops.view(input);
    const g = ops.view(dy);
    const dx = ops.view(dxInfo);
    dx.fill(0);
    const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const fast = simdFor(ops.backend);
    if (fast && c % 4 === 0) {
      const at = (t: tf.TensorInfo): number => addressOf(ops.backend, t);
      fast.maxPoolGrad(at(input), at(dy), at(dxInfo), nb, h, w, c, ho, wo, sh, sw, fh, fw, top, left);
      return dxInfo;
    }
    const best = new Float32Array(c);
    const where = new Int32Array(c);
    for (let b = 0; b < nb; b++) {
      for (let oy = 0; oy < ho; oy++) {
        const y0 = oy * sh - top;
        const yStart = Math.max(0, y0);
        const yEnd = Math.min(h, y0 + fh);
        for (let ox = 0; ox < wo; ox++) {
          const x0 = ox * sw - left;
          const xStart = Math.max(0, x0);
          const xEnd = Math.min(w, x0 + fw);
          best.fill(-Infinity);
          where.fill(-1);
          for (let y = yStart; y < yEnd; y++) {
            for (let xx = xStart; xx < xEnd; xx++) {
              const base = ((b * h + y) * w + xx) * c;
              for (let k = 0; k < c; k++) {
                const v = x[base + k];
                if (v > best[k]) {
                  best[k] = v;
                  where[k] = base + k;
                }
              }
            }
          }
          const o = ((b * ho + oy) * wo + ox) * c;
          for (let k = 0; k < c; k++) {
            const at = where[k];
            if (at >= 0) dx[at] += g[o + k];
          }
        }
      }
    }
    return dxInfo;
  },
};
