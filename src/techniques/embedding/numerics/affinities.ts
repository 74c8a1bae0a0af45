/**
 * t-SNE input affinities: conditional probabilities p(j|i) over each point's nearest neighbours,
 * with a per-point Gaussian bandwidth set by binary search to match the perplexity, then
 * symmetrised as P = (P_cond + P_cond^T) / 2N in compressed sparse rows.
 */
import { runSync, Steps } from '../../../runtime/cancel';

export interface SparseAffinities {
  n: number;
  /** Row i's entries are cols/vals[rowPtr[i] .. rowPtr[i+1]). */
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/**
 * p(j|i) from squared distances to k neighbours per point (row-major n x k), matching
 * `perplexity` to within `tol` in entropy (nats). Returns the n x k conditional probabilities.
 */
export function conditionalAffinities(
  dist2: Float64Array,
  n: number,
  k: number,
  perplexity: number,
  tol = 1e-5,
  maxSteps = 100,
): Float64Array {
  return runSync(conditionalAffinitySteps(dist2, n, k, perplexity, tol, maxSteps));
}

/** `conditionalAffinities` as steps: yields after every 256 rows. */
export function* conditionalAffinitySteps(
  dist2: Float64Array,
  n: number,
  k: number,
  perplexity: number,
  tol = 1e-5,
  maxSteps = 100,
): Steps<Float64Array> {
  const target = Math.log(perplexity);
  const p = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    if ((i & 255) === 255) yield;
    const o = i * k;
    // Shifting by the nearest distance leaves p(j|i) unchanged and keeps exp() from underflowing.
    let d0 = Infinity;
    for (let c = 0; c < k; c++) d0 = Math.min(d0, dist2[o + c]);
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    for (let step = 0; step < maxSteps; step++) {
      let sum = 0;
      let weighted = 0;
      for (let c = 0; c < k; c++) {
        const dd = dist2[o + c] - d0;
        const v = Math.exp(-dd * beta);
        p[o + c] = v;
        sum += v;
        weighted += dd * v;
      }
      const entropy = Math.log(sum) + (beta * weighted) / sum;
      const diff = entropy - target;
      const inv = 1 / sum;
      for (let c = 0; c < k; c++) p[o + c] *= inv;
      if (Math.abs(diff) <= tol) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  return p;
}

/** (P_cond + P_cond^T), normalised to sum 1, as CSR; `neighbors` is the n x k index matrix. */
export function symmetrize(pCond: Float64Array, neighbors: Int32Array, n: number, k: number): SparseAffinities {
  // Transpose adjacency: who lists i as a neighbour.
  const inDeg = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) inDeg[neighbors[e] + 1]++;
  for (let i = 0; i < n; i++) inDeg[i + 1] += inDeg[i];
  const revPtr = inDeg;
  const revSrc = new Int32Array(n * k);
  const revVal = new Float64Array(n * k);
  const fill = revPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const j = neighbors[i * k + c];
      const at = fill[j]++;
      revSrc[at] = i;
      revVal[at] = pCond[i * k + c];
    }
  }
  const rowPtr = new Int32Array(n + 1);
  const cols = new Int32Array(2 * n * k);
  const vals = new Float64Array(2 * n * k);
  const mark = new Int32Array(n).fill(-1);
  const slotOf = new Int32Array(n);
  let nnz = 0;
  let total = 0;
  // Add v to entry (i, j) of row i, opening the entry on first sight.
  const put = (i: number, j: number, v: number): void => {
    if (mark[j] === i) {
      vals[slotOf[j]] += v;
    } else {
      mark[j] = i;
      slotOf[j] = nnz;
      cols[nnz] = j;
      vals[nnz++] = v;
    }
    total += v;
  };
  for (let i = 0; i < n; i++) {
    rowPtr[i] = nnz;
    for (let c = 0; c < k; c++) put(i, neighbors[i * k + c], pCond[i * k + c]);
    for (let e = revPtr[i]; e < revPtr[i + 1]; e++) put(i, revSrc[e], revVal[e]);
  }
  rowPtr[n] = nnz;
  const inv = total > 0 ? 1 / total : 0;
  for (let e = 0; e < nnz; e++) vals[e] *= inv;
  return { n, rowPtr, cols: cols.slice(0, nnz), vals: vals.slice(0, nnz) };
}
