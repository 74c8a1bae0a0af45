/**
 * UMAP (McInnes, Healy & Melville 2018) on typed arrays, following umap-learn's defaults: exact
 * nearest neighbours from our kNN, the fuzzy simplicial set, a spectral initialisation, and
 * stochastic gradient descent with negative sampling. Seeded: same seed, same map.
 */
import { gaussian, mulberry32 } from '../../common/random';
import { Cancellable, Work, Steps } from '../../runtime/cancel';
import { fitAB, FuzzyGraph, fuzzySimplicialSet } from './numerics/fuzzy_graph';
import { MatrixInput, toDense } from './numerics/matrix';
import { PowTable } from './numerics/pow_table';
import { spectralSteps } from './numerics/spectral';
import { NEIGHBOR_METRICS, NeighborMetric, neighborSteps } from './neighbors';
import { pca } from './pca';
import { checkChoice, checkInt, checkNumber, fail } from '../../common';

export interface UmapStep {
  epoch: number;
  epochs: number;
  /** Current positions (a copy, N*2). */
  points: Float32Array;
}

export interface UmapOptions extends Cancellable {
  /** Neighbourhood size, the point itself included (as umap-learn counts). Default 15. */
  nNeighbors?: number;
  /** Minimum distance between embedded points. Default 0.1. */
  minDist?: number;
  /** Scale of the embedded clusters. Default 1. */
  spread?: number;
  /** Epochs of gradient descent. Default (umap-learn's): 500 up to 10,000 points, else 200. */
  epochs?: number;
  /** Initial step size. Default 1. */
  learningRate?: number;
  /** Negative samples per positive sample. Default 5. */
  negativeSampleRate?: number;
  /** Weight of the repulsion. Default 1. */
  repulsionStrength?: number;
  /** 'euclidean' (default) or 'cosine' for the neighbour graph. */
  metric?: NeighborMetric;
  /** 'spectral' (default), 'pca', 'random', or N*2 starting positions. */
  init?: 'spectral' | 'pca' | 'random' | Float32Array;
  /** Seed of the initial noise and the negative sampling. Default 0. */
  seed?: number;
  /** Called every `reportEvery` epochs and at the end; return false to stop. */
  onStep?: (step: UmapStep) => void | boolean | Promise<void | boolean>;
  /** Default 10. */
  reportEvery?: number;
}

export interface UmapResult {
  /** Embedded points, point i at points[2i], points[2i+1]. */
  points: Float32Array;
  n: number;
  dims: 2;
  epochs: number;
  /** The a, b of 1 / (1 + a d^(2b)) fitted for minDist and spread. */
  a: number;
  b: number;
  /** Which initialisation ran ('spectral' falls back to 'pca' on a graph with isolated points). */
  init: string;
  timings: { neighbors: number; graph: number; optimize: number };
}

function* initialLayout(
  X: MatrixInput,
  g: FuzzyGraph,
  init: UmapOptions['init'],
  seed: number,
): Steps<{ y: Float64Array; used: string }> {
  const n = g.n;
  const rand = mulberry32(seed ^ 0x5bd1e995);
  let y: Float64Array | undefined;
  let used = typeof init === 'string' ? init : 'given';
  if (init instanceof Float32Array) {
    if (init.length !== 2 * n) fail('umap', `init has ${init.length} values, expected N*2 = ${2 * n}`);
    return { y: Float64Array.from(init), used };
  }
  if (init === 'spectral') {
    y = yield* spectralSteps(g, 2, seed);
    if (!y) used = 'pca';
  }
  if (!y && used === 'pca') y = Float64Array.from(pca(X, { dims: 2, seed }).points);
  if (!y) {
    y = new Float64Array(2 * n);
    for (let i = 0; i < 2 * n; i++) y[i] = rand() * 20 - 10;
    return { y, used };
  }
  // As umap-learn: scale to 10, add a little noise, then rescale each axis to [0, 10].
  let big = 0;
  for (let i = 0; i < 2 * n; i++) big = Math.max(big, Math.abs(y[i]));
  const scale = big > 0 ? 10 / big : 1;
  for (let i = 0; i < 2 * n; i++) y[i] = y[i] * scale + 1e-4 * gaussian(rand);
  for (let d = 0; d < 2; d++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, y[2 * i + d]);
      hi = Math.max(hi, y[2 * i + d]);
    }
    const s = hi > lo ? 10 / (hi - lo) : 1;
    for (let i = 0; i < n; i++) y[2 * i + d] = (y[2 * i + d] - lo) * s;
  }
  return { y, used };
}

