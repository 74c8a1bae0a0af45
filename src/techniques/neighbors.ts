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
import { TopK } from './embed_util/heap';
import { checkChoice, checkInt, columnMeans, gemm, MatrixInput, toDense, transpose } from './embed_util/matrix';
import { randomizedPrincipalBasis } from './embed_util/subspace';

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

/** Squared Euclidean distance between rows, accumulated in float64. */
function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const x = a[ao + t] - b[bo + t];
    s += x * x;
  }
  return s;
}

function normalizeRows(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] * x[i * d + t];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < d; t++) out[i * d + t] = x[i * d + t] * inv;
  }
  return out;
}

/** Scoring space: rows u_i (a columns) whose pairwise squared distances are (bounds on) the true ones. */
interface Space {
  a: number;
  q: Float32Array;
  b: Float32Array;
  qn: Float64Array;
  bMax: number;
}

function norms(x: Float32Array, n: number, a: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < a; t++) s += x[i * a + t] * x[i * a + t];
    out[i] = s;
  }
  return out;
}

/** Rows [x, 1] for queries and the a+1 x nb matrix [2x, -|x|^2]^T for the database. */
function augment(sp: Space, nq: number, nb: number): { qa: Float32Array; bt: Float32Array } {
  const a = sp.a;
  const qa = new Float32Array(nq * (a + 1));
  for (let i = 0; i < nq; i++) {
    qa.set(sp.q.subarray(i * a, (i + 1) * a), i * (a + 1));
    qa[i * (a + 1) + a] = 1;
  }
  const bn = sp.q === sp.b ? sp.qn : norms(sp.b, nb, a);
  const bt = new Float32Array((a + 1) * nb);
  for (let j = 0; j < nb; j++) {
    for (let t = 0; t < a; t++) bt[t * nb + j] = 2 * sp.b[j * a + t];
    bt[a * nb + j] = -bn[j];
  }
  return { qa, bt };
}

/** Centred coordinates in a principal subspace of the database, plus the residual norm. */
function boundSpace(q: Float32Array, b: Float32Array, nq: number, nb: number, d: number): Space {
  const mean = columnMeans({ data: b, rows: nb, cols: d });
  // Any orthonormal basis gives a valid bound; one fitted on a sample of rows is tight enough.
  const sampleRows = Math.min(nb, 3000);
  const stride = nb / sampleRows;
  const sample = new Float32Array(sampleRows * d);
  for (let r = 0; r < sampleRows; r++) {
    const src = Math.floor(r * stride) * d;
    for (let t = 0; t < d; t++) sample[r * d + t] = b[src + t] - mean[t];
  }
  // Subspace size: the fewest principal directions (16 to 64) holding 98.5% of the variance, since
  // the bound is only as tight as the variance it captures.
  const cap = Math.min(d - 1, 64);
  const basis = randomizedPrincipalBasis(sample, transpose(sample, sampleRows, d), sampleRows, d, cap, {
    oversamples: 8,
    powerIterations: 2,
    seed: 12345,
  });
  let total = 0;
  for (let e = 0; e < sample.length; e++) total += sample[e] * sample[e];
  total /= Math.max(1, sampleRows - 1);
  let m = Math.min(cap, 16);
  let captured = 0;
  for (let c = 0; c < m; c++) captured += basis.variances[c];
  while (m < basis.rank && captured < 0.985 * total) captured += basis.variances[m++];
  const pT = new Float32Array(d * m);
  for (let c = 0; c < m; c++) for (let t = 0; t < d; t++) pT[t * m + c] = basis.components[c * d + t];
  const a = m + 1;
  const project = (x: Float32Array, n: number): Float32Array => {
    const xc = new Float32Array(n * d);
    const c2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let t = 0; t < d; t++) {
        const v = x[i * d + t] - mean[t];
        xc[i * d + t] = v;
        acc += v * v;
      }
      c2[i] = acc;
    }
    const xp = gemm(xc, n, d, pT, m);
    const out = new Float32Array(n * a);
    for (let i = 0; i < n; i++) {
      let p2 = 0;
      for (let t = 0; t < m; t++) {
        const v = xp[i * m + t];
        out[i * a + t] = v;
        p2 += v * v;
      }
      out[i * a + m] = Math.sqrt(Math.max(0, c2[i] - p2));
    }
    return out;
  };
  const qs = project(q, nq);
  const bs = q === b ? qs : project(b, nb);
  const qn = norms(qs, nq, a);
  const bn = qs === bs ? qn : norms(bs, nb, a);
  let bMax = 0;
  for (let j = 0; j < nb; j++) bMax = Math.max(bMax, bn[j]);
  return { a, q: qs, b: bs, qn, bMax };
}

