/**
 * Quality of a 2-D (or any low-dimensional) embedding: trustworthiness (Venna & Kaski 2001, as
 * scikit-learn defines it) and the accuracy of a k-NN classifier in the embedding.
 */
import { columnMeans, DenseMatrix, gemm, MatrixInput, toDense, transpose } from './numerics/matrix';
import { nearestNeighbors } from './neighbors';
import { checkInt, fail } from '../../common';

/** An embedding as returned by pca / tsne / umap ({ points, n }), or any matrix of rows. */
export type EmbeddingInput = MatrixInput;

/** Reads an embedding result or matrix as rows. */
export function embeddingRows(y: EmbeddingInput, who: string, what = 'embedding'): DenseMatrix {
  return toDense(y, who, what);
}

export interface TrustworthinessOptions {
  /** Neighbourhood size. Default 5 (scikit-learn's default). */
  k?: number;
}

/**
 * Trustworthiness in [0, 1]: 1 minus a penalty for points that are among a point's k nearest in
 * the embedding but not in the original space, weighted by how far down the original ranking
 * they are. Equals sklearn.manifold.trustworthiness (Euclidean) up to float32 rounding.
 */
export function trustworthiness(X: MatrixInput, embedding: EmbeddingInput, opts: TrustworthinessOptions = {}): number {
  const who = 'trustworthiness';
  const A = toDense(X, who, 'X');
  const Y = embeddingRows(embedding, who);
  const n = A.rows;
  if (Y.rows !== n) fail(who, `X has ${n} rows but the embedding has ${Y.rows}; they must describe the same points`);
  const k = checkInt(who, 'k', opts.k ?? 5, { max: Math.floor(n / 2) - 1 < 1 ? 1 : Math.floor(n / 2) - 1 });
  if (n < 3) fail(who, `needs at least 3 points, got ${n}`);
  const inY = nearestNeighbors(Y, Y, { k, excludeSelf: true }).indices;
  const inX = nearestNeighbors(A, A, { k, excludeSelf: true }).indices;
  // Ranks in the original space need every distance of the row; take them block by block from products.
  const d = A.cols;
  const mean = columnMeans(A);
  const xc = new Float32Array(n * d);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = A.data[i * d + t] - mean[t];
      xc[i * d + t] = v;
      s += v * v;
    }
    norm[i] = s;
  }
  const xcT = transpose(xc, n, d);
  const block = Math.max(16, Math.min(1024, Math.floor(16e6 / n)));
  const targets = new Float64Array(k);
  let penalty = 0;
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = Math.min(n, i0 + block);
    const g = gemm(xc.subarray(i0 * d, i1 * d), i1 - i0, d, xcT, n);
    for (let i = i0; i < i1; i++) {
      const row = (i - i0) * n;
      const dist = (j: number) => norm[i] + norm[j] - 2 * g[row + j];
      let m = 0;
      for (let c = 0; c < k; c++) {
        const j = inY[i * k + c];
        let shared = false;
        for (let c2 = 0; c2 < k; c2++) if (inX[i * k + c2] === j) shared = true;
        if (!shared) targets[m++] = dist(j);
      }
      if (m === 0) continue;
      const ts = targets.subarray(0, m).sort();
      const tMax = ts[m - 1];
      const below = new Float64Array(m);
      for (let l = 0; l < n; l++) {
        if (l === i) continue;
        const v = norm[i] + norm[l] - 2 * g[row + l];
        if (v >= tMax) continue;
        for (let c = m - 1; c >= 0 && v < ts[c]; c--) below[c]++;
      }
      for (let c = 0; c < m; c++) {
        const rank = below[c] + 1;
        if (rank > k) penalty += rank - k;
      }
    }
  }
  return 1 - (penalty * 2) / (n * k * (2 * n - 3 * k - 1));
}

export interface KnnAccuracyOptions {
  /** Neighbours that vote. Default 5. */
  k?: number;
}

/**
 * Accuracy of a k-NN classifier in the embedding, fitted on the even rows and scored on the odd
 * rows (majority vote; a tie goes to the smallest label, as scikit-learn's KNeighborsClassifier does).
 */
export function knnAccuracy(
  embedding: EmbeddingInput,
  labels: ArrayLike<number>,
  opts: KnnAccuracyOptions = {},
): number {
  const who = 'knnAccuracy';
  const Y = embeddingRows(embedding, who);
  const n = Y.rows;
  if (labels.length !== n) fail(who, `${labels.length} labels for ${n} points`);
  if (n < 2) fail(who, `needs at least 2 points, got ${n}`);
  const nTrain = Math.ceil(n / 2);
  const k = checkInt(who, 'k', opts.k ?? 5, { max: nTrain });
  const d = Y.cols;
  const train = new Float32Array(nTrain * d);
  const test = new Float32Array((n - nTrain) * d);
  for (let i = 0; i < n; i++) {
    const dst = i % 2 === 0 ? train : test;
    dst.set(Y.data.subarray(i * d, (i + 1) * d), (i >> 1) * d);
  }
  const nn = nearestNeighbors(
    { data: test, rows: n - nTrain, cols: d },
    { data: train, rows: nTrain, cols: d },
    { k, excludeSelf: false },
  );
  let correct = 0;
  const votes = new Map<number, number>();
  for (let t = 0; t < n - nTrain; t++) {
    votes.clear();
    for (let c = 0; c < k; c++) {
      const label = labels[2 * nn.indices[t * k + c]];
      votes.set(label, (votes.get(label) ?? 0) + 1);
    }
    let best = Infinity;
    let bestVotes = -1;
    for (const [label, v] of votes) {
      if (v > bestVotes || (v === bestVotes && label < best)) {
        best = label;
        bestVotes = v;
      }
    }
    if (best === labels[2 * t + 1]) correct++;
  }
  return correct / (n - nTrain);
}
