import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BN_TRAINING_GRAD_KERNEL, CHANNEL_VARIANCE_KERNEL } from './batch_norm_grad';
import { CLIP_GRAD_KERNEL, RELU_GRAD_KERNEL } from './clip_grad';

/**
 * Four places where tfjs's gradients do work nobody asked for, fixed without changing any result.
 *
 * 1. `tf.fused.conv2d` / `depthwiseConv2d` with a linear activation (a conv before batch norm)
 *    keep the fused op under `tf.grad`, and its custom
 *    gradient computes the filter (and bias) gradient every time, even for a saliency map that
 *    only wants d/dx: on a MobileNet-style net that is a whole Conv2DBackpropFilter per conv.
 *    Under gradient recording we run the same maths unfused (conv, then bias add), whose
 *    registered gradients the tape calls only for inputs on the path to what is differentiated.
 *    tfjs already does exactly this for non-linear activations. (Dense layers keep the fused
 *    matMul: their weight gradient is cheap, and unfusing would change the rounding of the
 *    bias add, so retraining the shipped models would no longer give the committed weights.)
 * 2. The FusedBatchNorm gradient computes `x - mean` and `dy * scale` eagerly and builds d/dx
 *    from a tiled copy of 1/sqrt(var): five full-size passes before any gradient is wanted.
 *    Ours computes each input's gradient only when asked, d/dx in one broadcast multiply.
 * 3. `tf.moments`, which batch norm in training mode normalises with, differentiates through
 *    Mean, Sub, Square and Mean again: about ten full-size passes per layer. Its closed form is
 *    d/dx = dMean / N + 2 dVar (x - mean) / N: three passes.
 *    And when batch norm then normalises x by those very statistics (`batchNorm` of x with the
 *    mean and variance `moments` just gave for x over all axes but the channels: a batch-norm
 *    layer in training), the whole of it is one op whose gradient is two passes on wasm
 *    (./batch_norm_grad.ts) instead of about fifteen.
 * 4. The gradient of `clipByValue` (every ReLU6) takes five kernels; on wasm ours is one pass
 *    (./clip_grad.ts). Under a second-order gradient tfjs's own, differentiable, form is kept.
 */

/**
 * tfjs-core's module object as tfjs-layers sees it (layers reads `moments` from it at call
 * time), resolved from tfjs-layers' own folder so it is the very instance layers uses.
 */
const core = require(
  require.resolve('@tensorflow/tfjs-core', { paths: [path.dirname(require.resolve('@tensorflow/tfjs-layers'))] }),
) as {
  moments: typeof tf.moments;
  batchNorm2d: BatchNormFn;
  batchNorm3d: BatchNormFn;
  batchNorm4d: BatchNormFn;
};

type BatchNormFn = (
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  offset?: tf.Tensor | null,
  scale?: tf.Tensor | null,
  eps?: number,
) => tf.Tensor;
const BN_RANKS = ['batchNorm2d', 'batchNorm3d', 'batchNorm4d'] as const;

type FusedFn = (args: Record<string, unknown>) => tf.Tensor;
type FusedNamespace = { conv2d: FusedFn; depthwiseConv2d: FusedFn };

const fused = tf.fused as unknown as FusedNamespace;
let saved:
  | {
      conv2d: FusedFn;
      depthwiseConv2d: FusedFn;
      moments: typeof tf.moments;
      batchNorm: Record<(typeof BN_RANKS)[number], BatchNormFn>;
      batchNormGrad?: tf.GradConfig;
      clipGrad?: tf.GradConfig;
      reluGrad?: tf.GradConfig;
    }
  | undefined;

function gradientDepth(): number {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth;
}

function recording(): boolean {
  return gradientDepth() > 0;
}

/** The statistics `moments` returned while recording, over all axes but the last: mean -> (x, variance). */
const channelStats = new WeakMap<tf.Tensor, { x: tf.Tensor; variance: tf.Tensor }>();

function isLinear(args: Record<string, unknown>): boolean {
  return args.activation === undefined || args.activation === null || args.activation === 'linear';
}

function nhwc(args: Record<string, unknown>): boolean {
  return args.dataFormat === undefined || args.dataFormat === 'NHWC';
}

function withBias(y: tf.Tensor, bias: unknown): tf.Tensor {
  return bias === undefined || bias === null ? y : tf.add(y, bias as tf.Tensor);
}

type ConvArgs = {
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  bias?: tf.Tensor;
};

/** A fused conv (plain or depthwise) that runs as `conv` then a bias add while gradients are recorded. */
function unfusedConv(original: FusedFn, conv: typeof tf.conv2d | typeof tf.depthwiseConv2d): FusedFn {
  return (args) => {
    if (!recording() || !isLinear(args) || !nhwc(args)) return original(args);
    const a = args as unknown as ConvArgs;
    return tf.tidy(() =>
      withBias(
        conv(a.x, a.filter, a.strides, a.pad as 'same', 'NHWC', a.dilations ?? [1, 1], a.dimRoundingMode),
        a.bias,
      ),
    );
  };
}

