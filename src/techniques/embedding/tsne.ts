/**
 * t-SNE (van der Maaten 2014) written for typed arrays: exact sparse affinities over 3 x perplexity
 * nearest neighbours, PCA initialisation, early exaggeration, momentum with gains, and Barnes-Hut
 * repulsion on a quadtree rebuilt every iteration (O(N log N) per step instead of O(N^2)).
 */
import { gaussian, mulberry32 } from '../../common/random';
import { Cancellable, Work } from '../../runtime/cancel';
import { SparseAffinities, symmetrize, conditionalAffinitySteps } from './numerics/affinities';
import { MatrixInput, toDense } from './numerics/matrix';
import { QuadTree } from './numerics/quadtree';
import { neighborSteps } from './neighbors';
import { pca } from './pca';
import { checkInt, checkNumber, fail } from '../../common';

export interface TsneStep {
  /** Iterations done so far (1-based). */
  iteration: number;
  iterations: number;
  phase: 'exaggeration' | 'main';
  /** Current positions (a copy, N*2). */
  points: Float32Array;
  /** KL divergence of the current map (without exaggeration); reported every 50 iterations and at the end. */
  kl?: number;
}

export interface TsneOptions extends Cancellable {
  /** Effective number of neighbours. Default 30. */
  perplexity?: number;
  /** Total gradient steps, early exaggeration included. Default 1000. */
  iterations?: number;
  /** Factor on P during the first phase. Default 12. */
  earlyExaggeration?: number;
  /** Steps with exaggeration. Default 250. */
  exaggerationIterations?: number;
  /**
   * Step size, or 'auto' (default) = max(N / earlyExaggeration, 50). Our gradient omits the
   * constant factor 4 (as FIt-SNE and openTSNE do), so this N/12 takes the same steps as
   * scikit-learn's learning_rate='auto'.
   */
  learningRate?: number | 'auto';
  /** Momentum during exaggeration (default 0.5) and after it (default 0.8). */
  momentum?: number;
  finalMomentum?: number;
  /** Barnes-Hut accuracy: a cell of side s at distance d is summarised when s/d < theta. Default 0.5. */
  theta?: number;
  /** 'pca' (default: first two principal components scaled to std 1e-4), 'random', or N*2 starting positions. */
  init?: 'pca' | 'random' | Float32Array;
  /** Seed for the random initialisation and the randomized PCA. Default 0. */
  seed?: number;
  /** Neighbours for the affinities. Default min(N - 1, floor(3 * perplexity + 1)). */
  neighbors?: number;
  /** Called every `reportEvery` iterations and at the end; return false to stop early. */
  onStep?: (step: TsneStep) => void | boolean | Promise<void | boolean>;
  /** Default 10. */
  reportEvery?: number;
}

export interface TsneResult {
  /** Embedded points, point i at points[2i], points[2i+1]. */
  points: Float32Array;
  n: number;
  dims: 2;
  /** Final KL divergence. */
  kl: number;
  /** Iterations run (fewer than asked when onStep stopped it). */
  iterations: number;
  /** Seconds spent in each stage. */
  timings: { neighbors: number; affinities: number; optimize: number };
}

function initialPositions(X: MatrixInput, n: number, init: TsneOptions['init'], seed: number): Float64Array {
  const y = new Float64Array(2 * n);
  if (init instanceof Float32Array) {
    if (init.length !== 2 * n) fail('tsne', `init has ${init.length} values, expected N*2 = ${2 * n}`);
    y.set(init);
    return y;
  }
  if (init === 'random') {
    const rand = mulberry32(seed);
    for (let i = 0; i < 2 * n; i++) y[i] = 1e-4 * gaussian(rand);
    return y;
  }
  const p = pca(X, { dims: 2, seed });
  let mean = 0;
  for (let i = 0; i < n; i++) mean += p.points[2 * i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (p.points[2 * i] - mean) ** 2;
  const std = Math.sqrt(v / n) || 1;
  for (let i = 0; i < 2 * n; i++) y[i] = (p.points[i] / std) * 1e-4;
  return y;
}

/**
 * The symmetric P once per pair: row i lists its partners j > i (as 2j, ready to index
 * interleaved coordinates) with p_ij = p_ji.
 */
interface PairList {
  rowStart: Int32Array;
  col2: Int32Array;
  p: Float64Array;
}

function upperPairs(P: SparseAffinities): PairList {
  const { rowPtr, cols, vals, n } = P;
  const rowStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) if (cols[e] > i) c++;
    rowStart[i + 1] = rowStart[i] + c;
  }
  const col2 = new Int32Array(rowStart[n]);
  const p = new Float64Array(rowStart[n]);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (cols[e] > i) {
        col2[m] = 2 * cols[e];
        p[m++] = vals[e];
      }
    }
  }
  return { rowStart, col2, p };
}