interface SgdState {
  next: Float64Array;
  nextNeg: Float64Array;
  per: Float64Array;
  perNeg: Float64Array;
  /** mulberry32 state of the negative sampling. */
  rng: number;
}

/**
 * One epoch of umap-learn's SGD (move both ends of a positive edge, only the head for negatives).
 * Written flat for V8: locals only, the PRNG inlined, x^b from a table (Math.pow with a fractional
 * exponent would take most of the time).
 */
function epochStep(
  y: Float64Array,
  g: FuzzyGraph,
  epoch: number,
  s: SgdState,
  a: number,
  pow: PowTable,
  gamma: number,
  alpha: number,
): void {
  const b = pow.b;
  const head = g.head;
  const tail = g.tail;
  const next = s.next;
  const nextNeg = s.nextNeg;
  const per = s.per;
  const perNeg = s.perNeg;
  const n = g.n;
  const m = head.length;
  const twoAB = 2 * a * b;
  const twoGB = 2 * gamma * b;
  let rng = s.rng;
  for (let e = 0; e < m; e++) {
    if (next[e] > epoch) continue;
    const j2 = 2 * head[e];
    const k2 = 2 * tail[e];
    const yj0 = y[j2];
    const yj1 = y[j2 + 1];
    let dx = yj0 - y[k2];
    let dy = yj1 - y[k2 + 1];
    let d2 = dx * dx + dy * dy;
    let cx = yj0;
    let cy = yj1;
    if (d2 > 0) {
      const pw = pow.pow(d2);
      const coef = (-twoAB * (pw / d2)) / (a * pw + 1);
      let gx = coef * dx;
      let gy = coef * dy;
      gx = (gx > 4 ? 4 : gx < -4 ? -4 : gx) * alpha;
      gy = (gy > 4 ? 4 : gy < -4 ? -4 : gy) * alpha;
      cx += gx;
      cy += gy;
      y[k2] -= gx;
      y[k2 + 1] -= gy;
    }
    next[e] += per[e];
    const negs = Math.floor((epoch - nextNeg[e]) / perNeg[e]);
    for (let p = 0; p < negs; p++) {
      // mulberry32, inlined.
      rng = (rng + 0x6d2b79f5) | 0;
      let t = Math.imul(rng ^ (rng >>> 15), rng | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const r2 = 2 * Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
      if (r2 === j2) continue;
      dx = cx - y[r2];
      dy = cy - y[r2 + 1];
      d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const coef = twoGB / ((0.001 + d2) * (a * pow.pow(d2) + 1));
        const gx = coef * dx;
        const gy = coef * dy;
        cx += (gx > 4 ? 4 : gx < -4 ? -4 : gx) * alpha;
        cy += (gy > 4 ? 4 : gy < -4 ? -4 : gy) * alpha;
      } else {
        // Coincident with another point: push apart at the clip value, as umap-learn does.
        cx += 4 * alpha;
        cy += 4 * alpha;
      }
    }
    y[j2] = cx;
    y[j2 + 1] = cy;
    if (negs > 0) nextNeg[e] += negs * perNeg[e];
  }
  s.rng = rng;
}

