/**
 * Principal component analysis: exact (eigendecomposition of the covariance, or of the Gram
 * matrix when there are fewer rows than features) or randomized (Halko et al. 2011) for wide data.
 */
import { symmetricEigen } from './numerics/eigen';
import { columnMeans, DenseMatrix, gemm, MatrixInput, toDense, transpose, centered } from './numerics/matrix';
import { randomizedPrincipalBasis } from './numerics/subspace';
import { checkChoice, checkInt } from '../../common';

export const PCA_METHODS = ['auto', 'exact', 'randomized'] as const;
export type PcaMethod = (typeof PCA_METHODS)[number];

export interface PcaOptions {
  /** Output dimensions. Default 2. */
  dims?: number;
  /** 'auto' (default): 'exact' when min(N, D) <= 300, else 'randomized'. */
  method?: PcaMethod;
  /** Randomized: probe vectors beyond `dims`. Default 10. */
  oversamples?: number;
  /** Randomized: power iterations (more = more accurate for slowly decaying spectra). Default 4. */
  powerIterations?: number;
  /** Randomized: seed of the random probes. Default 0. */
  seed?: number;
}

export interface PcaResult {
  /** Projected rows: point i is points[i*dims .. (i+1)*dims). */
  points: Float32Array;
  n: number;
  dims: number;
  /** Principal axes as rows (dims x D), largest variance first; sign fixed so the largest loading is positive. */
  components: Float32Array;
  /** Column means subtracted before projecting (D). */
  mean: Float32Array;
  /** Variance along each component (unbiased, N - 1). */
  explainedVariance: Float64Array;
  /** explainedVariance / total variance. */
  explainedVarianceRatio: Float64Array;
  totalVariance: number;
  method: 'exact' | 'randomized';
}

function topExact(xc: Float32Array, n: number, d: number, dims: number): { comps: Float64Array; vars: Float64Array } {
  const comps = new Float64Array(dims * d);
  const vars = new Float64Array(dims);
  if (d <= n) {
    const xcT = transpose(xc, n, d);
    const cov = gemm(xcT, d, n, xc, d);
    const eig = symmetricEigen(cov, d, dims);
    comps.set(eig.vectors.subarray(0, dims * d));
    for (let c = 0; c < dims; c++) vars[c] = Math.max(0, eig.values[c]) / Math.max(1, n - 1);
    return { comps, vars };
  }
  // Fewer rows than features: eigenvectors u of Xc Xc^T map to components Xc^T u.
  const xcT = transpose(xc, n, d);
  const gram = gemm(xc, n, d, xcT, n);
  const eig = symmetricEigen(gram, n);
  for (let c = 0; c < dims; c++) {
    vars[c] = Math.max(0, eig.values[c]) / Math.max(1, n - 1);
    let norm = 0;
    for (let t = 0; t < d; t++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += xcT[t * n + i] * eig.vectors[c * n + i];
      comps[c * d + t] = s;
      norm += s * s;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let t = 0; t < d; t++) comps[c * d + t] *= inv;
  }
  return { comps, vars };
}

/** Project rows of X onto their first `dims` principal components. */
export function pca(X: MatrixInput, opts: PcaOptions = {}): PcaResult {
  const who = 'pca';
  const A: DenseMatrix = toDense(X, who);
  const { rows: n, cols: d } = A;
  const dims = checkInt(who, 'dims', opts.dims ?? Math.min(2, d), { max: Math.min(n, d) });
  const requested = checkChoice(who, 'method', opts.method ?? 'auto', PCA_METHODS);
  const method = requested === 'auto' ? (Math.min(n, d) <= 300 ? 'exact' : 'randomized') : requested;
  const mean = columnMeans(A);
  const xc = centered(A, mean);
  let totalVariance = 0;
  for (let i = 0; i < xc.length; i++) totalVariance += xc[i] * xc[i];
  totalVariance /= Math.max(1, n - 1);
  let comps: Float64Array;
  let vars: Float64Array;
  if (method === 'exact') {
    ({ comps, vars } = topExact(xc, n, d, dims));
  } else {
    const basis = randomizedPrincipalBasis(xc, transpose(xc, n, d), n, d, dims, {
      oversamples: checkInt(who, 'oversamples', opts.oversamples ?? 10, { min: 0 }),
      powerIterations: checkInt(who, 'powerIterations', opts.powerIterations ?? 4, { min: 0 }),
      seed: opts.seed ?? 0,
    });
    comps = basis.components;
    vars = basis.variances;
  }
  const components = new Float32Array(dims * d);
  for (let c = 0; c < dims; c++) {
    let big = 0;
    for (let t = 0; t < d; t++) if (Math.abs(comps[c * d + t]) > Math.abs(big)) big = comps[c * d + t];
    const sign = big < 0 ? -1 : 1;
    for (let t = 0; t < d; t++) components[c * d + t] = sign * comps[c * d + t];
  }
  const points = gemm(xc, n, d, transpose(components, dims, d), dims);
  const ratio = vars.map((v) => (totalVariance > 0 ? v / totalVariance : 0));
  return {
    points,
    n,
    dims,
    components,
    mean: Float32Array.from(mean),
    explainedVariance: vars,
    explainedVarianceRatio: ratio,
    totalVariance,
    method,
  };
}