/**
 * Adds exaggeration * sum_j p_ij q_ij (y_i - y_j) into grad (q_ij = 1 / (1 + |y_i - y_j|^2)),
 * each pair once: row i's sum stays in registers, the opposite force goes to j.
 */
function attract(pairs: PairList, y: Float64Array, exaggeration: number, grad: Float64Array): void {
  const { rowStart, col2, p } = pairs;
  const n = rowStart.length - 1;
  for (let i = 0; i < n; i++) {
    const i2 = 2 * i;
    const xi = y[i2];
    const yi = y[i2 + 1];
    let fx = 0;
    let fy = 0;
    const end = rowStart[i + 1];
    for (let e = rowStart[i]; e < end; e++) {
      const j2 = col2[e];
      const dx = xi - y[j2];
      const dy = yi - y[j2 + 1];
      const f = (exaggeration * p[e]) / (1 + dx * dx + dy * dy);
      const gx = f * dx;
      const gy = f * dy;
      fx += gx;
      fy += gy;
      grad[j2] -= gx;
      grad[j2 + 1] -= gy;
    }
    grad[i2] += fx;
    grad[i2 + 1] += fy;
  }
}

/** KL(P || Q) with q_ij = (1 / (1 + |y_i - y_j|^2)) / z, over the nonzero p_ij (both orders of each pair). */
function klDivergence(pairs: PairList, y: Float64Array, z: number): number {
  const { rowStart, col2, p } = pairs;
  let kl = 0;
  for (let i = 0; i < rowStart.length - 1; i++) {
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
      if (!(p[e] > 0)) continue;
      const dx = y[2 * i] - y[col2[e]];
      const dy = y[2 * i + 1] - y[col2[e] + 1];
      const q = 1 / (1 + dx * dx + dy * dy) / z;
      kl += 2 * p[e] * Math.log(p[e] / Math.max(q, 1e-300));
    }
  }
  return kl;
}

/** One optimisation state: positions, momentum and gains; `step` does one gradient step (sync, hot). */
class Optimizer {
  readonly tree: QuadTree;
  readonly rep: Float64Array;
  readonly grad: Float64Array;
  readonly update: Float64Array;
  readonly gains: Float64Array;
  readonly pairs: PairList;
  /** Z of the last step. */
  z = 1;

  constructor(
    P: SparseAffinities,
    readonly y: Float64Array,
    readonly theta: number,
  ) {
    const n = P.n;
    this.pairs = upperPairs(P);
    this.tree = new QuadTree(n);
    this.rep = new Float64Array(2 * n);
    this.grad = new Float64Array(2 * n);
    this.update = new Float64Array(2 * n);
    this.gains = new Float64Array(2 * n).fill(1);
  }

  step(exaggeration: number, momentum: number, lr: number): void {
    const { y, rep, grad, update, gains } = this;
    const m = y.length;
    this.tree.build(y, this.theta);
    const z = Math.max(this.tree.repulsion(rep), 1e-300);
    this.z = z;
    const invZ = 1 / z;
    for (let e = 0; e < m; e++) grad[e] = -rep[e] * invZ;
    attract(this.pairs, y, exaggeration, grad);
    for (let e = 0; e < m; e++) {
      const g = grad[e];
      const u = update[e];
      let gain = u * g < 0 ? gains[e] + 0.2 : gains[e] * 0.8;
      if (gain < 0.01) gain = 0.01;
      gains[e] = gain;
      const nu = momentum * u - lr * gain * g;
      update[e] = nu;
      y[e] += nu;
    }
  }

