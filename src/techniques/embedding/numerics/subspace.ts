import { gaussian, mulberry32 } from '../../../common/random';
import { symmetricEigen } from './eigen';
import { gemm, projectOut, sumOfSquares, transpose } from './matrix';

/** Principal directions of a centred matrix: rows of `components` (rank x d), largest variance first. */
export interface PrincipalBasis {
  components: Float64Array;
  /** Variance along each component (squared singular value / (n - 1)). */
  variances: Float64Array;
  rank: number;
  d: number;
}

/**
 * Orthonormalises the columns of the row-major n x l matrix in place (modified Gram-Schmidt, run
 * twice for stability). A column that collapses (rank deficiency) is replaced by a fresh random
 * direction so the basis stays orthonormal.
 */
export function orthonormalizeColumns(y: Float32Array, n: number, l: number, seed = 1): void {
  // Cholesky QR twice does the heavy part as matrix products; it gives up on (near) rank
  // deficiency, and then the slower Gram-Schmidt below takes over.
  if (n >= 4 * l && choleskyQr(y, n, l) && choleskyQr(y, n, l)) return;
  gramSchmidt(y, n, l, seed);
}

/** y <- y R^-1 where y^T y = R^T R; false (y unchanged) when the Cholesky factorisation breaks down. */
function choleskyQr(y: Float32Array, n: number, l: number): boolean {
  const g = gemm(transpose(y, n, l), l, n, y, l);
  const r = new Float64Array(l * l);
  let maxDiag = 0;
  for (let i = 0; i < l; i++) maxDiag = Math.max(maxDiag, g[i * l + i]);
  for (let i = 0; i < l; i++) {
    let s = g[i * l + i];
    for (let p = 0; p < i; p++) s -= r[p * l + i] * r[p * l + i];
    if (!(s > 1e-5 * maxDiag)) return false;
    const rii = Math.sqrt(s);
    r[i * l + i] = rii;
    for (let j = i + 1; j < l; j++) {
      let t = g[i * l + j];
      for (let p = 0; p < i; p++) t -= r[p * l + i] * r[p * l + j];
      r[i * l + j] = t / rii;
    }
  }
  // Inverse of the upper-triangular r, column by column.
  const inv = new Float32Array(l * l);
  const col = new Float64Array(l);
  for (let j = 0; j < l; j++) {
    for (let i = l - 1; i >= 0; i--) {
      let s = i === j ? 1 : 0;
      for (let p = i + 1; p < l; p++) s -= r[i * l + p] * col[p];
      col[i] = i > j ? 0 : s / r[i * l + i];
    }
    for (let i = 0; i < l; i++) inv[i * l + j] = col[i];
  }
  y.set(gemm(y, n, l, inv, l));
  return true;
}

function gramSchmidt(y: Float32Array, n: number, l: number, seed: number): void {
  const cols: Float64Array[] = [];
  for (let c = 0; c < l; c++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = y[i * l + c];
    cols.push(v);
  }
  const rand = mulberry32(seed);
  for (let c = 0; c < l; c++) {
    const v = cols[c];
    let before = sumOfSquares(v);
    for (let attempt = 0; ; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < c; p++) projectOut(v, cols[p]);
      }
      const norm = sumOfSquares(v);
      if (norm > 1e-20 * Math.max(before, 1e-30) && norm > 0) {
        const inv = 1 / Math.sqrt(norm);
        for (let i = 0; i < n; i++) v[i] *= inv;
        break;
      }
      if (attempt > 3 || c >= n) {
        v.fill(0);
        break;
      }
      for (let i = 0; i < n; i++) v[i] = gaussian(rand);
      before = n;
    }
  }
  for (let c = 0; c < l; c++) for (let i = 0; i < n; i++) y[i * l + c] = cols[c][i];
}

export interface RandomizedOptions {
  oversamples: number;
  powerIterations: number;
  seed: number;
}

/**
 * Top `rank` principal directions of the centred n x d matrix xc (xcT is its d x n transpose),
 * by randomized range finding with power iterations (Halko, Martinsson & Tropp 2011).
 */
export function randomizedPrincipalBasis(
  xc: Float32Array,
  xcT: Float32Array,
  n: number,
  d: number,
  rank: number,
  opts: RandomizedOptions,
): PrincipalBasis {
  const l = Math.min(rank + opts.oversamples, d, n);
  const rand = mulberry32(opts.seed);
  const omega = new Float32Array(d * l);
  for (let i = 0; i < omega.length; i++) omega[i] = gaussian(rand);
  let q = gemm(xc, n, d, omega, l);
  orthonormalizeColumns(q, n, l, opts.seed + 1);
  for (let it = 0; it < opts.powerIterations; it++) {
    const z = gemm(xcT, d, n, q, l);
    orthonormalizeColumns(z, d, l, opts.seed + 2 + it);
    q = gemm(xc, n, d, z, l);
    orthonormalizeColumns(q, n, l, opts.seed + 100 + it);
  }
  // B^T = Xc^T Q (d x l); the eigenvectors of B B^T rotate Q onto the singular directions.
  const bt = gemm(xcT, d, n, q, l);
  const s = new Float64Array(l * l);
  for (let r = 0; r < d; r++) {
    const o = r * l;
    for (let i = 0; i < l; i++) {
      const bi = bt[o + i];
      for (let j = i; j < l; j++) s[i * l + j] += bi * bt[o + j];
    }
  }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) s[i * l + j] = s[j * l + i];
  const eig = symmetricEigen(s, l);
  const k = Math.min(rank, l);
  const components = new Float64Array(k * d);
  const variances = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const lambda = Math.max(eig.values[c], 0);
    variances[c] = lambda / Math.max(1, n - 1);
    const u = eig.vectors.subarray(c * l, (c + 1) * l);
    let norm = 0;
    for (let r = 0; r < d; r++) {
      let v = 0;
      for (let i = 0; i < l; i++) v += bt[r * l + i] * u[i];
      components[c * d + r] = v;
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let r = 0; r < d; r++) components[c * d + r] *= inv;
  }
  return { components, variances, rank: k, d };
}
