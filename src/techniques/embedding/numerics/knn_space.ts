/**
 * Scoring spaces for nearestNeighbors: the exact (centred) space, or the principal-subspace bound
 * space whose squared distances never exceed the true ones; rows augmented so one matrix
 * product gives |u|^2 - |u - v|^2 up to a per-row constant.
 */
import { columnMeans, gemm, transpose } from './matrix';
import { randomizedPrincipalBasis } from './subspace';
import { runSync, Steps } from '../../../runtime/cancel';

/** Squared Euclidean distance between rows, accumulated in float64. */
export function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const x = a[ao + t] - b[bo + t];
    s += x * x;
  }
  return s;
}

export function normalizeRows(x: Float32Array, n: number, d: number): Float32Array {
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
export interface Space {
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
export function augment(sp: Space, nq: number, nb: number): { qa: Float32Array; bt: Float32Array } {
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
export function boundSpace(q: Float32Array, b: Float32Array, nq: number, nb: number, d: number): Space {
  return runSync(boundSpaceSteps(q, b, nq, nb, d));
}

/** `boundSpace` as steps: it yields after the basis and after each projected set of rows. */
export function* boundSpaceSteps(q: Float32Array, b: Float32Array, nq: number, nb: number, d: number): Steps<Space> {
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
  yield;
  const qs = project(q, nq);
  yield;
  const bs = q === b ? qs : project(b, nb);
  const qn = norms(qs, nq, a);
  const bn = qs === bs ? qn : norms(bs, nb, a);
  let bMax = 0;
  for (let j = 0; j < nb; j++) bMax = Math.max(bMax, bn[j]);
  return { a, q: qs, b: bs, qn, bMax };
}

export function fullSpace(q: Float32Array, b: Float32Array, nq: number, nb: number, d: number): Space {
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
