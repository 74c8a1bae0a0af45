/**
 * Kernel PCA (Schölkopf, Smola & Müller 1998) with an RBF or polynomial kernel. 'exact' builds
 * the centred N x N kernel matrix and finds its top eigenvectors by block subspace iteration
 * (matrix products on the active backend), up to `maxExact` points; 'nystrom' approximates the
 * kernel from `landmarks` sampled points (Williams & Seeger 2001) and runs PCA on the feature map.
 */
import { permutation } from '../../common/random';
import { Cancellable, Work } from '../../runtime/cancel';
import { symmetricEigen, symmetricEigenSteps } from './numerics/eigen';
import { gemm, MatrixInput, toDense, transpose } from './numerics/matrix';
import { orthonormalizeColumns } from './numerics/subspace';
import { pca } from './pca';
import { checkChoice, checkInt, checkNumber, fail } from '../../common';

export const KERNELS = ['rbf', 'poly'] as const;
export type KernelName = (typeof KERNELS)[number];
export const KERNEL_PCA_METHODS = ['auto', 'exact', 'nystrom'] as const;

export interface KernelPcaOptions extends Cancellable {
  /** Output dimensions. Default 2. */
  dims?: number;
  /** 'rbf' (default): exp(-gamma |x - y|^2); 'poly': (gamma x.y + coef0)^degree. */
  kernel?: KernelName;
  /** Kernel scale. Default 1 / D (scikit-learn's default). */
  gamma?: number;
  /** Polynomial degree (default 3) and offset (default 1). */
  degree?: number;
  coef0?: number;
  /** 'auto' (default): 'exact' up to maxExact points, else 'nystrom'. */
  method?: (typeof KERNEL_PCA_METHODS)[number];
  /** Largest N for 'exact' (its kernel matrix is N^2 floats). Default 3000. */
  maxExact?: number;
  /** Nyström landmarks. Default min(N, 500). */
  landmarks?: number;
  /** Seed for the landmark sample and the iteration start. Default 0. */
  seed?: number;
}

export interface KernelPcaResult {
  /** Projections onto the kernel principal components (scaled by sqrt(eigenvalue), as scikit-learn's transform). */
  points: Float32Array;
  n: number;
  dims: number;
  /** Top eigenvalues of the centred kernel matrix (exact) or of the approximated one (nystrom). */
  eigenvalues: Float64Array;
  method: 'exact' | 'nystrom';
  gamma: number;
}

interface Kernel {
  kind: KernelName;
  gamma: number;
  degree: number;
  coef0: number;
}

/** Rows of a per product in kernelBlock: about 2^24 multiply-adds, a few tens of ms, between checkpoints. */
function rowsPerBlock(nb: number, d: number): number {
  return Math.max(1, Math.floor((1 << 24) / Math.max(1, nb * d)));
}

/** a (na x d) times b (d x nb), a block of rows at a time with a checkpoint after each. */
async function blockedProduct(
  work: Work,
  a: Float32Array,
  na: number,
  d: number,
  b: Float32Array,
  nb: number,
): Promise<Float32Array> {
  const out = new Float32Array(na * nb);
  const step = rowsPerBlock(nb, d);
  for (let r0 = 0; r0 < na; r0 += step) {
    const r1 = Math.min(na, r0 + step);
    out.set(gemm(a.subarray(r0 * d, r1 * d), r1 - r0, d, b, nb), r0 * nb);
    await work.tick();
  }
  return out;
}

/** Kernel block between rows of a (na x d) and b (nb x d), as a Float32Array na x nb. */
async function kernelBlock(
  work: Work,
  k: Kernel,
  a: Float32Array,
  na: number,
  b: Float32Array,
  nb: number,
  d: number,
): Promise<Float32Array> {
  const dots = await blockedProduct(work, a, na, d, transpose(b, nb, d), nb);
  if (k.kind === 'poly') {
    for (let e = 0; e < dots.length; e++) dots[e] = Math.pow(k.gamma * dots[e] + k.coef0, k.degree);
    return dots;
  }
  const norms = (x: Float32Array, n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) out[i] += x[i * d + t] * x[i * d + t];
    return out;
  };
  const an = norms(a, na);
  const bn = a === b ? an : norms(b, nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      const d2 = Math.max(0, an[i] + bn[j] - 2 * dots[i * nb + j]);
      dots[i * nb + j] = Math.exp(-k.gamma * d2);
    }
  }
  return dots;
}

function fixSigns(points: Float32Array, n: number, dims: number): void {
  for (let c = 0; c < dims; c++) {
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(points[i * dims + c]) > Math.abs(big)) big = points[i * dims + c];
    if (big < 0) for (let i = 0; i < n; i++) points[i * dims + c] = -points[i * dims + c];
  }
}

