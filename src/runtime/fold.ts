/**
 * The inference form of a network's conv -> batch norm -> ReLU6 chains, for the length of one synchronous call.
 *
 * Batch norm at inference is affine per channel, y = s * z + t with s = gamma / sqrt(var + eps) and
 * t = beta - mean * s, so it folds exactly into the convolution before it: kernel * s (per output channel) and bias
 * s * b + t. The ReLU6 after it then fuses into the convolution too: XNNPACK's fused conv clamps its output as it
 * writes it. A chain thus costs one pass instead of four, forward; backward (input gradients only: the folded
 * weights are constants), one masked copy of dy and the convolution's input gradient instead of ReLU6's, batch
 * norm's and the convolution's.
 *
 * The maps are those of the unfolded network to float32 rounding (the folded kernel is rounded once); the one
 * difference is ReLU6's derivative exactly at 0 and 6, where the fused form passes nothing (a set of measure zero).
 * A layer the caller taps, linearizes or stops at keeps its own form (see FoldOptions).
 *
 * Folded weights are cached per chain and rebuilt when a weight variable changes (variable.assign gives it new data:
 * the randomization check, training).
 */
import * as tf from '@tensorflow/tfjs';
import { CLIP_GRAD_KERNEL } from './kernels/clip_grad';
import { one, patch, Restore } from './layer_patch';

interface Chain {
  conv: tf.layers.Layer;
  bn: tf.layers.Layer;
  /** The ReLU6 after the batch norm, when there is one. */
  act?: tf.layers.Layer;
  depthwise: boolean;
}

interface Folded {
  ids: object[];
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface FoldOptions {
  /** Layers that must keep their own output (tapped, linearized, or where the call stops). */
  keep?: Iterable<string>;
  /** Leave the ReLU6 layers alone (their gradient is replaced: guided backprop, the deconvnet). */
  keepRelus?: boolean;
}

let enabled = true;

/** For tests and the profile bench: folding on (default) or off. Returns the old setting. */
export function setFolding(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  return old;
}

const chainCache = new WeakMap<tf.LayersModel, Chain[]>();
const foldedCache = new WeakMap<tf.layers.Layer, Folded>();

type Config = Record<string, unknown>;

function only<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

/** The single layer that reads `layer`'s output, if exactly one does (through exactly one node). */
function nextLayer(layer: tf.layers.Layer): tf.layers.Layer | undefined {
  if (layer.inboundNodes.length !== 1) return undefined;
  const node = only(layer.outboundNodes);
  return node ? (node.outboundLayer as tf.layers.Layer) : undefined;
}

function isRelu6(layer: tf.layers.Layer): boolean {
  const cfg = layer.getConfig() as Config;
  if (layer.getClassName() === 'Activation') return cfg.activation === 'relu6';
  if (layer.getClassName() === 'ReLU') return cfg.maxValue === 6;
  return false;
}

function foldableConv(layer: tf.layers.Layer): boolean {
  const cls = layer.getClassName();
  if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') return false;
  const cfg = layer.getConfig() as Config;
  const dil = cfg.dilationRate;
  const dilated = Array.isArray(dil) ? dil.some((d) => d !== 1) : dil !== undefined && dil !== 1;
  return (
    (cfg.activation ?? 'linear') === 'linear' &&
    (cfg.dataFormat ?? 'channelsLast') === 'channelsLast' &&
    !dilated &&
    (cls === 'Conv2D' || (cfg.depthMultiplier ?? 1) === 1)
  );
}

function foldableBatchNorm(layer: tf.layers.Layer | undefined): layer is tf.layers.Layer {
  if (!layer || layer.getClassName() !== 'BatchNormalization') return false;
  const axis = (layer.getConfig() as Config).axis;
  return axis === -1 || axis === 3;
}

/** The model's conv -> batch norm (-> ReLU6) chains, found once per model. */
function chains(model: tf.LayersModel): Chain[] {
  let found = chainCache.get(model);
  if (found) return found;
  found = [];
  for (const conv of model.layers) {
    if (!foldableConv(conv)) continue;
    const bn = nextLayer(conv);
    if (!foldableBatchNorm(bn)) continue;
    const after = nextLayer(bn);
    const act = after && after.inboundNodes.length === 1 && isRelu6(after) ? after : undefined;
    found.push({ conv, bn, act, depthwise: conv.getClassName() === 'DepthwiseConv2D' });
  }
  chainCache.set(model, found);
  return found;
}

/** The variable behind each of a layer's weights (its data id changes when the variable is assigned). */
function dataIds(layers: tf.layers.Layer[]): object[] {
  return layers.flatMap((l) =>
    l.weights
      .map((w) => (w as unknown as { val: tf.Variable }).val)
      .map((v) => (v as unknown as { dataId: object }).dataId),
  );
}

function weight(layer: tf.layers.Layer, suffix: string): tf.Tensor | undefined {
  const w = layer.weights.find((x) => x.originalName.endsWith(`/${suffix}`) || x.name.endsWith(`/${suffix}`));
  return w ? (w as unknown as { val: tf.Variable }).val : undefined;
}

function folded(c: Chain): Folded {
  const ids = dataIds([c.conv, c.bn]);
  const have = foldedCache.get(c.conv);
  if (have && have.ids.length === ids.length && have.ids.every((id, i) => id === ids[i])) return have;
  if (have) tf.dispose([have.kernel, have.bias]);
  const cfg = c.bn.getConfig() as Config;
  const eps = (cfg.epsilon as number | undefined) ?? 1e-3;
  const made = tf.tidy(() => {
    const mean = weight(c.bn, 'moving_mean')!;
    const variance = weight(c.bn, 'moving_variance')!;
    const gamma = weight(c.bn, 'gamma');
    const beta = weight(c.bn, 'beta');
    let s = tf.rsqrt(tf.add(variance, eps));
    if (gamma) s = tf.mul(s, gamma);
    const k = weight(c.conv, c.depthwise ? 'depthwise_kernel' : 'kernel')! as tf.Tensor4D;
    // Conv2D: [kh, kw, in, out], scaled per out; depthwise (multiplier 1): [kh, kw, in, 1], scaled per in.
    const kernel = (c.depthwise ? tf.mul(k, tf.reshape(s, [1, 1, -1, 1])) : tf.mul(k, s)) as tf.Tensor4D;
    const convBias = weight(c.conv, c.depthwise ? 'depthwise_bias' : 'bias') ?? weight(c.conv, 'bias');
    let bias = tf.neg(tf.mul(mean, s));
    if (convBias) bias = tf.add(bias, tf.mul(convBias, s));
    if (beta) bias = tf.add(bias, beta);
    return { kernel, bias: bias as tf.Tensor1D };
  });
  // Kept: the cache outlives whatever tidy scope the first call ran in.
  tf.keep(made.kernel);
  tf.keep(made.bias);
  const out = { ids, ...made };
  foldedCache.set(c.conv, out);
  return out;
}

interface ConvAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations: [number, number];
}

