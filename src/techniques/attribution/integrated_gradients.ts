/**
 * Integrated Gradients (Sundararajan, Taly & Yan 2017): the gradient averaged along the straight
 * path from a baseline to the image, times (image - baseline). The attributions add up to
 * f(image) - f(baseline) (completeness), which the detailed result reports as a check.
 */
import * as tf from '@tensorflow/tfjs';
import { LongWorkOptions } from '../../runtime/cancel';
import { readImage, unbatch, batchForModel } from '../core/inputs';
import { begin, onBatch } from '../core/harness';
import { PerturbationLoop } from '../core/perturbation';
import { Explained, explainedValues, resolveExplained, sliceExplained, TargetOptions } from '../core/objective';
import { Reduce, REDUCE_CHOICES, reduceChannels } from './reduce';
import { baselineBatch, BaselineChoice } from './baseline';
import { checkNumber, checkChoice, checkInt } from '../../common';

export type IntegrationMethod = 'gaussLegendre' | 'riemannTrapezoid' | 'riemannMiddle' | 'riemannLeft' | 'riemannRight';
export const INTEGRATION_METHODS: readonly IntegrationMethod[] = [
  'gaussLegendre',
  'riemannTrapezoid',
  'riemannMiddle',
  'riemannLeft',
  'riemannRight',
];

export interface IntegratedGradientsOptions extends TargetOptions, LongWorkOptions {
  /**
   * Where the path starts: 'black' (zeros, default), 'mean' (the image's mean colour), 'blur', a number, or a tensor
   * like the image.
   */
  baseline?: BaselineChoice;
  /** Points on the path (default 64). */
  steps?: number;
  /**
   * Quadrature rule (default 'gaussLegendre', as in Captum; it never evaluates the gradient exactly at the baseline).
   * 'riemannTrapezoid' puts `steps` points from the baseline to the image, weights 1/(steps-1) (half at both ends),
   * summing to 1 as the integral's weights must. Captum 0.7's 'riemann_trapezoid' uses the same points but weights
   * 1/steps (half at the ends), which sum to (steps-1)/steps: its maps are ours times (steps-1)/steps (63/64 at 64
   * steps) and its completeness sum falls short by as much. Compare the two with that factor, or correlations.
   */
  method?: IntegrationMethod;
  /** Channel reduction (default 'none': [H, W, C], whose sum is the completeness sum). */
  reduce?: Reduce;
  /**
   * Completeness target: while |sum - (f(x) - f(baseline))| exceeds this fraction of
   * |f(x) - f(baseline)|, the number of steps doubles, up to maxSteps (default 0.01; Infinity: never).
   */
  tolerance?: number;
  /** Most path points per image when refining (default 1024). */
  maxSteps?: number;
  /** Path points per forward/backward pass (default 64). */
  batchSize?: number;
}

export interface IntegratedGradientsResult {
  attributions: tf.Tensor;
  /** Per image: f(image), f(baseline), and sum(attributions) - (f(image) - f(baseline)). */
  scoreInput: Float32Array;
  scoreBaseline: Float32Array;
  delta: Float32Array;
  /** |delta| / |f(image) - f(baseline)| per image; completeness holds when this is small (under 0.01). */
  relativeError: Float32Array;
  /** Path points used per image (more than asked where completeness needed them). */
  steps: Int32Array;
}

/** Weighted average of the gradient over the path points, for one image. */
async function pathAverage(
  loop: PerturbationLoop,
  model: tf.LayersModel,
  explained: Explained,
  xi: Float32Array,
  bi: Float32Array,
  [h, w, c]: [number, number, number],
  { alphas, weights }: { alphas: Float64Array; weights: Float64Array },
  batchSize: number,
  caller: string,
): Promise<Float64Array> {
  const size = h * w * c;
  const avgGrad = new Float64Array(size);
  const make = (start: number, b: number): tf.Tensor4D => {
    const path = new Float32Array(b * size);
    for (let k = 0; k < b; k++) {
      const a = alphas[start + k];
      for (let p = 0; p < size; p++) path[k * size + p] = bi[p] + a * (xi[p] - bi[p]);
    }
    return tf.tensor4d(path, [b, h, w, c]);
  };
  const scoring = { model, explained, kind: 'gradient' as const, relu: 'normal' as const, caller };
  await loop.runScored(alphas.length, batchSize, make, scoring, (g, start, b) => {
    for (let k = 0; k < b; k++) {
      const wk = weights[start + k];
      for (let p = 0; p < size; p++) avgGrad[p] += wk * g[k * size + p];
    }
  });
  return avgGrad;
}