async function exactKpca(
  work: Work,
  k: Kernel,
  x: Float32Array,
  n: number,
  d: number,
  dims: number,
  seed: number,
): Promise<{ points: Float32Array; values: Float64Array }> {
  const K = await kernelBlock(work, k, x, n, x, n, d);
  // Double centring: K - row means - column means + grand mean (K is symmetric).
  const mean = new Float64Array(n);
  let grand = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += K[i * n + j];
    mean[i] = s / n;
    grand += s;
  }
  grand /= n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * n + j] = K[i * n + j] - mean[i] - mean[j] + grand;
  const l = Math.min(n, dims + 8);
  const perm = permutation(n * l, seed);
  let q = new Float32Array(n * l);
  for (let e = 0; e < q.length; e++) q[e] = perm[e] / (n * l) - 0.5;
  orthonormalizeColumns(q, n, l, seed);
  let prev = new Float64Array(l);
  let values = new Float64Array(l);
  let vecs = new Float64Array(l * l);
  for (let it = 0; it < 300; it++) {
    await work.tick();
    const z = gemm(K, n, n, q, l);
    // Rayleigh-Ritz on span(q): H = q^T K q.
    const h = new Float64Array(l * l);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < l; a++) {
        const qa = q[i * l + a];
        for (let b = 0; b < l; b++) h[a * l + b] += qa * z[i * l + b];
      }
    }
    for (let a = 0; a < l; a++)
      for (let b = 0; b < a; b++) h[a * l + b] = h[b * l + a] = (h[a * l + b] + h[b * l + a]) / 2;
    const eig = symmetricEigen(h, l);
    values = eig.values;
    vecs = eig.vectors;
    let change = 0;
    for (let c = 0; c < dims; c++)
      change = Math.max(change, Math.abs(values[c] - prev[c]) / Math.max(Math.abs(values[c]), 1e-30));
    prev = values;
    if (it > 3 && change < 1e-9) break;
    q = z;
    orthonormalizeColumns(q, n, l, seed + it + 1);
  }
  const points = new Float32Array(n * dims);
  for (let c = 0; c < dims; c++) {
    const s = Math.sqrt(Math.max(values[c], 0));
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let a = 0; a < l; a++) v += q[i * l + a] * vecs[c * l + a];
      points[i * dims + c] = v * s;
    }
  }
  return { points, values: values.slice(0, dims) };
}

async function nystromKpca(
  work: Work,
  k: Kernel,
  x: Float32Array,
  n: number,
  d: number,
  dims: number,
  m: number,
  seed: number,
): Promise<{ points: Float32Array; values: Float64Array }> {
  const pick = permutation(n, seed).slice(0, m).sort();
  const lm = new Float32Array(m * d);
  pick.forEach((i, r) => lm.set(x.subarray(i * d, (i + 1) * d), r * d));
  const kmm = await kernelBlock(work, k, lm, m, lm, m, d);
  const knm = await kernelBlock(work, k, x, n, lm, m, d);
  // Feature map phi = K_nm K_mm^(-1/2) on the well-conditioned part of K_mm's spectrum.
  const eig = await work.steps(symmetricEigenSteps(kmm, m));
  const top = Math.max(eig.values[0], 1e-300);
  let r = 0;
  while (r < m && eig.values[r] > 1e-10 * top) r++;
  const w = new Float32Array(m * r);
  for (let c = 0; c < r; c++) {
    const s = 1 / Math.sqrt(eig.values[c]);
    for (let a = 0; a < m; a++) w[a * r + c] = eig.vectors[c * m + a] * s;
  }
  const phi = await blockedProduct(work, knm, n, m, w, r);
  const p = pca({ data: phi, rows: n, cols: r }, { dims: Math.min(dims, r), seed });
  const values = p.explainedVariance.map((v) => v * (n - 1));
  return { points: p.points, values };
}

/** Embed the rows of X with kernel PCA. */
export async function kernelPca(X: MatrixInput, opts: KernelPcaOptions = {}): Promise<KernelPcaResult> {
  const who = 'kernelPca';
  const A = toDense(X, who);
  const { rows: n, cols: d } = A;
  const dims = checkInt(who, 'dims', opts.dims ?? 2, { max: Math.max(1, n - 1) });
  const kind = checkChoice(who, 'kernel', opts.kernel ?? 'rbf', KERNELS);
  const k: Kernel = {
    kind,
    gamma: checkNumber(who, 'gamma', opts.gamma ?? 1 / d, { above: 0 }),
    degree: checkInt(who, 'degree', opts.degree ?? 3),
    coef0: opts.coef0 ?? 1,
  };
  const maxExact = checkInt(who, 'maxExact', opts.maxExact ?? 3000, { min: 2 });
  const requested = checkChoice(who, 'method', opts.method ?? 'auto', KERNEL_PCA_METHODS);
  const method = requested === 'auto' ? (n <= maxExact ? 'exact' : 'nystrom') : requested;
  if (method === 'exact' && n > maxExact) {
    fail(
      who,
      `method 'exact' is limited to maxExact = ${maxExact} points (its kernel matrix is N^2 floats), got N ` +
        `= ${n}; use method 'nystrom' or raise maxExact`,
    );
  }
  const seed = opts.seed ?? 0;
  const landmarks =
    method === 'exact' ? 0 : checkInt(who, 'landmarks', opts.landmarks ?? Math.min(n, 500), { min: dims, max: n });
  const work = new Work(who, opts);
  const out =
    method === 'exact'
      ? await exactKpca(work, k, A.data, n, d, dims, seed)
      : await nystromKpca(work, k, A.data, n, d, dims, landmarks, seed);
  fixSigns(out.points, n, dims);
  return { points: out.points, n, dims, eigenvalues: out.values, method, gamma: k.gamma };
}
