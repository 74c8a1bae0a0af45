import * as tf from '@tensorflow/tfjs';

/**
 * Two places where tfjs's gradients do work nobody asked for, fixed without changing any result.
 *
 * 1. `tf.fused.conv2d` / `depthwiseConv2d` / `matMul` with a linear activation (a conv before batch
 *    norm, a dense layer without activation) keep the fused op under `tf.grad`, and its custom
 *    gradient computes the filter (and bias) gradient every time, even for a saliency map that
 *    only wants d/dx: on a MobileNet-style net that is a whole Conv2DBackpropFilter per conv.
 *    Under gradient recording we run the same maths unfused (conv, then bias add), whose
 *    registered gradients the tape calls only for inputs on the path to what is differentiated.
 *    tfjs already does exactly this for non-linear activations.
 * 2. The FusedBatchNorm gradient computes `x - mean` and `dy * scale` eagerly and builds d/dx
 *    from a tiled copy of 1/sqrt(var): five full-size passes before any gradient is wanted.
 *    Ours computes each input's gradient only when asked, d/dx in one broadcast multiply.
 */

type FusedFn = (args: Record<string, unknown>) => tf.Tensor;
type FusedNamespace = { conv2d: FusedFn; depthwiseConv2d: FusedFn; matMul: FusedFn };

const fused = tf.fused as unknown as FusedNamespace;
let saved: { conv2d: FusedFn; depthwiseConv2d: FusedFn; matMul: FusedFn; batchNormGrad?: tf.GradConfig } | undefined;

function recording(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

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
  x: tf.Tensor4D; filter: tf.Tensor4D; strides: [number, number] | number; pad: 'valid' | 'same' | number;
  dilations?: [number, number] | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; bias?: tf.Tensor;
};

/** A fused conv (plain or depthwise) that runs as `conv` then a bias add while gradients are recorded. */
function unfusedConv(original: FusedFn, conv: typeof tf.conv2d | typeof tf.depthwiseConv2d): FusedFn {
  return (args) => {
    if (!recording() || !isLinear(args) || !nhwc(args)) return original(args);
    const a = args as unknown as ConvArgs;
    return tf.tidy(() => withBias(conv(a.x, a.filter, a.strides, a.pad as 'same', 'NHWC', a.dilations ?? [1, 1], a.dimRoundingMode), a.bias));
  };
}

function unfusedMatMul(original: FusedFn): FusedFn {
  return (args) => {
    if (!recording() || !isLinear(args)) return original(args);
    const a = args as unknown as { a: tf.Tensor; b: tf.Tensor; transposeA?: boolean; transposeB?: boolean; bias?: tf.Tensor };
    return tf.tidy(() => withBias(tf.matMul(a.a, a.b, a.transposeA ?? false, a.transposeB ?? false), a.bias));
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

/** Install both fixes (idempotent); `uninstallGradientFixes` puts tfjs's own back. */
export function installGradientFixes(): void {
  if (saved) return;
  saved = { conv2d: fused.conv2d, depthwiseConv2d: fused.depthwiseConv2d, matMul: fused.matMul, batchNormGrad: tf.getGradient('FusedBatchNorm') };
  fused.conv2d = unfusedConv(saved.conv2d, tf.conv2d);
  fused.depthwiseConv2d = unfusedConv(saved.depthwiseConv2d, tf.depthwiseConv2d);
  fused.matMul = unfusedMatMul(saved.matMul);
  tf.registerGradient(fusedBatchNormGradConfig);
}

export function uninstallGradientFixes(): void {
  if (!saved) return;
  fused.conv2d = saved.conv2d;
  fused.depthwiseConv2d = saved.depthwiseConv2d;
  fused.matMul = saved.matMul;
  if (saved.batchNormGrad) tf.registerGradient(saved.batchNormGrad);
  saved = undefined;
}
