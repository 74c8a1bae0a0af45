/**
 * The page's computations, on the browser's TensorFlow.js (WebGL, else wasm): the same maths as
 * the node-side techniques (src/techniques), written small. Scores are the logits; saliency is
 * the gradient's max |.| over channels; Grad-CAM taps the last convolution; guided backprop
 * swaps the ReLUs' backward pass; occlusion slides a mean-colour patch and records the
 * probability. Layers are patched only for the length of one synchronous call, with the node side's
 * own layer_patch module; Grad-CAM's layer is the one the node side's cam_layer module picks.
 */
import * as tf from '@tensorflow/tfjs';
import { camLayerName } from '../src/techniques/attribution/cam_layer';
import { internals, one, patch, Restore } from '../src/techniques/core/layer_patch';

function activationName(layer: tf.layers.Layer): string | undefined {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === 'string' ? a : undefined;
}

/**
 * ReLU whose backward pass lets through only positive gradients where the input was positive
 * (Springenberg 2015); a leaky one (Darknet's) keeps its slope below zero, as on the node side.
 */
function guidedRelu(cap: number | null, leak = 0): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: leak > 0 ? tf.leakyRelu(x, leak) : cap === null ? tf.relu(x) : tf.clipByValue(x, 0, cap),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (leak > 0)
          return tf.where(tf.greater(dy, 0), tf.where(tf.greater(saved[0], 0), dy, tf.mul(dy, leak)), tf.zerosLike(dy));
        let open = tf.greater(saved[0], 0);
        if (cap !== null) open = tf.logicalAnd(open, tf.less(saved[0], cap));
        return tf.where(tf.logicalAnd(open, tf.greater(dy, 0)), dy, tf.zerosLike(dy));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

const NONLINEAR = ['ELU', 'PReLU', 'ThresholdedReLU'];
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
function forGradients<T>(model: tf.LayersModel, fn: () => T): T {
  const restores = [...unfuseConvs(model), ...affineBatchNorms(model), ...firstMaxPools(model)];
  try {
    return fn();
  } finally {
    restores.reverse().forEach((r) => r());
  }
}

export interface Activation {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

export class Net {
  private readonly sub = new Map<string, tf.LayersModel>();
  /** the layer Grad-CAM explains: the last convolution with a map larger than 1x1 */
  readonly camLayer: string | null;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;

  constructor(
    readonly model: tf.LayersModel,
    readonly logitsLayer: string | null,
  ) {
    [this.height, this.width, this.channels] = model.inputs[0].shape.slice(1) as number[];
    const out = model.outputs[0].shape;
    this.classes = out[out.length - 1] as number;
    this.camLayer = camLayerName(model);
  }

  /** Pixels HWC in [0, 1] -> a batch of one. */
  input(pixels: Float32Array): tf.Tensor4D {
    return tf.tensor4d(pixels, [1, this.height, this.width, this.channels]);
  }

  upTo(layer: string): tf.LayersModel {
    let m = this.sub.get(layer);
    if (!m) {
      const l = this.model.getLayer(layer);
      m = tf.model({
        inputs: this.model.inputs,
        outputs: (l.inboundNodes.length > 1 ? l.getOutputAt(0) : l.output) as tf.SymbolicTensor,
      });
      this.sub.set(layer, m);
    }
    return m;
  }

  /** Scores before the softmax [N, classes]: the 'logits' layer, else the output with its final softmax skipped. */
  private logits(x: tf.Tensor): tf.Tensor2D {
    if (this.logitsLayer) return this.upTo(this.logitsLayer).apply(x, { training: false }) as tf.Tensor2D;
    const last = this.model.layers[this.model.layers.length - 1];
    const restores: Restore[] = [];
    if (
      last.getClassName() === 'Softmax' ||
      (last.getClassName() === 'Activation' && activationName(last) === 'softmax')
    ) {
      restores.push(patch(last, 'call', (i) => tf.clone(one(i))));
    } else if (activationName(last) === 'softmax') {
      restores.push(patch(last, 'activation', { apply: (t: tf.Tensor) => t, getClassName: () => 'cnnviz_linear' }));
    }
    try {
      return one(this.model.apply(x, { training: false }) as tf.Tensor) as tf.Tensor2D;
    } finally {
      restores.forEach((r) => r());
    }
  }

