/**
 * Spectral layout of a weighted graph, as UMAP initialises: the eigenvectors of the normalised
 * adjacency D^-1/2 W D^-1/2 just below the trivial one (the smallest nontrivial eigenvectors of
 * the normalised Laplacian), found by block power iteration on (I + D^-1/2 W D^-1/2) / 2.
 */
import { gaussian, mulberry32 } from '../../data/random';
import { symmetricEigen } from './eigen';
import { FuzzyGraph } from './fuzzy_graph';

/** Returns n x dims coordinates (row-major), or undefined when the graph has an isolated point. */
export function spectralLayout(g: FuzzyGraph, dims: number, seed: number, iterations = 300): Float64Array | undefined {
  const n = g.n;
  const deg = new Float64Array(n);
  for (let e = 0; e < g.head.length; e++) deg[g.head[e]] += g.weight[e];
  const isq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(deg[i] > 0)) return undefined;
    isq[i] = 1 / Math.sqrt(deg[i]);
  }
  const w = new Float64Array(g.weight.length);
  for (let e = 0; e < w.length; e++) w[e] = 0.5 * g.weight[e] * isq[g.head[e]] * isq[g.tail[e]];
  // The trivial eigenvector (eigenvalue 1) is sqrt(degree); keep the block orthogonal to it.
  const v0 = new Float64Array(n);
  let norm0 = 0;
  for (let i = 0; i < n; i++) norm0 += deg[i];
  for (let i = 0; i < n; i++) v0[i] = Math.sqrt(deg[i] / norm0);
  const b = dims + 2;
  const rand = mulberry32(seed);
  let V: Float64Array[] = [];
  for (let c = 0; c < b; c++) V.push(Float64Array.from({ length: n }, () => gaussian(rand)));
  const apply = (x: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) out[i] = 0.5 * x[i];
    for (let e = 0; e < w.length; e++) out[g.head[e]] += w[e] * x[g.tail[e]];
  };
  const orthonormalize = (vs: Float64Array[]) => {
    for (let c = 0; c < vs.length; c++) {
      const v = vs[c];
      for (let pass = 0; pass < 2; pass++) {
        for (const u of [v0, ...vs.slice(0, c)]) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += u[i] * v[i];
          for (let i = 0; i < n; i++) v[i] -= dot * u[i];
        }
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i] * v[i];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let i = 0; i < n; i++) v[i] *= inv;
    }
  };
  orthonormalize(V);
  let W: Float64Array[] = V.map(() => new Float64Array(n));
  for (let it = 0; it < iterations; it++) {
    for (let c = 0; c < b; c++) apply(V[c], W[c]);
    [V, W] = [W, V];
    orthonormalize(V);
  }
  // Rayleigh-Ritz on the block orders the vectors by eigenvalue.
  for (let c = 0; c < b; c++) apply(V[c], W[c]);
  const h = new Float64Array(b * b);
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < b; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += V[r][i] * W[c][i];
      h[r * b + c] = s;
    }
  }
  for (let r = 0; r < b; r++) for (let c = 0; c < r; c++) h[r * b + c] = h[c * b + r] = (h[r * b + c] + h[c * b + r]) / 2;
  const eig = symmetricEigen(h, b);
  const out = new Float64Array(n * dims);
  for (let d = 0; d < dims; d++) {
    for (let r = 0; r < b; r++) {
      const coef = eig.vectors[d * b + r];
      if (coef === 0) continue;
      for (let i = 0; i < n; i++) out[i * dims + d] += coef * V[r][i];
    }
  }
  return out;
}
