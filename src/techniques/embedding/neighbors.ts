/**
 * Exact k nearest neighbours by blocked matrix products with a top-k per row (tf.topk, so the
 * N x N scores never pass through JavaScript).
 *
 * Both methods score database rows with one product of augmented rows: for points u, v,
 * |u - v|^2 = |u|^2 - [u, 1].[2v, -|v|^2], so the best scores are the nearest points.
 * - 'brute' scores on the full D features, then re-ranks the few best by exact distance.
 * - 'pruned' (wide data) scores on a lower bound instead: in a small principal subspace P,
 *   |q - b|^2 >= |P(q - b)|^2 + (|r_q| - |r_b|)^2 with r the part off the subspace, which is
 *   the squared distance between the (m + 1)-vectors [P q, |r_q|]. It takes the K best bounds,
 *   computes exact distances for those, and proves the answer: every other point's bound is at
 *   least the K-th bound, so when that exceeds the k-th exact distance nothing was missed.
 *   Rows where the proof fails are finished by a scan of their bounds.
 * Either way the result is exact (up to float32 rounding of near-ties).
 */
import * as tf from '@tensorflow/tfjs';
import { TopK } from './numerics/heap';
import { augment, dist2, fullSpace, normalizeRows, Space, boundSpaceSteps } from './numerics/knn_space';
import { MatrixInput, toDense } from './numerics/matrix';
import { refuseInsideCheck } from '../../runtime/guard';
import { checkChoice, checkInt, fail } from '../../common';
import { runSync, Steps } from '../../runtime/cancel';

export const NEIGHBOR_METRICS = ['euclidean', 'cosine'] as const;
export type NeighborMetric = (typeof NEIGHBOR_METRICS)[number];
export const NEIGHBOR_METHODS = ['auto', 'brute', 'pruned'] as const;
export type NeighborMethod = (typeof NEIGHBOR_METHODS)[number];

export interface NearestNeighborsOptions {
  /** Neighbours per query. Default 10 (or fewer when the database is smaller). */
  k?: number;
  /** 'euclidean' (default) or 'cosine' (distance 1 - cos; rows are normalised first). */
  metric?: NeighborMetric;
  /**
   * Leave out the database row with the query's own index. Default: true when `queries` and
   * `database` are the same object. Needs as many queries as database rows.
   */
  excludeSelf?: boolean;
  /** 'auto' (default): 'pruned' when D > 32 and the database is large, else 'brute'. */
  method?: NeighborMethod;
  /** Queries per matrix-product block. Default: about 16M scores per block, at most 1024 rows. */
  blockSize?: number;
}

export interface NearestNeighborsResult {
  /** Row i (indices[i*k .. i*k+k)) holds query i's neighbours in the database, nearest first. */
  indices: Int32Array;
  /** Matching distances: Euclidean, or 1 - cosine similarity. */
  distances: Float32Array;
  k: number;
  /** Number of queries (rows of indices). */
  n: number;
  metric: NeighborMetric;
  /** How the search ran: 'brute' or 'pruned'. */
  method: 'brute' | 'pruned';
  /** Exact distance evaluations per query (the candidates checked). */
  exactPerQuery: number;
  /** Queries whose candidates could not prove the answer and were finished by a scan. */
  rescans: number;
}

/**
 * The k nearest database rows of every query row, exactly. `queries` and `database` are
 * [N, D] matrices (tf.Tensor2D, { data, rows, cols }, or arrays of rows) with the same D.
 */
export function nearestNeighbors(
  queries: MatrixInput,
  database: MatrixInput,
  opts: NearestNeighborsOptions = {},
): NearestNeighborsResult {
  refuseInsideCheck('nearestNeighbors');
  return runSync(neighborSteps(queries, database, opts, 'nearestNeighbors'));
}

/**
 * The search of `nearestNeighbors` as steps that yield after every block of queries, so long work
 * that needs neighbours (t-SNE, UMAP) can drive it with `Work.steps` and stay interruptible.
 */
