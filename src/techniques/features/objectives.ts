/**
 * What feature visualization maximises, as values that add and scale (Lucid's objectives):
 *
 *   objectives.channel('conv_pw_5_relu', 7).plus(objectives.diversity('conv_pw_5_relu').times(100))
 *
 * A term is one quantity (a class logit, a channel's mean, one neuron, a whole layer's energy as in
 * DeepDream, a direction in a layer's space, or the diversity of a batch); an objective is a weighted sum.
 * `evaluate` runs the network once and returns the objective of a batch as a scalar to maximise.
 */
import * as tf from '@tensorflow/tfjs';
import { getLayer } from '../../models/layers';
import { forward } from '../core/forward';
import { classCount, oneHotRows, resolveTarget, Target } from '../core/inputs';
import { fail } from '../../common';

interface Common {
  weight: number;
  /** Only this image of the batch (default: every image). */
  batch?: number;
}

export type ObjectiveTerm =
  | (Common & { kind: 'class'; target: Target })
  | (Common & { kind: 'channel'; layer: string; channel: number })
  | (Common & { kind: 'neuron'; layer: string; channel: number; y?: number; x?: number })
  | (Common & { kind: 'layer'; layer: string })
  | (Common & { kind: 'direction'; layer: string; vector: number[] })
  | (Common & { kind: 'diversity'; layer: string });

export class Objective {
  constructor(readonly terms: readonly ObjectiveTerm[]) {}

  /** This objective plus another. */
  plus(other: Objective): Objective {
    return new Objective([...this.terms, ...other.terms]);
  }

  minus(other: Objective): Objective {
    return this.plus(other.times(-1));
  }

  /** Every term's weight multiplied by w. */
  times(w: number): Objective {
    if (!Number.isFinite(w)) fail('Objective.times', `weight must be a finite number, got ${w}`);
    return new Objective(this.terms.map((t) => ({ ...t, weight: t.weight * w })));
  }

  toString(): string {
    return this.terms
      .map((t) => {
        const what =
          t.kind === 'class'
            ? `class(${JSON.stringify(t.target)})`
            : t.kind === 'channel' || t.kind === 'neuron'
              ? `${t.kind}(${t.layer}:${t.channel})`
              : `${t.kind}(${t.layer})`;
        return `${t.weight === 1 ? '' : `${t.weight} * `}${what}${t.batch === undefined ? '' : `[${t.batch}]`}`;
      })
      .join(' + ');
  }
}

type Where = { batch?: number };
const term = (t: ObjectiveTerm) => new Objective([t]);

/** Objective constructors; combine with .plus and .times. */
export const objectives = {
  /** A class's score before the softmax (index or name). */
  class: (target: Target, at: Where = {}) => term({ kind: 'class', target, weight: 1, ...at }),
  /** A channel's mean over all positions (its value before the layer's activation, so a silent unit still learns). */
  channel: (layer: string, channel: number, at: Where = {}) =>
    term({ kind: 'channel', layer, channel, weight: 1, ...at }),
  /** One unit at one position (default: the centre of the map). */
  neuron: (layer: string, channel: number, at: Where & { y?: number; x?: number } = {}) =>
    term({ kind: 'neuron', layer, channel, weight: 1, ...at }),
  /** The whole layer's mean squared activation: DeepDream. */
  layer: (layer: string, at: Where = {}) => term({ kind: 'layer', layer, weight: 1, ...at }),
  /** The mean over positions of the activation's dot product with a unit vector in channel space. */
  direction: (layer: string, vector: ArrayLike<number>, at: Where = {}) =>
    term({ kind: 'direction', layer, vector: Array.from(vector), weight: 1, ...at }),
  /** Minus the mean cosine similarity of the images' Gram matrices at a layer: add it to get different images. */
  diversity: (layer: string) => term({ kind: 'diversity', layer, weight: 1 }),
  /** The sum of several objectives. */
  sum: (...parts: Objective[]) => new Objective(parts.flatMap((p) => p.terms)),
};

/** 'layer:channel' (a channel), a class index or name, or an Objective. */
export type ObjectiveLike = Objective | Target;

export function toObjective(o: ObjectiveLike, caller: string): Objective {
  if (o instanceof Objective) return o;
  if (typeof o === 'string' && o.includes(':')) {
    const at = o.lastIndexOf(':');
    const channel = Number(o.slice(at + 1));
    if (!Number.isInteger(channel)) fail(caller, `'${o}' is not 'layer:channel' with a whole channel number`);
    return objectives.channel(o.slice(0, at), channel);
  }
  if (typeof o === 'number' || typeof o === 'string') return objectives.class(o);
  return fail(caller, `objective must be an Objective, 'layer:channel', or a class index or name; got ${typeof o}`);
}

/** A checked objective: classes resolved, layers found, shapes known. */
export interface Prepared {
  terms: (ObjectiveTerm & { classIndex?: number })[];
  layers: string[];
  needsLogits: boolean;
  /** Layers whose value is read before their activation. */
  linear: string[];
}