function fullSpace(q: Float32Array, b: Float32Array, nq: number, nb: number, d: number): Space {
  // Centre so float32 scores lose nothing to a large common offset.
  const mean = columnMeans({ data: b, rows: nb, cols: d });
  const shift = (x: Float32Array, n: number) => {
    const out = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) out[i] = x[i] - mean[i % d];
    return out;
  };
  const qs = shift(q, nq);
  const bs = q === b ? qs : shift(b, nb);
  const qn = norms(qs, nq, d);
  const bn = qs === bs ? qn : norms(bs, nb, d);
  let bMax = 0;
  for (let j = 0; j < nb; j++) bMax = Math.max(bMax, bn[j]);
  return { a: d, q: qs, b: bs, qn, bMax };
}

/**
 * The k nearest database rows of every query row, exactly. `queries` and `database` are
 * [N, D] matrices (tf.Tensor2D, { data, rows, cols }, or arrays of rows) with the same D.
 */
export function nearestNeighbors(queries: MatrixInput, database: MatrixInput, opts: NearestNeighborsOptions = {}): NearestNeighborsResult {
  const who = 'nearestNeighbors';
  const same = queries === database;
  const Q = toDense(queries, who, 'queries');
  const B = same ? Q : toDense(database, who, 'database');
  if (Q.cols !== B.cols) {
    throw new Error(`${who}: queries have ${Q.cols} features but the database has ${B.cols}; both must be [N, D] with the same D`);
  }
  const excludeSelf = opts.excludeSelf ?? same;
  if (excludeSelf && Q.rows !== B.rows) {
    throw new Error(`${who}: excludeSelf needs as many queries as database rows (query i is database row i), got ${Q.rows} and ${B.rows}`);
  }
  const metric = checkChoice(who, 'metric', opts.metric ?? 'euclidean', NEIGHBOR_METRICS);
  const methodOpt = checkChoice(who, 'method', opts.method ?? 'auto', NEIGHBOR_METHODS);
  const available = B.rows - (excludeSelf ? 1 : 0);
  if (available < 1) throw new Error(`${who}: the database needs at least ${excludeSelf ? 2 : 1} rows, got ${B.rows}`);
  const k = checkInt(who, 'k', opts.k ?? Math.min(10, available), 1, available);
  const nq = Q.rows;
  const nb = B.rows;
  const d = Q.cols;
  const block = checkInt(who, 'blockSize', opts.blockSize ?? Math.max(16, Math.min(1024, Math.floor(16e6 / nb))), 1);
  let q = Q.data;
  let b = B.data;
  if (metric === 'cosine') {
    q = normalizeRows(q, nq, d);
    b = same ? q : normalizeRows(b, nb, d);
  }
  const outIds = new Int32Array(nq * k);
  const outD2 = new Float64Array(nq * k);
  const search: Search = { q, b, nq, nb, d, k, excludeSelf, block, outIds, outD2, evaluations: 0, rescans: 0 };
  let method: 'brute' | 'pruned' = methodOpt === 'pruned' || (methodOpt === 'auto' && d > 32 && nb >= 2000) ? 'pruned' : 'brute';
  let done = 0;
  if (method === 'pruned') {
    const space = boundSpace(q, b, nq, nb, d);
    if (methodOpt === 'pruned') {
      done = searchRows(search, space, 'pruned', 0, nq);
    } else {
      // Try a small first block; the bound is only worth it when it proves most rows quickly.
      const probe = Math.min(nq, 256);
      searchRows(search, space, 'pruned', 0, probe);
      done = probe;
      if (search.rescans > 0.1 * probe || search.evaluations > 0.05 * nb * probe) method = 'brute';
      else done = searchRows(search, space, 'pruned', probe, nq);
    }
  }
  if (done < nq) searchRows(search, fullSpace(q, b, nq, nb, d), 'brute', done, nq);
  const distances = new Float32Array(nq * k);
  for (let i = 0; i < distances.length; i++) {
    const e2 = Math.max(0, outD2[i]);
    distances[i] = metric === 'cosine' ? e2 / 2 : Math.sqrt(e2);
  }
  return { indices: outIds, distances, k, n: nq, metric, method, exactPerQuery: search.evaluations / nq, rescans: search.rescans };
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

/** Answers queries [from, to) in blocks: product + tf.topk for candidates, exact distances, proof or rescan. */
function searchRows(s: Search, space: Space, method: 'brute' | 'pruned', from: number, to: number): number {
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
      const top = tf.tidy(() => tf.topk(tf.matMul(tf.tensor2d(qa.subarray(i0 * (a + 1), i1 * (a + 1)), [rows, a + 1]), btT), want));
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