export function* neighborSteps(
  queries: MatrixInput,
  database: MatrixInput,
  opts: NearestNeighborsOptions,
  who: string,
): Steps<NearestNeighborsResult> {
  const same = queries === database;
  const Q = toDense(queries, who, 'queries');
  const B = same ? Q : toDense(database, who, 'database');
  if (Q.cols !== B.cols) {
    fail(who, `queries have ${Q.cols} features but the database has ${B.cols}; both must be [N, D] with the same D`);
  }
  const excludeSelf = opts.excludeSelf ?? same;
  if (excludeSelf && Q.rows !== B.rows) {
    fail(
      who,
      `excludeSelf needs as many queries as database rows (query i is database row i), got ${Q.rows} ` +
        `and ${B.rows}`,
    );
  }
  const metric = checkChoice(who, 'metric', opts.metric ?? 'euclidean', NEIGHBOR_METRICS);
  const methodOpt = checkChoice(who, 'method', opts.method ?? 'auto', NEIGHBOR_METHODS);
  const available = B.rows - (excludeSelf ? 1 : 0);
  if (available < 1) fail(who, `the database needs at least ${excludeSelf ? 2 : 1} rows, got ${B.rows}`);
  const k = checkInt(who, 'k', opts.k ?? Math.min(10, available), { max: available });
  const nq = Q.rows;
  const nb = B.rows;
  const d = Q.cols;
  const block = checkInt(who, 'blockSize', opts.blockSize ?? Math.max(16, Math.min(1024, Math.floor(16e6 / nb))));
  let q = Q.data;
  let b = B.data;
  if (metric === 'cosine') {
    q = normalizeRows(q, nq, d);
    b = same ? q : normalizeRows(b, nb, d);
  }
  const outIds = new Int32Array(nq * k);
  const outD2 = new Float64Array(nq * k);
  const search: Search = { q, b, nq, nb, d, k, excludeSelf, block, outIds, outD2, evaluations: 0, rescans: 0 };
  let method: 'brute' | 'pruned' =
    methodOpt === 'pruned' || (methodOpt === 'auto' && d > 32 && nb >= 2000) ? 'pruned' : 'brute';
  let done = 0;
  if (method === 'pruned') {
    const space = yield* boundSpaceSteps(q, b, nq, nb, d);
    yield;
    if (methodOpt === 'pruned') {
      done = yield* searchRows(search, space, 'pruned', 0, nq);
    } else {
      // Try a small first block; the bound is only worth it when it proves most rows quickly.
      const probe = Math.min(nq, 256);
      yield* searchRows(search, space, 'pruned', 0, probe);
      done = probe;
      if (search.rescans > 0.1 * probe || search.evaluations > 0.05 * nb * probe) method = 'brute';
      else done = yield* searchRows(search, space, 'pruned', probe, nq);
    }
  }
  if (done < nq) {
    const space = fullSpace(q, b, nq, nb, d);
    yield;
    yield* searchRows(search, space, 'brute', done, nq);
  }
  const distances = new Float32Array(nq * k);
  for (let i = 0; i < distances.length; i++) {
    const e2 = Math.max(0, outD2[i]);
    distances[i] = metric === 'cosine' ? e2 / 2 : Math.sqrt(e2);
  }
  return {
    indices: outIds,
    distances,
    k,
    n: nq,
    metric,
    method,
    exactPerQuery: search.evaluations / nq,
    rescans: search.rescans,
  };
}

interface Search {
  q: Float32Array;
  b: Float32Array;
  nq: number;
  nb: number;
  d: number;
  k: number;
  excludeSelf: boolean;
  block: number;
  outIds: Int32Array;
  outD2: Float64Array;
  evaluations: number;
  rescans: number;
}

/**
 * Answers queries [from, to) in blocks: product + tf.topk for candidates, exact distances, proof or
 * rescan. Yields after each block of rows (a safe point: nothing is half-written).
 */
function* searchRows(s: Search, space: Space, method: 'brute' | 'pruned', from: number, to: number): Steps<number> {
  const { q, b, nb, d, k, excludeSelf, outIds, outD2 } = s;
  const { qa, bt } = augment(space, s.nq, nb);
  const a = space.a;
  const selfSlot = excludeSelf ? 1 : 0;
  // Candidates per row: for 'brute' a few spares against float32 ties; for 'pruned' enough to prove the answer.
  let want = Math.min(nb, method === 'brute' ? k + selfSlot + 8 : Math.max(4 * k + 16, 96));
  const exact = new TopK(k);
  const stamp = new Int32Array(nb).fill(-1);
  const btT = tf.tensor2d(bt, [a + 1, nb]);
  try {
    for (let i0 = from; i0 < to; i0 += s.block) {
      const i1 = Math.min(to, i0 + s.block);
      const rows = i1 - i0;
      const top = tf.tidy(() =>
        tf.topk(tf.matMul(tf.tensor2d(qa.subarray(i0 * (a + 1), i1 * (a + 1)), [rows, a + 1]), btT), want),
      );
      const ids = top.indices.dataSync() as Int32Array;
      const scores = top.values.dataSync() as Float32Array;
      top.indices.dispose();
      top.values.dispose();
      let failed = 0;
      for (let i = i0; i < i1; i++) {
        const o = (i - i0) * want;
        exact.reset();
        for (let c = 0; c < want; c++) {
          const j = ids[o + c];
          if (excludeSelf && j === i) continue;
          stamp[j] = i;
          exact.push(dist2(q, i * d, b, j * d, d), j);
        }
        s.evaluations += want;
        // Every unchecked point scores at most the last candidate, so its (bound on the) distance
        // is at least this, less a margin for float32 rounding in the product.
        const tol = 1e-5 * (space.qn[i] + space.bMax) + 1e-30;
        const floor = space.qn[i] - scores[o + want - 1] - tol;
        if (want < nb && !(exact.bound() <= floor)) {
          failed++;
          s.rescans++;
          s.evaluations += rescanRow(i, space, q, b, d, nb, excludeSelf, exact, stamp, tol);
        }
        exact.drainSorted(outIds, outD2, i * k);
      }
      // Many rows needed a scan: the bound is loose here, ask for more candidates.
      if (failed > 0.05 * rows && want < nb) want = Math.min(nb, want * 2);
      yield;
    }
  } finally {
    btT.dispose();
  }
  return to;
}

/** Finishes row i by scanning every point's bound; returns exact evaluations made. */
function rescanRow(
  i: number,
  sp: Space,
  q: Float32Array,
  b: Float32Array,
  d: number,
  nb: number,
  excludeSelf: boolean,
  exact: TopK,
  stamp: Int32Array,
  tol: number,
): number {
  const a = sp.a;
  let tau = exact.bound();
  let evaluations = 0;
  for (let j = 0; j < nb; j++) {
    if (stamp[j] === i || (excludeSelf && j === i)) continue;
    const lb = dist2(sp.q, i * a, sp.b, j * a, a) - tol;
    if (lb < tau) {
      evaluations++;
      exact.push(dist2(q, i * d, b, j * d, d), j);
      tau = exact.bound();
    }
  }
  return evaluations;
}