  /** Probabilities of one image. */
  async predict(x: tf.Tensor4D): Promise<Float32Array> {
    const p = tf.tidy(() => one(this.model.predict(x) as tf.Tensor));
    const out = (await p.data()) as Float32Array;
    p.dispose();
    return out;
  }

  /** Probabilities and one layer's activation from a single forward pass (what a new image needs first). */
  async predictWith(x: tf.Tensor4D, layer: string): Promise<{ probs: Float32Array; activation: Activation }> {
    let m = this.sub.get(`probs+${layer}`);
    if (!m) {
      const l = this.model.getLayer(layer);
      m = tf.model({
        inputs: this.model.inputs,
        outputs: [
          this.model.outputs[0],
          (l.inboundNodes.length > 1 ? l.getOutputAt(0) : l.output) as tf.SymbolicTensor,
        ],
      });
      this.sub.set(`probs+${layer}`, m);
    }
    const [p, y] = m.predict(x) as tf.Tensor[];
    const [, h, w, c] = y.shape as number[];
    const [probs, data] = (await Promise.all([p.data(), y.data()])) as Float32Array[];
    tf.dispose([p, y]);
    return { probs, activation: { data, height: h, width: w, channels: c } };
  }

  async activation(x: tf.Tensor4D, layer: string): Promise<Activation> {
    const y = tf.tidy(() => one(this.upTo(layer).predict(x) as tf.Tensor));
    const [, h, w, c] = y.shape as number[];
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return { data, height: h, width: w, channels: c };
  }

  /**
   * Saliency (Simonyan 2014: max over channels of |d logit_c / d pixel|) and Grad-CAM (Selvaraju
   * 2017, at the last convolution, upsampled to the image), both [H * W], from one backward pass:
   * the gradient at the convolution's output is the gradient with respect to a zero added there.
   */
  async classMaps(x: tf.Tensor4D, cls: number): Promise<{ saliency: Float32Array; gradCam: Float32Array | null }> {
    const layer = this.camLayer ? this.model.getLayer(this.camLayer) : null;
    const [sal, cam] = tf.tidy((): tf.Tensor[] =>
      forGradients(this.model, () => {
        let activation: tf.Tensor | undefined;
        const restore = layer
          ? (() => {
              const inner = internals(layer).call.bind(layer);
              return (delta: tf.Tensor) =>
                patch(layer, 'call', (inputs, kwargs) => {
                  const out = one(inner(inputs, kwargs));
                  activation = tf.keep(out);
                  return tf.add(out, delta);
                });
            })()
          : null;
        const zeros = tf.zeros(layer ? [1, ...(layer.outputShape as number[]).slice(1)] : [1]);
        const score = (input: tf.Tensor, delta: tf.Tensor): tf.Scalar => {
          const undo = restore ? restore(delta) : null;
          try {
            return tf.sum(tf.slice(this.logits(input), [0, cls], [-1, 1]));
          } finally {
            undo?.();
          }
        };
        const [gx, gDelta] = tf.grads(score as (...a: tf.Tensor[]) => tf.Scalar)([x, zeros]);
        const saliency = tf.max(tf.abs(gx), -1);
        if (!layer || !activation) return [saliency];
        const weights = tf.mean(gDelta, [1, 2], true);
        const map = tf.relu(tf.sum(tf.mul(weights, activation), -1, true)) as tf.Tensor4D;
        activation.dispose();
        return [saliency, tf.image.resizeBilinear(map, [this.height, this.width], false, true)];
      }),
    );
    const out = {
      saliency: (await sal.data()) as Float32Array,
      gradCam: cam ? ((await cam.data()) as Float32Array) : null,
    };
    tf.dispose([sal, ...(cam ? [cam] : [])]);
    return out;
  }

  /** Why guided backprop cannot run on this model, or null when it can. */
  guidedProblem(): string | null {
    const others = this.model.layers.filter(
      (l) =>
        NONLINEAR.includes(l.getClassName()) ||
        (activationName(l) !== undefined &&
          !['relu', 'relu6', 'linear', 'softmax'].includes(activationName(l) as string)),
    );
    return others.length
      ? `guided backprop needs a ReLU network; ${others.map((l) => `'${l.name}'`).join(', ')} ` +
          `${others.length > 1 ? 'are' : 'is'} not ReLU`
      : null;
  }