function convAttrs(conv: tf.layers.Layer): ConvAttrs {
  const cfg = conv.getConfig() as Config;
  const s = cfg.strides as number | number[];
  const strides = (Array.isArray(s) ? [s[0], s[1] ?? s[0]] : [s, s]) as [number, number];
  return { strides, pad: cfg.padding as 'same' | 'valid', dilations: [1, 1] };
}

/** Largest float32 below 6: clipGrad's closed interval [tiny, this] is the open interval (0, 6) of float32 values. */
const BELOW_SIX = Math.fround(6 - 2 ** -21);
const TINY = 1.401298464324817e-45;

/** conv(x, kernel) + bias, clamped to [0, 6] when `relu6`, with a gradient for x only (the weights are constants). */
function foldedConv(x: tf.Tensor4D, c: Chain, f: Folded, relu6: boolean): tf.Tensor4D {
  const a = convAttrs(c.conv);
  const engine = tf.engine();
  const fused = c.depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
  const attrs = { ...a, dataFormat: 'NHWC', dimRoundingMode: undefined, activation: relu6 ? 'relu6' : 'linear' };
  const run = (input: tf.Tensor4D): tf.Tensor4D =>
    engine.runKernel(fused, { x: input, filter: f.kernel, bias: f.bias }, attrs as never) as tf.Tensor4D;
  if (engine.state.gradientDepth === 0) return run(x);
  const op = tf.customGrad(((input: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = run(input);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const g = relu6
          ? (engine.runKernel(CLIP_GRAD_KERNEL, { dy, x: saved[0] }, {
              clipValueMin: TINY,
              clipValueMax: BELOW_SIX,
            } as never) as tf.Tensor4D)
          : dy;
        const back = c.depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
        const battrs = { ...a, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: input.shape };
        return engine.runKernel(back, { dy: g, filter: f.kernel }, battrs as never) as tf.Tensor4D;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

/**
 * Patches the model's conv -> batch norm -> ReLU6 chains into their folded form for one synchronous call (restore
 * in reverse after it). Chains with a kept layer stay as they are, except that a kept ReLU6 alone only stays
 * unfused (the batch norm still folds). ReLU6 fuses into the gradient only on wasm (its masked dy is a wasm
 * kernel); elsewhere the folded convolution runs with its bias and the ReLU6 layer runs on its own.
 */
export function foldBatchNorms(model: tf.LayersModel, opts: FoldOptions = {}): Restore[] {
  if (!enabled) return [];
  const keep = new Set(opts.keep ?? []);
  const restores: Restore[] = [];
  const wasm = tf.getBackend() === 'wasm';
  for (const c of chains(model)) {
    if (keep.has(c.conv.name) || keep.has(c.bn.name)) continue;
    if (c.conv.weights.length === 0 || c.bn.weights.length === 0) continue;
    const fuseRelu =
      c.act !== undefined &&
      !keep.has(c.act.name) &&
      !opts.keepRelus &&
      (wasm || tf.engine().state.gradientDepth === 0);
    const f = folded(c);
    restores.push(patch(c.conv, 'call', (inputs) => foldedConv(one(inputs) as tf.Tensor4D, c, f, fuseRelu)));
    // The executor frees a layer's output once read: a clone, not the same tensor, for the layers that pass through.
    restores.push(patch(c.bn, 'call', (inputs) => tf.clone(one(inputs))));
    if (fuseRelu) restores.push(patch(c.act!, 'call', (inputs) => tf.clone(one(inputs))));
  }
  return restores;
}

/** `fn` with the model's chains folded (see foldBatchNorms), restored after it. */
export function withFolded<T>(model: tf.LayersModel, fn: () => T, opts: FoldOptions = {}): T {
  const restores = foldBatchNorms(model, opts);
  try {
    return fn();
  } finally {
    for (const r of restores.reverse()) r();
  }
}

/** Frees a model's folded weights (they are rebuilt on the next call). */
export function releaseFolded(model: tf.LayersModel): void {
  for (const c of chainCache.get(model) ?? []) {
    const f = foldedCache.get(c.conv);
    if (f) tf.dispose([f.kernel, f.bias]);
    foldedCache.delete(c.conv);
  }
}