/** Positions along the path and their weights for the chosen rule; weights sum to 1. */
export function quadrature(method: IntegrationMethod, steps: number): { alphas: Float64Array; weights: Float64Array } {
  const nodes = quadratureNodes(method, steps);
  for (let r = nodes.next(); ; r = nodes.next()) if (r.done) return r.value;
}

/**
 * quadrature() for a long-work caller: Gauss-Legendre's nodes cost O(steps^2) (a second at 2,048 on a
 * busy core), so the abort signal is seen and the event loop turns between nodes.
 */
async function quadratureChecked(
  method: IntegrationMethod,
  steps: number,
  tick: () => Promise<void>,
): Promise<{ alphas: Float64Array; weights: Float64Array }> {
  const nodes = quadratureNodes(method, steps);
  for (let r = nodes.next(); ; r = nodes.next()) {
    if (r.done) return r.value;
    await tick();
  }
}

/** Yields after each Gauss-Legendre node; returns the rule. */
function* quadratureNodes(
  method: IntegrationMethod,
  steps: number,
): Generator<void, { alphas: Float64Array; weights: Float64Array }> {
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps);
  if (method === 'gaussLegendre') {
    for (let i = 0; i < steps; i++) {
      yield;
      // Newton's method on the Legendre polynomial P_steps from the usual starting guess.
      let z = Math.cos((Math.PI * (i + 0.75)) / (steps + 0.5));
      let dp = 1;
      for (let it = 0; it < 100; it++) {
        let p1 = 1;
        let p2 = 0;
        for (let j = 1; j <= steps; j++) {
          const p3 = p2;
          p2 = p1;
          p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
        }
        dp = (steps * (z * p1 - p2)) / (z * z - 1);
        const dz = p1 / dp;
        z -= dz;
        if (Math.abs(dz) < 1e-15) break;
      }
      alphas[i] = (1 - z) / 2;
      weights[i] = 1 / ((1 - z * z) * dp * dp);
    }
    return { alphas, weights };
  }
  if (method === 'riemannTrapezoid') {
    if (steps < 2) return { alphas: Float64Array.of(0.5), weights: Float64Array.of(1) };
    for (let i = 0; i < steps; i++) {
      alphas[i] = i / (steps - 1);
      weights[i] = (i === 0 || i === steps - 1 ? 0.5 : 1) / (steps - 1);
    }
    return { alphas, weights };
  }
  const shift = method === 'riemannMiddle' ? 0.5 : method === 'riemannLeft' ? 0 : 1;
  for (let i = 0; i < steps; i++) {
    alphas[i] = (i + shift) / steps;
    weights[i] = 1 / steps;
  }
  return { alphas, weights };
}

/** Points of the path at most: Gauss-Legendre nodes, and the Riemann sums' points. */
export const MAX_GAUSS_STEPS = 2048;
export const MAX_STEPS = 100000;