  /** Guided backprop of channel `channel` of `layer` (its mean over positions), [H * W * C]. */
  async guided(x: tf.Tensor4D, layer: string, channel: number): Promise<Float32Array> {
    const problem = this.guidedProblem();
    if (problem) throw new Error(problem);
    const g = tf.tidy(() =>
      forGradients(this.model, () => {
        const restores: Restore[] = [];
        try {
          for (const l of this.model.layers) {
            const act = activationName(l);
            if (l.getClassName() === 'LeakyReLU') {
              const f = guidedRelu(null, (l.getConfig() as { alpha?: number }).alpha ?? 0.3);
              restores.push(patch(l, 'call', (i) => f(one(i))));
            } else if (l.getClassName() === 'ReLU') {
              const f = guidedRelu(internals(l).maxValue ?? null);
              restores.push(patch(l, 'call', (i) => f(one(i))));
            } else if (act === 'relu' || act === 'relu6') {
              const f = guidedRelu(act === 'relu6' ? 6 : null);
              restores.push(patch(l, 'activation', { apply: f, getClassName: () => 'cnnviz_guided_relu' }));
            }
          }
          return tf.grad((input: tf.Tensor) => {
            const out = one(this.upTo(layer).apply(input, { training: false }) as tf.Tensor);
            const unit = tf.slice(out, [0, 0, 0, channel], [-1, -1, -1, 1]);
            return tf.sum(tf.mean(unit, [1, 2, 3]));
          })(x);
        } finally {
          restores.reverse().forEach((r) => r());
        }
      }),
    );
    const out = (await g.data()) as Float32Array;
    g.dispose();
    return out;
  }

  /** Occlusion (Zeiler & Fergus 2014) with the node side's defaults; calls `onPart` as batches finish. */
  async occlusion(
    x: tf.Tensor4D,
    cls: number,
    onPart: (pixelDrop: Float32Array, done: number, total: number) => void,
    cancelled: () => boolean,
    batchSize = 32,
  ): Promise<Float32Array | null> {
    const h = this.height,
      w = this.width,
      c = this.channels;
    const win = Math.max(1, Math.round(Math.min(h, w) / 6));
    const stride = Math.max(1, Math.round(win / 4));
    const rows = Math.floor((h - win) / stride) + 1;
    const cols = Math.floor((w - win) / stride) + 1;
    const count = rows * cols;
    const mean = tf.tidy(() => tf.mul(tf.ones([1, h, w, c]), tf.mean(x, [1, 2], true)));
    const base = (await this.predict(x))[cls];
    const sum = new Float32Array(h * w);
    const covered = new Float32Array(h * w);
    try {
      for (let start = 0; start < count; start += batchSize) {
        if (cancelled()) return null;
        const b = Math.min(batchSize, count - start);
        const mask = new Float32Array(b * h * w);
        for (let k = 0; k < b; k++) {
          const top = Math.floor((start + k) / cols) * stride;
          const left = ((start + k) % cols) * stride;
          for (let y = top; y < top + win; y++) mask.fill(1, k * h * w + y * w + left, k * h * w + y * w + left + win);
        }
        const scores = tf.tidy(() => {
          const m = tf.tensor4d(mask, [b, h, w, 1]);
          const occluded = tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(mean, m));
          return tf.slice(one(this.model.predict(occluded) as tf.Tensor), [0, cls], [-1, 1]);
        });
        const v = (await scores.data()) as Float32Array;
        scores.dispose();
        for (let k = 0; k < b; k++) {
          const top = Math.floor((start + k) / cols) * stride;
          const left = ((start + k) % cols) * stride;
          const drop = base - v[k];
          for (let y = top; y < top + win; y++) {
            for (let xx = left; xx < left + win; xx++) {
              sum[y * w + xx] += drop;
              covered[y * w + xx]++;
            }
          }
        }
        onPart(
          sum.map((s, i) => (covered[i] > 0 ? s / covered[i] : 0)),
          start + b,
          count,
        );
      }
    } finally {
      mean.dispose();
    }
    return sum.map((s, i) => (covered[i] > 0 ? s / covered[i] : 0));
  }
}