function outputShapeOf(model: tf.LayersModel, name: string, caller: string): number[] {
  const layer = getLayer(model, name, caller);
  const raw = (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (number | null)[];
  return raw.slice(1).map((d) => d ?? -1);
}

/** Checks every term against the model and the batch size; errors name the bad value and the valid ones. */
export function prepare(model: tf.LayersModel, o: Objective, batch: number, caller: string): Prepared {
  if (o.terms.length === 0) fail(caller, 'the objective has no terms');
  const layers = new Set<string>();
  const linear = new Set<string>();
  const squared = new Set<string>();
  const terms: Prepared['terms'] = [];
  for (const t of o.terms) {
    if (t.batch !== undefined && (!Number.isInteger(t.batch) || t.batch < 0 || t.batch >= batch))
      fail(caller, `objective term ${t.kind} is for image ${t.batch}, but the batch has ${batch} (0..${batch - 1})`);
    if (t.kind === 'class') {
      terms.push({ ...t, classIndex: resolveTarget(model, t.target, caller) });
      continue;
    }
    const shape = outputShapeOf(model, t.layer, caller);
    const channels = shape[shape.length - 1];
    const spatial = shape.length === 3;
    if (t.kind === 'channel' || t.kind === 'neuron') {
      if (!Number.isInteger(t.channel) || t.channel < 0 || t.channel >= channels)
        fail(
          caller,
          `channel ${t.channel} out of range; layer '${t.layer}' has ${channels} channels (0..${channels - 1})`,
        );
    }
    if (!spatial && (t.kind === 'diversity' || (t.kind === 'neuron' && (t.y !== undefined || t.x !== undefined))))
      fail(
        caller,
        `${t.kind} needs a layer with positions, but '${t.layer}' has output shape [${shape.join(', ')}]; ` +
          'choose a convolutional layer',
      );
    if (t.kind === 'direction' && t.vector.length !== channels)
      fail(caller, `direction for '${t.layer}' has ${t.vector.length} entries; the layer has ${channels} channels`);
    if (t.kind === 'diversity' && batch < 2) fail(caller, 'diversity compares the images of a batch; give batch >= 2');
    if (t.kind === 'layer') squared.add(t.layer);
    else if (t.kind !== 'diversity') linear.add(t.layer);
    layers.add(t.layer);
    terms.push(t);
  }
  // A layer read both ways (DeepDream and a channel) is read after its activation.
  for (const l of squared) linear.delete(l);
  return { terms, layers: [...layers], needsLogits: terms.some((t) => t.kind === 'class'), linear: [...linear] };
}

/** Rows of a term: all of the batch, or one image. */
function rowsOf(values: tf.Tensor1D, t: { batch?: number }): tf.Tensor {
  return t.batch === undefined ? tf.sum(values) : tf.slice(values, [t.batch], [1]).sum();
}

function diversityOf(a: tf.Tensor): tf.Scalar {
  const [n, , , c] = a.shape;
  const flat = tf.reshape(a, [n, -1, c]);
  const grams = tf.matMul(flat, flat, true, false); // [n, c, c]
  const unit = tf.div(grams, tf.add(tf.norm(tf.reshape(grams, [n, -1]), 2, -1).reshape([n, 1, 1]), 1e-10));
  const u = tf.reshape(unit, [n, -1]);
  const sim = tf.matMul(u, u, false, true); // [n, n]
  const offDiagonal = tf.sub(tf.sum(sim), tf.sum(tf.mul(sim, tf.eye(n))));
  return tf.neg(tf.div(offDiagonal, n * (n - 1))) as tf.Scalar;
}

/** The objective of a batch x [n, H, W, c] as one scalar to maximise; `perTerm` receives each term's value. */
export function evaluate(model: tf.LayersModel, p: Prepared, x: tf.Tensor4D, caller: string): tf.Scalar {
  const acts = new Map<string, tf.Tensor>();
  const taps: Record<string, (t: tf.Tensor) => tf.Tensor> = {};
  for (const l of p.layers)
    taps[l] = (t) => {
      acts.set(l, t);
      return t;
    };
  const deepest = p.needsLogits ? undefined : deepestOf(model, p.layers);
  const out = forward(model, x, { output: 'logits', upTo: deepest, taps, linear: p.linear, caller });
  let total: tf.Tensor = tf.scalar(0);
  for (const t of p.terms) {
    let v: tf.Tensor;
    if (t.kind === 'class') {
      const values = tf.sum(tf.mul(out, oneHotRows([t.classIndex!], classCount(model)).reshape([-1])), -1);
      v = rowsOf(values as tf.Tensor1D, t);
    } else {
      const a = acts.get(t.layer)!;
      if (t.kind === 'diversity') v = diversityOf(a);
      else if (t.kind === 'layer')
        v = rowsOf(
          tf.mean(
            tf.square(a),
            a.shape.slice(1).map((_, i) => i + 1),
          ) as tf.Tensor1D,
          t,
        );
      else {
        const depth = a.shape[a.shape.length - 1]!;
        let pick: tf.Tensor;
        if (t.kind === 'direction') {
          const norm = Math.hypot(...t.vector) || 1;
          pick = tf.tensor1d(t.vector.map((e) => e / norm));
        } else pick = oneHotRows([t.channel], depth).reshape([depth]);
        let values: tf.Tensor = tf.sum(tf.mul(a, pick), -1); // [n] or [n, h, w]
        if (values.rank === 3) {
          if (t.kind === 'neuron') {
            const [, h, w] = values.shape;
            const y = Math.min(h - 1, t.y ?? Math.floor(h / 2));
            const col = Math.min(w - 1, t.x ?? Math.floor(w / 2));
            values = tf.slice(values, [0, y, col], [-1, 1, 1]).reshape([-1]);
          } else values = tf.mean(values, [1, 2]);
        }
        v = rowsOf(values as tf.Tensor1D, t);
      }
    }
    total = tf.add(total, tf.mul(v, t.weight));
  }
  return total as tf.Scalar;
}

/** The layer among `names` that comes last in the model (its output also holds the others). */
function deepestOf(model: tf.LayersModel, names: string[]): string {
  let best = -1;
  for (const n of names)
    best = Math.max(
      best,
      model.layers.findIndex((l) => l.name === n),
    );
  return model.layers[best].name;
}