async function run(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: IntegratedGradientsOptions,
): Promise<IntegratedGradientsResult> {
  const caller = 'integratedGradients';
  const method = checkChoice(caller, 'method', opts.method, INTEGRATION_METHODS, 'gaussLegendre');
  // Gauss-Legendre's nodes cost steps^2 before any work (synchronous): 2,048 take ~20 ms; the Riemann sums are linear
  const most = method === 'gaussLegendre' ? MAX_GAUSS_STEPS : MAX_STEPS;
  const steps = checkInt(caller, `steps (method '${method}')`, opts.steps, { dflt: 64, max: most });
  const reduce = checkChoice(caller, 'reduce', opts.reduce, REDUCE_CHOICES, 'none');
  const batchSize = checkInt(caller, 'batchSize', opts.batchSize, {
    dflt: Math.max(1, Math.floor(batchForModel(model, image, 128, caller) / 2)),
  });
  const tolerance =
    opts.tolerance === Infinity ? Infinity : checkNumber(caller, 'tolerance', opts.tolerance, { dflt: 0.01, min: 0 });
  const maxSteps = checkInt(caller, `maxSteps (method '${method}')`, opts.maxSteps, {
    dflt: Math.min(most, Math.max(1024, steps)),
    max: most,
  });
  const loop = new PerturbationLoop(caller, opts, 0);
  return onBatch(model, image, caller, async (batch) => {
    let base: tf.Tensor4D | undefined;
    try {
      base = baselineBatch(opts.baseline ?? 'black', batch.x, caller);
      const explained = resolveExplained(model, opts, batch.x, caller);
      const [n, h, w, c] = batch.x.shape;
      const size = h * w * c;
      const scoreInput = explainedValues(model, batch.x, explained, 'normal', caller);
      const scoreBaseline = explainedValues(model, base, explained, 'normal', caller);
      const fx = new Float32Array(scoreInput.dataSync());
      const fb = new Float32Array(scoreBaseline.dataSync());
      tf.dispose([scoreInput, scoreBaseline]);
      const attributions = new Float32Array(n * size);
      const delta = new Float32Array(n);
      const relativeError = new Float32Array(n);
      const stepsUsed = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const xi = await readImage(batch.x, i);
        const bi = await readImage(base, i);
        const change = fx[i] - fb[i];
        const one = sliceExplained(explained, i, 1);
        for (let s = steps; ; s *= 2) {
          // Each image takes `steps` points, more where completeness asks for them.
          loop.expect(s + (n - i - 1) * steps);
          const avgGrad = await pathAverage(
            loop,
            model,
            one,
            xi,
            bi,
            [h, w, c],
            await quadratureChecked(method, s, () => loop.work.tick()),
            batchSize,
            caller,
          );
          let total = 0;
          for (let p = 0; p < size; p++) total += attributions[i * size + p] = (xi[p] - bi[p]) * avgGrad[p];
          delta[i] = total - change;
          relativeError[i] = Math.abs(delta[i]) / Math.max(Math.abs(change), 1e-12);
          stepsUsed[i] = s;
          // Piecewise-linear (ReLU) paths can need more points than the default; refine until complete.
          if (relativeError[i] <= tolerance || s * 2 > maxSteps) break;
        }
      }
      const out = tf.tidy(() => reduceChannels(tf.tensor4d(attributions, [n, h, w, c]), reduce));
      return {
        attributions: unbatch(out, batch.batched),
        scoreInput: fx,
        scoreBaseline: fb,
        delta,
        relativeError,
        steps: stepsUsed,
      };
    } finally {
      base?.dispose();
    }
  });
}

/**
 * Integrated Gradients of a class (default: the predicted class) or unit: [H, W, C] for one image
 * (batch: [N, H, W, C]). With `details: true`, returns the scores and the completeness error too
 * (computed before any channel reduction).
 */
export async function integratedGradients(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: IntegratedGradientsOptions & { details: true },
): Promise<IntegratedGradientsResult>;
export async function integratedGradients(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts?: IntegratedGradientsOptions & { details?: false },
): Promise<tf.Tensor>;
export async function integratedGradients(
  model: tf.LayersModel,
  image: tf.Tensor,
  opts: IntegratedGradientsOptions & { details?: boolean } = {},
): Promise<tf.Tensor | IntegratedGradientsResult> {
  await begin('integratedGradients');
  const result = await run(model, image, opts);
  return opts.details ? result : result.attributions;
}
