/**
 * Spectral layout of a weighted graph, as UMAP initialises: the eigenvectors of the normalised
 * adjacency D^-1/2 W D^-1/2 just below the trivial one (the smallest nontrivial eigenvectors of
 * the normalised Laplacian), by Lanczos iteration with full reorthogonalisation, kept orthogonal
 * to the trivial eigenvector sqrt(degree).
 */
import { gaussian, mulberry32 } from '../../../common/random';
import { symmetricEigen } from './eigen';
import { FuzzyGraph } from './fuzzy_graph';
import { runSync, Steps } from '../../../runtime/cancel';

/** Returns n x dims coordinates (row-major), or undefined when the graph has an isolated point. */
export function spectralLayout(g: FuzzyGraph, dims: number, seed: number, steps = 120): Float64Array | undefined {
  return runSync(spectralSteps(g, dims, seed, steps));
}

/** `spectralLayout` as steps that yield after each Lanczos step (see runtime/cancel `Steps`). */
export function* spectralSteps(
  g: FuzzyGraph,
  dims: number,
  seed: number,
  steps = 120,
): Steps<Float64Array | undefined> {
  const n = g.n;
  const deg = new Float64Array(n);
  for (let e = 0; e < g.head.length; e++) deg[g.head[e]] += g.weight[e];
  const isq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(deg[i] > 0)) return undefined;
    isq[i] = 1 / Math.sqrt(deg[i]);
  }
  const m = g.head.length;
  const w = new Float64Array(m);
  for (let e = 0; e < m; e++) w[e] = g.weight[e] * isq[g.head[e]] * isq[g.tail[e]];
  const head = g.head;
  const tail = g.tail;
  const apply = (x: Float64Array, out: Float64Array) => {
    out.fill(0);
    for (let e = 0; e < m; e++) out[head[e]] += w[e] * x[tail[e]];
  };
  const v0 = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += deg[i];
  for (let i = 0; i < n; i++) v0[i] = Math.sqrt(deg[i] / total);
  const k = Math.max(dims + 1, Math.min(steps, n - 1));
  const Q: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  };
  const rand = mulberry32(seed);
  let q = Float64Array.from({ length: n }, () => gaussian(rand));
  // One pass of modified Gram-Schmidt against every earlier vector keeps the Lanczos basis
  // orthogonal to working precision for the few directions an initialisation needs.
  const reorth = (v: Float64Array) => {
    for (const u of [v0, ...Q]) {
      let c = 0;
      for (let i = 0; i < n; i++) c += u[i] * v[i];
      for (let i = 0; i < n; i++) v[i] -= c * u[i];
    }
  };
  reorth(q);
  let norm = Math.sqrt(dot(q, q));
  for (let i = 0; i < n; i++) q[i] /= norm;
  const z = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    Q.push(q);
    apply(q, z);
    const a = dot(z, q);
    alpha.push(a);
    const r = Float64Array.from(z);
    reorth(r);
    norm = Math.sqrt(dot(r, r));
    if (!(norm > 1e-12) || j === k - 1) break;
    beta.push(norm);
    for (let i = 0; i < n; i++) r[i] /= norm;
    q = r;
    yield;
  }
  // Ritz pairs from the tridiagonal T = Q^T A Q.
  const s = Q.length;
  const T = new Float64Array(s * s);
  for (let j = 0; j < s; j++) {
    T[j * s + j] = alpha[j];
    if (j + 1 < s) T[j * s + j + 1] = T[(j + 1) * s + j] = beta[j];
  }
  const eig = symmetricEigen(T, s);
  const out = new Float64Array(n * dims);
  for (let d = 0; d < dims && d < s; d++) {
    for (let j = 0; j < s; j++) {
      const c = eig.vectors[d * s + j];
      const qj = Q[j];
      for (let i = 0; i < n; i++) out[i * dims + d] += c * qj[i];
    }
  }
  return out;
}
