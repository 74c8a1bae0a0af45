/**
 * What the page changes in a model while it takes a gradient, because the browser's backends (WebGL, wasm) are not
 * the node side's: convolutions unfused, batch norms as one multiply-add, max pools with the node side's gradient
 * rule. The node side makes the same changes in its kernels (src/runtime/kernels); the maths of the methods is shared
 * (see compute.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { one, patch, Restore } from '../src/runtime/layer_patch';

interface ConvInternals {
  rank: number;
  dataFormat: string;
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

/**
 * Conv2D layers run as conv, then bias add, while a gradient is taken: tfjs keeps a conv with a
 * linear activation fused under tf.grad, and the fused op's gradient computes the filter's
 * gradient too, which nobody asked for (and which the browser's wasm backend has no kernel for).
 * The node side makes the same change (src/runtime/kernels/gradients.ts).
 */
function unfuseConvs(model: tf.LayersModel): Restore[] {
  const restores: Restore[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const l = layer as unknown as ConvInternals;
    if (l.rank !== 2 || l.dataFormat !== 'channelsLast') continue;
    restores.push(
      patch(layer, 'call', (inputs) => {
        let y: tf.Tensor = tf.conv2d(
          one(inputs) as tf.Tensor4D,
          l.kernel.read(),
          l.strides,
          l.padding,
          'NHWC',
          l.dilationRate,
        );
        if (l.bias) y = tf.add(y, l.bias.read());
        return l.activation ? l.activation.apply(y) : y;
      }),
    );
  }
  return restores;
}

interface PoolInternals {
  poolSize: [number, number];
  strides: [number, number];
  padding: string;
  dataFormat: string;
}

/**
 * Max pooling whose gradient goes to the first maximum of each window (row-major), the rule of
 * the node side (tfjs's cpu backend and cnnviz's wasm kernel). The browser's wasm and WebGL
 * backends pick another one among equal maxima, and equal maxima are common: a flat background
 * gives the same positive activation all over. For pools that tile the input (window = stride,
 * no padding); other pools keep tfjs's own gradient.
 */
function firstMaxPool(kh: number, kw: number): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.maxPool(x, [kh, kw], [kh, kw], 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [b, h, w, c] = saved[0].shape;
        const oh = Math.floor(h / kh),
          ow = Math.floor(w / kw);
        const xc = tf.slice(saved[0], [0, 0, 0, 0], [b, oh * kh, ow * kw, c]);
        const win = tf.reshape(tf.transpose(tf.reshape(xc, [b, oh, kh, ow, kw, c]), [0, 1, 3, 5, 2, 4]), [
          b,
          oh,
          ow,
          c,
          kh * kw,
        ]);
        // the first maximum of each window: a running count along it (as rows: tfjs's cumsum takes rank 2 on every
        // backend)
        const isMax = tf.reshape(tf.cast(tf.equal(win, tf.max(win, 4, true)), 'float32'), [-1, kh * kw]);
        const first = tf.reshape(tf.mul(isMax, tf.cast(tf.equal(tf.cumsum(isMax, 1), 1), 'float32')), [
          b,
          oh,
          ow,
          c,
          kh * kw,
        ]);
        const g = tf.mul(first, tf.expandDims(dy, 4));
        const back = tf.reshape(tf.transpose(tf.reshape(g, [b, oh, ow, c, kh, kw]), [0, 1, 4, 2, 5, 3]), [
          b,
          oh * kh,
          ow * kw,
          c,
        ]);
        return tf.pad(back, [
          [0, 0],
          [0, h - oh * kh],
          [0, w - ow * kw],
          [0, 0],
        ]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

function firstMaxPools(model: tf.LayersModel): Restore[] {
  const restores: Restore[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'MaxPooling2D') continue;
    const p = layer as unknown as PoolInternals;
    if (
      p.padding !== 'valid' ||
      p.dataFormat !== 'channelsLast' ||
      p.poolSize[0] !== p.strides[0] ||
      p.poolSize[1] !== p.strides[1]
    )
      continue;
    const f = firstMaxPool(p.poolSize[0], p.poolSize[1]);
    restores.push(patch(layer, 'call', (inputs) => f(one(inputs))));
  }
  return restores;
}

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  gamma?: { read(): tf.Tensor };
  beta?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor };
  movingVariance: { read(): tf.Tensor };
}

/**
 * Batch normalisation (inference) as one multiply and one add by per-channel constants while a
 * gradient is taken: tfjs's FusedBatchNorm gradient tiles 1/sqrt(var) to the whole activation
 * first (on the browser's wasm backend, 0.8 s of a MobileNet saliency map). Same values, to float
 * rounding; the node side changes the gradient instead (src/runtime/kernels/gradients.ts).
 */
function affineBatchNorms(model: tf.LayersModel): Restore[] {
  const restores: Restore[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const b = layer as unknown as BatchNormInternals;
    if (b.axis !== -1 && b.axis !== (layer.outputShape as number[]).length - 1) continue;
    restores.push(
      patch(layer, 'call', (inputs) => {
        const scale = tf.div(
          b.gamma ? b.gamma.read() : tf.scalar(1),
          tf.sqrt(tf.add(b.movingVariance.read(), b.epsilon)),
        );
        const shift = tf.sub(b.beta ? b.beta.read() : tf.scalar(0), tf.mul(b.movingMean.read(), scale));
        return tf.add(tf.mul(one(inputs), scale), shift);
      }),
    );
  }
  return restores;
}

/**
 * Runs fn with the model's layers changed for gradients (unfused convs, affine batch norms, first-max pools),
 * restoring them after.
 */
export function forGradients<T>(model: tf.LayersModel, fn: () => T): T {
  const restores = [...unfuseConvs(model), ...affineBatchNorms(model), ...firstMaxPools(model)];
  try {
    return fn();
  } finally {
    restores.reverse().forEach((r) => r());
  }
}
