/**
 * What a gradient technique explains: a class score (per image) or one unit inside the network.
 * Every gradient technique builds one of these, then asks for its value or its input gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { ClassTargetOptions, NeuronTarget, oneHotRows, resolveTargets, SCORE_OUTPUTS, ScoreOutput } from './inputs';
import { forward, predictedClasses, ReluMode } from './forward';
import { unitValues } from './unit';
import { fail, InternalError, checkChoice } from '../../common';

export type Explained =
  | { kind: 'class'; targets: Int32Array; output: ScoreOutput }
  | {
      kind: 'neuron';
      neuron: Required<Pick<NeuronTarget, 'layer' | 'channel'>> & Pick<NeuronTarget, 'y' | 'x'>;
      outputShape: number[];
      /** Use the unit's value before its layer's activation. */
      preActivation?: boolean;
    };

export interface TargetOptions extends ClassTargetOptions {
  /** Explain the score before the final softmax ('logits', default) or the probability ('probs'). */
  output?: ScoreOutput;
  /** Instead of a class: a layer (with `channel`, and optionally `y`, `x`). */
  layer?: string;
  channel?: number;
  y?: number;
  x?: number;
}

/** Checks a layer/channel/position target against the layer's output shape. */
export function checkNeuron(model: tf.LayersModel, n: NeuronTarget, caller: string): Explained & { kind: 'neuron' } {
  const layer = getLayer(model, n.layer, caller);
  const shapeRaw = (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (
    number | null
  )[];
  const shape = shapeRaw.slice(1).map((d) => d ?? -1);
  const channels = shape[shape.length - 1];
  if (n.channel === undefined)
    fail(caller, `layer '${n.layer}' given without a channel; channels run 0..${channels - 1}`);
  if (!Number.isInteger(n.channel) || n.channel < 0 || n.channel >= channels) {
    fail(caller, `channel ${n.channel} out of range; layer '${n.layer}' has ${channels} channels (0..${channels - 1})`);
  }
  const spatial = shape.length === 3;
  if ((n.y !== undefined || n.x !== undefined) && !spatial) {
    fail(caller, `layer '${n.layer}' has output shape [${shape.join(', ')}] with no positions; leave out y and x`);
  }
  if (spatial && (n.y !== undefined || n.x !== undefined)) {
    const [h, w] = shape;
    if (n.y === undefined || n.x === undefined)
      fail(caller, 'give both y and x, or neither (then the channel is averaged over positions)');
    if (!Number.isInteger(n.y) || n.y < 0 || (h > 0 && n.y >= h))
      fail(caller, `y ${n.y} out of range; layer '${n.layer}' is ${h} rows high (0..${h - 1})`);
    if (!Number.isInteger(n.x) || n.x < 0 || (w > 0 && n.x >= w))
      fail(caller, `x ${n.x} out of range; layer '${n.layer}' is ${w} columns wide (0..${w - 1})`);
  }
  return { kind: 'neuron', neuron: { layer: n.layer, channel: n.channel, y: n.y, x: n.x }, outputShape: shape };
}

/** Class targets (default: predicted) or a neuron, from a technique's options. */
export function resolveExplained(
  model: tf.LayersModel,
  opts: TargetOptions,
  x: tf.Tensor4D,
  caller: string,
): Explained {
  if (opts.layer !== undefined) {
    if (opts.target !== undefined) fail(caller, 'give either target (a class) or layer + channel, not both');
    return checkNeuron(model, { layer: opts.layer, channel: opts.channel as number, y: opts.y, x: opts.x }, caller);
  }
  if (opts.channel !== undefined)
    fail(caller, 'channel given without layer; give layer + channel, or target for a class');
  const output = checkChoice(caller, 'output', opts.output, SCORE_OUTPUTS, 'logits');
  const targets = resolveTargets(model, opts.target, x.shape[0], caller, () => predictedClasses(model, x));
  return { kind: 'class', targets, output };
}

/** Per-image values of the explained quantity, shape [N]. */
export function explainedValues(
  model: tf.LayersModel,
  x: tf.Tensor,
  e: Explained,
  relu: ReluMode = 'normal',
  caller = 'cnnviz',
): tf.Tensor1D {
  return tf.tidy(() => {
    if (e.kind === 'class') {
      const scores = forward(model, x, { output: e.output, relu, caller });
      const classes = scores.shape[scores.shape.length - 1]!;
      const targets = e.targets.length === x.shape[0] ? e.targets : repeatTargets(e.targets, x.shape[0]);
      return tf.sum(tf.mul(scores, oneHotRows(targets, classes)), -1) as tf.Tensor1D;
    }
    const out = forward(model, x, {
      upTo: e.neuron.layer,
      relu,
      caller,
      linear: e.preActivation ? [e.neuron.layer] : undefined,
    });
    return unitValues(out, e.neuron.channel, e.neuron.y, e.neuron.x);
  });
}

/** Targets for a batch made of `n / targets.length` copies of each image in turn. */
function repeatTargets(targets: Int32Array, n: number): Int32Array {
  const per = n / targets.length;
  if (!Number.isInteger(per)) throw new InternalError(`${n} rows for ${targets.length} targets`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = targets[Math.floor(i / per)];
  return out;
}

/** The same explained quantity with each class target repeated for `copies` consecutive rows per image. */
export function repeatExplained(e: Explained, copies: number): Explained {
  if (e.kind !== 'class' || copies === 1) return e;
  return { ...e, targets: repeatTargets(e.targets, e.targets.length * copies) };
}

/** Explained quantity restricted to images [start, start + count). */
export function sliceExplained(e: Explained, start: number, count: number): Explained {
  if (e.kind !== 'class') return e;
  return { ...e, targets: e.targets.slice(start, start + count) };
}

/** Gradient of the explained quantity (summed over the batch) with respect to the input, [N, H, W, C]. */
export function inputGradient(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  e: Explained,
  relu: ReluMode = 'normal',
  caller = 'cnnviz',
): tf.Tensor4D {
  return tf.tidy(
    () => tf.grad((input: tf.Tensor) => tf.sum(explainedValues(model, input, e, relu, caller)))(x) as tf.Tensor4D,
  );
}