/** Embed the rows of X in 2-D with UMAP. */
export async function umap(X: MatrixInput, opts: UmapOptions = {}): Promise<UmapResult> {
  const who = 'umap';
  const A = toDense(X, who);
  const n = A.rows;
  const k = checkInt(who, 'nNeighbors', opts.nNeighbors ?? 15, { min: 2, max: n });
  const minDist = checkNumber(who, 'minDist', opts.minDist ?? 0.1, { min: 0 });
  const spread = checkNumber(who, 'spread', opts.spread ?? 1, { above: 0 });
  if (minDist > spread) fail(who, `minDist (${minDist}) must not exceed spread (${spread})`);
  const epochs = checkInt(who, 'epochs', opts.epochs ?? (n <= 10000 ? 500 : 200));
  const lr = checkNumber(who, 'learningRate', opts.learningRate ?? 1, { above: 0 });
  const negRate = checkNumber(who, 'negativeSampleRate', opts.negativeSampleRate ?? 5, { min: 0 });
  const gamma = checkNumber(who, 'repulsionStrength', opts.repulsionStrength ?? 1, { min: 0 });
  const metric = checkChoice(who, 'metric', opts.metric ?? 'euclidean', NEIGHBOR_METRICS);
  const seed = opts.seed ?? 0;
  const reportEvery = checkInt(who, 'reportEvery', opts.reportEvery ?? 10);
  const init = opts.init ?? 'spectral';
  if (!(init instanceof Float32Array) && !['spectral', 'pca', 'random'].includes(init)) {
    fail(
      who,
      `unknown init '${String(init)}'; valid choices: spectral, pca, random, or a Float32Array of N*2 positions`,
    );
  }

  const work = new Work(who, opts);
  let t0 = performance.now();
  const nn = await work.steps(neighborSteps(A, A, { k: k - 1, metric, excludeSelf: true }, who));
  await work.tick();
  // umap-learn's neighbour lists start with the point itself at distance 0.
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    indices[i * k] = i;
    indices.set(nn.indices.subarray(i * (k - 1), (i + 1) * (k - 1)), i * k + 1);
    distances.set(nn.distances.subarray(i * (k - 1), (i + 1) * (k - 1)), i * k + 1);
  }
  const tNeighbors = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const full = fuzzySimplicialSet(indices, distances, n, k);
  await work.tick();
  // Edges too weak to be sampled even once in the run are dropped (umap-learn does the same).
  let wMax = 0;
  for (let e = 0; e < full.weight.length; e++) wMax = Math.max(wMax, full.weight[e]);
  const keep: number[] = [];
  for (let e = 0; e < full.weight.length; e++) if (full.weight[e] >= wMax / epochs) keep.push(e);
  const g: FuzzyGraph = {
    n,
    head: Int32Array.from(keep, (e) => full.head[e]),
    tail: Int32Array.from(keep, (e) => full.tail[e]),
    weight: Float64Array.from(keep, (e) => full.weight[e]),
  };
  const { y, used } = await work.steps(initialLayout(A, g, init, seed));
  await work.tick();
  const { a, b } = fitAB(spread, minDist);
  const m = g.head.length;
  const per = new Float64Array(m);
  for (let e = 0; e < m; e++) per[e] = wMax / g.weight[e];
  const perNeg = per.map((v) => v / Math.max(negRate, 1e-12));
  const state: SgdState = { next: per.slice(), nextNeg: perNeg.slice(), per, perNeg, rng: seed >>> 0 };
  if (negRate === 0) state.nextNeg.fill(Infinity);
  const tGraph = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const pow = new PowTable(b);
  let done = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    await work.tick();
    epochStep(y, g, epoch, state, a, pow, gamma, lr * (1 - epoch / epochs));
    done = epoch + 1;
    if (opts.onStep && (done % reportEvery === 0 || done === epochs)) {
      const verdict = await work.call('onStep', opts.onStep, { epoch: done, epochs, points: Float32Array.from(y) });
      await new Promise<void>((resolve) => setImmediate(resolve));
      work.check();
      if (verdict === false) break;
    }
  }
  return {
    points: Float32Array.from(y),
    n,
    dims: 2,
    epochs: done,
    a,
    b,
    init: used,
    timings: { neighbors: tNeighbors, graph: tGraph, optimize: (performance.now() - t0) / 1000 },
  };
}