  /** KL divergence of the current positions (one extra repulsion pass for Z). */
  kl(): number {
    this.tree.build(this.y, this.theta);
    const z = Math.max(this.tree.repulsion(this.rep), 1e-300);
    return klDivergence(this.pairs, this.y, z);
  }
}

/** Embed the rows of X in 2-D with Barnes-Hut t-SNE. */
export async function tsne(X: MatrixInput, opts: TsneOptions = {}): Promise<TsneResult> {
  const who = 'tsne';
  const A = toDense(X, who);
  const n = A.rows;
  if (n < 5) fail(who, `needs at least 5 points, got ${n}`);
  const perplexity = checkNumber(who, 'perplexity', opts.perplexity ?? 30, { above: 0, max: n - 1 });
  const iterations = checkInt(who, 'iterations', opts.iterations ?? 1000);
  const exagIters = checkInt(who, 'exaggerationIterations', opts.exaggerationIterations ?? 250, { min: 0 });
  const exaggeration = checkNumber(who, 'earlyExaggeration', opts.earlyExaggeration ?? 12, { above: 0 });
  const lrOpt = opts.learningRate ?? 'auto';
  const lr = lrOpt === 'auto' ? Math.max(n / exaggeration, 50) : checkNumber(who, 'learningRate', lrOpt, { above: 0 });
  const momentum0 = checkNumber(who, 'momentum', opts.momentum ?? 0.5, { min: 0, max: 1 });
  const momentum1 = checkNumber(who, 'finalMomentum', opts.finalMomentum ?? 0.8, { min: 0, max: 1 });
  const theta = checkNumber(who, 'theta', opts.theta ?? 0.5, { above: 0 });
  const seed = opts.seed ?? 0;
  const k = checkInt(who, 'neighbors', opts.neighbors ?? Math.min(n - 1, Math.floor(3 * perplexity + 1)), {
    max: n - 1,
  });
  const reportEvery = checkInt(who, 'reportEvery', opts.reportEvery ?? 10);
  if (
    opts.init !== undefined &&
    !(opts.init instanceof Float32Array) &&
    opts.init !== 'pca' &&
    opts.init !== 'random'
  ) {
    fail(who, `unknown init '${String(opts.init)}'; valid choices: pca, random, or a Float32Array of N*2 positions`);
  }

  const work = new Work(who, opts);
  let t0 = performance.now();
  const A2 = { data: A.data, rows: n, cols: A.cols };
  const nn = await work.steps(neighborSteps(A2, A2, { k, excludeSelf: true }, who));
  const tNeighbors = (performance.now() - t0) / 1000;
  await work.tick();
  t0 = performance.now();
  const d2 = new Float64Array(nn.distances.length);
  for (let e = 0; e < d2.length; e++) d2[e] = nn.distances[e] * nn.distances[e];
  const P = symmetrize(await work.steps(conditionalAffinitySteps(d2, n, k, perplexity)), nn.indices, n, k);
  await work.tick();
  const y = initialPositions(A2, n, opts.init ?? 'pca', seed);
  const tAffinities = (performance.now() - t0) / 1000;
  await work.tick();

  t0 = performance.now();
  const opt = new Optimizer(P, y, theta);
  let kl = NaN;
  let done = 0;
  for (let it = 0; it < iterations; it++) {
    const exaggerating = it < exagIters;
    await work.tick();
    opt.step(exaggerating ? exaggeration : 1, exaggerating ? momentum0 : momentum1, lr);
    done = it + 1;
    if (opts.onStep && (done % reportEvery === 0 || done === iterations)) {
      const step: TsneStep = {
        iteration: done,
        iterations,
        phase: exaggerating ? 'exaggeration' : 'main',
        points: Float32Array.from(y),
        kl: done % 50 === 0 || done === iterations ? opt.kl() : undefined,
      };
      const verdict = await work.call('onStep', opts.onStep, step);
      await new Promise<void>((resolve) => setImmediate(resolve));
      work.check();
      if (verdict === false) break;
    }
  }
  kl = opt.kl();
  const tOptimize = (performance.now() - t0) / 1000;
  return {
    points: Float32Array.from(y),
    n,
    dims: 2,
    kl,
    iterations: done,
    timings: { neighbors: tNeighbors, affinities: tAffinities, optimize: tOptimize },
  };
}