/**
 * y = (x - mean) * scale / sqrt(var + eps) + offset, with mean, var, scale, offset broadcast
 * against x (the channel vectors of a batch-norm layer, or full shapes). Each gradient is
 * computed only when the tape asks for it.
 */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], savedTensors: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const [x, mean, variance, scale] = savedTensors;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    // Reduce a full-size tensor to the statistics' shape.
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(axes.length ? tf.sum(t, axes) : t, mean.shape);
    // Each input's gradient is made inside its own tidy by the tape, so nothing is shared
    // between them (a shared tensor would be freed by the first tidy); each is still one or two
    // full-size passes where tfjs's own takes up to five.
    const invStd = (): tf.Tensor => tf.rsqrt(tf.add(variance, eps));
    const scaled = (t: tf.Tensor): tf.Tensor => (scale === undefined || scale === null ? t : tf.mul(t, scale));
    // x - mean first: sum(dy * x) - mean * sum(dy) would save a pass but cancels badly when the
    // mean is large against the spread.
    const dyXcSum = (): tf.Tensor => reduce(tf.mul(g, tf.sub(x, mean)));
    return {
      x: () => tf.reshape(tf.mul(g, scaled(invStd())), x.shape),
      mean: () => tf.neg(scaled(tf.mul(invStd(), reduce(g)))),
      variance: () => tf.mul(scaled(tf.mul(tf.pow(invStd(), 3), dyXcSum())), -0.5),
      scale: () => tf.mul(dyXcSum(), invStd()),
      offset: () => reduce(g),
    };
  },
};

/**
 * Whether a first-order gradient can use our one-pass wasm kernel: on wasm, float32, and not while
 * another tape records (a gradient of this gradient needs tfjs's differentiable form).
 */
function ownKernelApplies(kernel: string, dy: tf.Tensor, x: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    !recording() &&
    !!tf.getKernel(kernel, 'wasm') &&
    dy.dtype === 'float32' &&
    x.dtype === 'float32'
  );
}

/** d/dx of clipByValue: one kernel on wasm (first-order gradients), tfjs's own form otherwise. */
export const clipByValueGradConfig: tf.GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], [x]: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const { clipValueMin, clipValueMax } = attrs as unknown as { clipValueMin: number; clipValueMax: number };
    const g = dy as tf.Tensor;
    return {
      x: () => {
        if (ownKernelApplies(CLIP_GRAD_KERNEL, g, x)) {
          return tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy: g, x }, {
            clipValueMin,
            clipValueMax,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        }
        return tf.where(
          tf.logicalAnd(tf.greaterEqual(x, clipValueMin), tf.lessEqual(x, clipValueMax)),
          g,
          tf.zerosLike(g),
        );
      },
    };
  },
};

/** d/dx of relu: one kernel on wasm (first-order gradients), tfjs's own dy * step(x) otherwise. */
export const reluGradConfig: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], [x]: tf.Tensor[]) => {
    const g = dy as tf.Tensor;
    return {
      x: () => {
        if (ownKernelApplies(RELU_GRAD_KERNEL, g, x)) {
          return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: g, x }, {}) as tf.Tensor;
        }
        return tf.mul(g, tf.cast(tf.step(x), 'float32'));
      },
    };
  },
};

/** Mean and (population) variance over `axis` with the closed-form gradient while recording. */
function momentsWithClosedFormGradient(original: typeof tf.moments): typeof tf.moments {
  return (x, axis, keepDims = false) => {
    if (!recording() || !(x instanceof tf.Tensor) || x.dtype !== 'float32') return original(x, axis, keepDims);
    const axes = axis === undefined || axis === null ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis, x.shape);
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    const reducedShape = x.shape.filter((_, i) => !axes.includes(i));
    const keptShape = tf.backend_util.expandShapeToKeepDim(reducedShape, axes);
    // dy of either statistic, as a tensor broadcastable against x.
    const spread = (dy: tf.Tensor, factor: number): tf.Tensor => tf.reshape(tf.mul(dy, factor), keptShape);
    const mean = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [a, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([a]);
      return {
        value: tf.mean(a, axes, keepDims),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [s]: tf.Tensor[]) =>
          tf.broadcastTo(spread(dy as tf.Tensor, 1 / n), s.shape),
      };
    })(x);
    // Over all axes but the channels, on wasm: the variance in one pass given the mean (our kernel).
    const channels =
      axes.length === x.rank - 1 &&
      axes.every((a, i) => a === i) &&
      tf.getBackend() === 'wasm' &&
      !!tf.getKernel(CHANNEL_VARIANCE_KERNEL, 'wasm');
    const variance = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [a, save] = args as [tf.Tensor, tf.GradSaveFunc];
      // The mean just computed (the tape need not see this use: the gradient below is exact).
      const m = tf.reshape(mean, keptShape);
      save([a, m]);
      const v = channels
        ? tf.reshape(
            tf.engine().runKernel(CHANNEL_VARIANCE_KERNEL, { x: a, mean: tf.reshape(mean, [-1]) }, {}) as tf.Tensor,
            keepDims ? keptShape : reducedShape,
          )
        : tf.mean(tf.squaredDifference(a, m), axes, keepDims);
      // The mean's own dependence on x drops out: sum(x - mean) = 0.
      return {
        value: v,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [s, mm]: tf.Tensor[]) =>
          tf.mul(tf.sub(s, mm), spread(dy as tf.Tensor, 2 / n)),
      };
    })(x);
    if (axes.length === x.rank - 1 && axes.every((a, i) => a === i) && !keepDims)
      channelStats.set(mean, { x, variance });
    return { mean, variance };
  };
}

/**
 * batchNorm of x by its own channel statistics (batch norm in training) as one op with a
 * closed-form gradient, on wasm with a single tape recording (a gradient of this gradient keeps
 * tfjs's differentiable form). Anything else goes to `original`.
 */
function batchNormOfOwnStatistics(original: BatchNormFn): BatchNormFn {
  return (x, mean, variance, offset, scale, eps = 0.001) => {
    const st = channelStats.get(mean);
    const c = x.shape[x.rank - 1];
    const perChannel = (t: tf.Tensor | null | undefined): boolean =>
      t == null || (t.rank === 1 && t.shape[0] === c && t.dtype === 'float32');
    if (
      !st ||
      st.x !== x ||
      st.variance !== variance ||
      gradientDepth() !== 1 ||
      tf.getBackend() !== 'wasm' ||
      !tf.getKernel(BN_TRAINING_GRAD_KERNEL, 'wasm') ||
      !perChannel(offset) ||
      !perChannel(scale)
    ) {
      return original(x, mean, variance, offset, scale, eps);
    }
    const inputs = [x, ...(scale ? [scale] : []), ...(offset ? [offset] : [])];
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const xa = args[0] as tf.Tensor;
      const sc = scale ? (args[1] as tf.Tensor) : undefined;
      const of = offset ? (args[scale ? 2 : 1] as tf.Tensor) : undefined;
      save([xa, mean, variance, ...(sc ? [sc] : [])]);
      return {
        value: original(xa, mean, variance, of, sc, eps),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], s: tf.Tensor[]) => {
          const [xs, m, v, g] = s;
          const [dx, dScale, dOffset] = tf
            .engine()
            .runKernel(
              BN_TRAINING_GRAD_KERNEL,
              { dy: dy as tf.Tensor, x: xs, mean: m, variance: v, ...(g ? { scale: g } : {}) },
              { varianceEpsilon: eps } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
          const grads = [dx];
          if (sc) grads.push(dScale);
          else dScale.dispose();
          if (of) grads.push(dOffset);
          else dOffset.dispose();
          return grads;
        },
      };
    });
    return op(...inputs);
  };
}

/** Install the fixes (idempotent); `uninstallGradientFixes` puts tfjs's own back. */
export function installGradientFixes(): void {
  if (saved) return;
  saved = {
    conv2d: fused.conv2d,
    depthwiseConv2d: fused.depthwiseConv2d,
    moments: core.moments,
    batchNorm: { batchNorm2d: core.batchNorm2d, batchNorm3d: core.batchNorm3d, batchNorm4d: core.batchNorm4d },
    batchNormGrad: tf.getGradient('FusedBatchNorm'),
    clipGrad: tf.getGradient('ClipByValue'),
    reluGrad: tf.getGradient('Relu'),
  };
  core.moments = momentsWithClosedFormGradient(saved.moments);
  for (const k of BN_RANKS) core[k] = batchNormOfOwnStatistics(saved.batchNorm[k]);
  fused.conv2d = unfusedConv(saved.conv2d, tf.conv2d);
  fused.depthwiseConv2d = unfusedConv(saved.depthwiseConv2d, tf.depthwiseConv2d);
  tf.registerGradient(fusedBatchNormGradConfig);
  tf.registerGradient(clipByValueGradConfig);
  tf.registerGradient(reluGradConfig);
}

export function uninstallGradientFixes(): void {
  if (!saved) return;
  fused.conv2d = saved.conv2d;
  fused.depthwiseConv2d = saved.depthwiseConv2d;
  core.moments = saved.moments;
  for (const k of BN_RANKS) core[k] = saved.batchNorm[k];
  if (saved.batchNormGrad) tf.registerGradient(saved.batchNormGrad);
  if (saved.clipGrad) tf.registerGradient(saved.clipGrad);
  if (saved.reluGrad) tf.registerGradient(saved.reluGrad);
  saved = undefined;
}
