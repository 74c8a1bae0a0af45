import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { gaussian, mulberry32 } from '../src/common/random';
import { setup } from '../src/runtime/backend';
import {
  gridLayout,
  kernelPca,
  knnAccuracy,
  nearestNeighbors,
  pca,
  trustworthiness,
  tsne,
  umap,
} from '../src/techniques/embedding';
import { symmetricEigen } from '../src/techniques/embedding/numerics/eigen';
import { auction } from '../src/techniques/embedding/numerics/auction';
import { lapjv } from '../src/techniques/embedding/numerics/lapjv';
import { PowTable } from '../src/techniques/embedding/numerics/pow_table';
import { QuadTree } from '../src/techniques/embedding/numerics/quadtree';

const twFixture = require('../../test/fixtures/trustworthiness.json') as {
  cases: {
    name: string;
    X: number[][];
    Y: number[][];
    labels: number[];
    trustworthiness: Record<string, number>;
    knnAccuracy5: number;
  }[];
};

function randomMatrix(
  n: number,
  d: number,
  seed: number,
  scales?: number[],
): { data: Float32Array; rows: number; cols: number } {
  const r = mulberry32(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) data[i * d + t] = gaussian(r) * (scales ? scales[t] : 1);
  return { data, rows: n, cols: d };
}

/** k well-separated Gaussian clusters in d dimensions; labels in order of rows. */
function clusters(
  perCluster: number,
  k: number,
  d: number,
  seed: number,
): { X: { data: Float32Array; rows: number; cols: number }; labels: Int32Array } {
  const r = mulberry32(seed);
  const n = perCluster * k;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => gaussian(r) * 12));
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let t = 0; t < d; t++) data[i * d + t] = centers[c][t] + gaussian(r);
  }
  return { X: { data, rows: n, cols: d }, labels };
}

function naiveKnn(
  q: Float32Array,
  b: Float32Array,
  nq: number,
  nb: number,
  d: number,
  k: number,
  excludeSelf: boolean,
  cosine = false,
): Int32Array {
  const out = new Int32Array(nq * k);
  const unit = (x: Float32Array, rows: number) => {
    if (!cosine) return x;
    const u = new Float64Array(x.length);
    for (let i = 0; i < rows; i++) {
      const norm = Math.sqrt(Array.from(x.subarray(i * d, (i + 1) * d)).reduce((s, v) => s + v * v, 0)) || 1;
      for (let t = 0; t < d; t++) u[i * d + t] = x[i * d + t] / norm;
    }
    return u;
  };
  const qu = unit(q, nq);
  const bu = unit(b, nb);
  for (let i = 0; i < nq; i++) {
    const ds: [number, number][] = [];
    for (let j = 0; j < nb; j++) {
      if (excludeSelf && i === j) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += (qu[i * d + t] - bu[j * d + t]) ** 2;
      ds.push([s, j]);
    }
    ds.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let c = 0; c < k; c++) out[i * k + c] = ds[c][1];
  }
  return out;
}

describe('embeddings', function () {
  before(async () => {
    await setup({ backend: 'wasm', quiet: true });
  });

  describe('nearestNeighbors', () => {
    it('equals a brute-force search, for every method and metric', () => {
      const scales = Array.from({ length: 40 }, (_, t) => 6 / (1 + t));
      for (const [n, d] of [
        [300, 6],
        [400, 40],
      ]) {
        const X = randomMatrix(n, d, n + d, d === 40 ? scales : undefined);
        for (const method of ['brute', 'pruned', 'auto'] as const) {
          for (const metric of ['euclidean', 'cosine'] as const) {
            const got = nearestNeighbors(X, X, { k: 7, method, metric });
            const want = naiveKnn(X.data, X.data, n, n, d, 7, true, metric === 'cosine');
            let mismatches = 0;
            for (let e = 0; e < want.length; e++) if (want[e] !== got.indices[e]) mismatches++;
            assert.strictEqual(mismatches, 0, `${n}x${d} ${method} ${metric}`);
          }
        }
      }
    });

    it('returns distances in order, queries against another database, and excludes self only when asked', () => {
      const B = randomMatrix(200, 5, 3);
      const Q = randomMatrix(30, 5, 4);
      const r = nearestNeighbors(Q, B, { k: 4 });
      assert.deepStrictEqual(Array.from(r.indices), Array.from(naiveKnn(Q.data, B.data, 30, 200, 5, 4, false)));
      for (let i = 0; i < 30; i++) {
        for (let c = 0; c < 4; c++) {
          const j = r.indices[i * 4 + c];
          let s = 0;
          for (let t = 0; t < 5; t++) s += (Q.data[i * 5 + t] - B.data[j * 5 + t]) ** 2;
          assert.ok(Math.abs(r.distances[i * 4 + c] - Math.sqrt(s)) < 1e-5);
          if (c > 0) assert.ok(r.distances[i * 4 + c] >= r.distances[i * 4 + c - 1]);
        }
      }
      const withSelf = nearestNeighbors(B, B, { k: 1, excludeSelf: false });
      assert.ok(withSelf.indices.every((j, i) => j === i));
      const tensor = tf.tensor2d(B.data, [200, 5]);
      const before = tf.memory().numTensors;
      for (let rep = 0; rep < 3; rep++) nearestNeighbors(tensor, tensor, { k: 3 });
      assert.strictEqual(tf.memory().numTensors, before, 'no tensor leak');
      tensor.dispose();
    });

    it('rejects bad input with the valid choices', () => {
      const X = randomMatrix(20, 3, 1);
      assert.throws(() => nearestNeighbors(X, X, { k: 20 }), /k must be a positive integer at most 19, got 20/);
      assert.throws(
        () => nearestNeighbors(X, X, { metric: 'manhattan' as 'cosine' }),
        /unknown metric 'manhattan'; valid choices: euclidean, cosine/,
      );
      assert.throws(
        () => nearestNeighbors(X, randomMatrix(20, 4, 1)),
        /queries have 3 features but the database has 4/,
      );
      assert.throws(
        () => nearestNeighbors(X, randomMatrix(10, 3, 1), { excludeSelf: true }),
        /excludeSelf needs as many queries as database rows/,
      );
      const bad = randomMatrix(5, 2, 1);
      bad.data[7] = NaN;
      assert.throws(() => nearestNeighbors(bad, bad), /contains NaN at row 3, column 1/);
      const t3 = tf.zeros([2, 2, 2]);
      assert.throws(
        () => nearestNeighbors(t3 as unknown as tf.Tensor2D, t3 as unknown as tf.Tensor2D),
        /must be a 2-D tensor \[N, D\], got shape \[2, 2, 2\]/,
      );
      t3.dispose();
    });
  });

  describe('trustworthiness and knnAccuracy', () => {
    it('equal scikit-learn on the committed fixture', () => {
      for (const c of twFixture.cases) {
        for (const k of ['1', '5', '10']) {
          const got = trustworthiness(c.X, c.Y, { k: Number(k) });
          assert.ok(Math.abs(got - c.trustworthiness[k]) < 1e-9, `${c.name} k=${k}: ${got} vs ${c.trustworthiness[k]}`);
        }
        assert.strictEqual(knnAccuracy(c.Y, c.labels), c.knnAccuracy5, c.name);
      }
    });
  });

  describe('pca', () => {
    it('finds the covariance eigenvectors and variances, exact and randomized', () => {
      const X = randomMatrix(600, 12, 7, [5, 4, 3, 2.5, 2, 1.5, 1, 0.8, 0.6, 0.4, 0.3, 0.2]);
      const n = 600;
      const d = 12;
      const mean = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += X.data[i * d + t] / n;
      const cov = new Float64Array(d * d);
      for (let i = 0; i < n; i++)
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++)
            cov[a * d + b] += ((X.data[i * d + a] - mean[a]) * (X.data[i * d + b] - mean[b])) / (n - 1);
      const eig = symmetricEigen(cov, d);
      for (const method of ['exact', 'randomized'] as const) {
        const p = pca(X, { dims: 3, method });
        for (let c = 0; c < 3; c++) {
          assert.ok(Math.abs(p.explainedVariance[c] - eig.values[c]) < 1e-3 * eig.values[c], `${method} variance ${c}`);
          let dot = 0;
          for (let t = 0; t < d; t++) dot += p.components[c * d + t] * eig.vectors[c * d + t];
          assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-4, `${method} component ${c} aligned (${dot})`);
        }
        for (let i = 0; i < n; i += 97) {
          let proj = 0;
          for (let t = 0; t < d; t++) proj += (X.data[i * d + t] - mean[t]) * p.components[t];
          assert.ok(Math.abs(p.points[i * 3] - proj) < 1e-3);
        }
      }
      const wide = pca(randomMatrix(10, 30, 2), { dims: 2 });
      assert.strictEqual(wide.method, 'exact');
      assert.ok(wide.explainedVarianceRatio[0] >= wide.explainedVarianceRatio[1]);
      assert.throws(() => pca(X, { dims: 13 }), /dims must be a positive integer at most 12, got 13/);
    });
  });

  describe('symmetricEigen and lapjv', () => {
    it('symmetricEigen reconstructs A v = lambda v', () => {
      const n = 30;
      const r = mulberry32(5);
      const A = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = gaussian(r);
      const e = symmetricEigen(A, n);
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += A[i * n + j] * e.vectors[k * n + j];
          assert.ok(Math.abs(s - e.values[k] * e.vectors[k * n + i]) < 1e-10);
        }
        if (k > 0) assert.ok(e.values[k] <= e.values[k - 1]);
      }
    });

    it('symmetricEigen with few vectors asked matches the full decomposition, repeated eigenvalues included', () => {
      const n = 80;
      const r = mulberry32(6);
      // Q diag(...) Q^T with a random orthogonal Q (Gram-Schmidt of a random matrix) and a repeated top eigenvalue.
      const q: Float64Array[] = [];
      for (let c = 0; c < n; c++) {
        const v = Float64Array.from({ length: n }, () => gaussian(r));
        for (const u of q) {
          let d = 0;
          for (let i = 0; i < n; i++) d += u[i] * v[i];
          for (let i = 0; i < n; i++) v[i] -= d * u[i];
        }
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        q.push(v.map((x) => x / norm));
      }
      const lambdas = Array.from({ length: n }, (_, c) => (c < 3 ? 10 : 5 / (1 + c)));
      const A = new Float64Array(n * n);
      for (let c = 0; c < n; c++)
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += lambdas[c] * q[c][i] * q[c][j];
      const few = symmetricEigen(A, n, 8);
      const full = symmetricEigen(A, n);
      for (let c = 0; c < 8; c++) {
        assert.ok(Math.abs(few.values[c] - full.values[c]) < 1e-10);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += A[i * n + j] * few.vectors[c * n + j];
          assert.ok(Math.abs(s - few.values[c] * few.vectors[c * n + i]) < 1e-9, `vector ${c}`);
        }
        for (let p = 0; p < c; p++) {
          let d = 0;
          for (let i = 0; i < n; i++) d += few.vectors[c * n + i] * few.vectors[p * n + i];
          assert.ok(Math.abs(d) < 1e-9, `vectors ${p}, ${c} orthogonal`);
        }
      }
    });

    it('lapjv finds the minimum over all permutations, cold and warm-started by an auction', () => {
      const r = mulberry32(9);
      for (let trial = 0; trial < 60; trial++) {
        const n = 1 + (trial % 7);
        const c = Float64Array.from({ length: n * n }, () => (trial % 2 ? Math.floor(r() * 3) : r()));
        let best = Infinity;
        const p = Array.from({ length: n }, (_, i) => i);
        const rec = (k: number, acc: number): void => {
          if (k === n) {
            best = Math.min(best, acc);
            return;
          }
          for (let t = k; t < n; t++) {
            [p[k], p[t]] = [p[t], p[k]];
            rec(k + 1, acc + c[k * n + p[k]]);
            [p[k], p[t]] = [p[t], p[k]];
          }
        };
        rec(0, 0);
        const a = lapjv(c, n);
        assert.ok(Math.abs(a.cost - best) < 1e-12, `trial ${trial}: ${a.cost} vs ${best}`);
        assert.strictEqual(new Set(a.rowToCol).size, n);
        const warm = lapjv(c, n, auction(c, n));
        assert.ok(Math.abs(warm.cost - best) < 1e-12, `warm trial ${trial}: ${warm.cost} vs ${best}`);
        assert.strictEqual(new Set(warm.rowToCol).size, n);
      }
    });

    it('PowTable matches Math.pow', () => {
      const t = new PowTable(0.8950607195943902);
      const r = mulberry32(2);
      for (let i = 0; i < 10000; i++) {
        const x = Math.exp(-30 + 60 * r());
        assert.ok(Math.abs(t.pow(x) / Math.pow(x, t.b) - 1) < 2e-7, `x = ${x}`);
      }
      assert.strictEqual(t.pow(0), 0);
    });
  });

  describe('kernelPca', () => {
    it('with a linear kernel equals PCA; Nystrom with every point as landmark equals exact', async () => {
      const X = randomMatrix(150, 6, 11, [4, 3, 2, 1, 1, 1]);
      const lin = await kernelPca(X, { kernel: 'poly', degree: 1, gamma: 1, coef0: 0, dims: 2 });
      const p = pca(X, { dims: 2 });
      for (let e = 0; e < 300; e++)
        assert.ok(Math.abs(Math.abs(lin.points[e]) - Math.abs(p.points[e])) < 1e-3, `point value ${e}`);
      const exact = await kernelPca(X, { kernel: 'rbf', gamma: 0.05, method: 'exact' });
      const ny = await kernelPca(X, { kernel: 'rbf', gamma: 0.05, method: 'nystrom', landmarks: 150 });
      for (let e = 0; e < 300; e++) assert.ok(Math.abs(Math.abs(exact.points[e]) - Math.abs(ny.points[e])) < 1e-3);
      assert.ok(Math.abs(exact.eigenvalues[0] - ny.eigenvalues[0]) < 1e-3 * exact.eigenvalues[0]);
      await assert.rejects(
        kernelPca(X, { method: 'exact', maxExact: 100 }),
        /limited to maxExact = 100 points .* got N = 150; use method 'nystrom'/,
      );
      await assert.rejects(
        kernelPca(X, { kernel: 'sigmoid' as 'rbf' }),
        /unknown kernel 'sigmoid'; valid choices: rbf, poly/,
      );
    });
  });

  describe('tsne', () => {
    it('Barnes-Hut repulsion stays within 3% and Z within 1% of the exact O(N^2) sums', () => {
      const n = 3000;
      const r = mulberry32(17);
      // Clustered layout like a t-SNE map: a few blobs of different sizes plus background.
      const y = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const c = i % 5;
        const s = c === 4 ? 30 : 2 + c;
        y[2 * i] = (c - 2) * 15 + s * gaussian(r);
        y[2 * i + 1] = (c % 2) * 20 + s * gaussian(r);
      }
      const exact = new Float64Array(2 * n);
      let z = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          const dx = y[2 * i] - y[2 * j];
          const dy = y[2 * i + 1] - y[2 * j + 1];
          const q = 1 / (1 + dx * dx + dy * dy);
          z += q;
          exact[2 * i] += q * q * dx;
          exact[2 * i + 1] += q * q * dy;
        }
      }
      const tree = new QuadTree(n);
      tree.build(y, 0.5);
      const out = new Float64Array(2 * n);
      const zApprox = tree.repulsion(out);
      let num = 0;
      let den = 0;
      for (let e = 0; e < 2 * n; e++) {
        num += (out[e] - exact[e]) ** 2;
        den += exact[e] ** 2;
      }
      assert.ok(Math.sqrt(num / den) < 0.03, `force error ${Math.sqrt(num / den)}`);
      assert.ok(Math.abs(zApprox - z) / z < 0.01, `Z error ${(zApprox - z) / z}`);
    });

    it('keeps well-separated clusters together, reports progress, and is deterministic', async () => {
      const { X, labels } = clusters(40, 4, 10, 21);
      const steps: number[] = [];
      const a = await tsne(X, {
        perplexity: 15,
        iterations: 400,
        seed: 3,
        onStep: (s) => void steps.push(s.iteration),
      });
      const b = await tsne(X, { perplexity: 15, iterations: 400, seed: 3 });
      assert.deepStrictEqual(Array.from(a.points), Array.from(b.points));
      assert.strictEqual(steps.length, 40);
      assert.strictEqual(a.iterations, 400);
      assert.ok(Number.isFinite(a.kl) && a.kl > 0);
      // Every point's 2-D neighbours come from its own cluster.
      const nn = nearestNeighbors(a, a, { k: 5 });
      for (let i = 0; i < 160; i++)
        for (let c = 0; c < 5; c++) assert.strictEqual(labels[nn.indices[i * 5 + c]], labels[i], `point ${i}`);
      assert.ok(trustworthiness(X, a, { k: 5 }) > 0.9);
      const random = await tsne(X, { perplexity: 15, iterations: 50, init: 'random', seed: 4 });
      const random2 = await tsne(X, { perplexity: 15, iterations: 50, init: 'random', seed: 5 });
      assert.notDeepStrictEqual(Array.from(random.points), Array.from(random2.points));
    });

    it('stops when onStep returns false and rejects bad options', async () => {
      const { X } = clusters(10, 2, 3, 1);
      const r = await tsne(X, { perplexity: 5, iterations: 100, reportEvery: 5, onStep: (s) => s.iteration < 20 });
      assert.strictEqual(r.iterations, 20);
      await assert.rejects(tsne(X, { perplexity: 30 }), /perplexity must be a finite number in \(0, 19\], got 30/);
      await assert.rejects(
        tsne(X, { perplexity: 5, init: 'spectral' as 'pca' }),
        /unknown init 'spectral'; valid choices: pca, random/,
      );
    });
  });

  describe('umap', () => {
    it('keeps well-separated clusters together and is deterministic per seed', async () => {
      const { X, labels } = clusters(50, 3, 8, 5);
      const a = await umap(X, { seed: 1, epochs: 200 });
      const b = await umap(X, { seed: 1, epochs: 200 });
      const c = await umap(X, { seed: 2, epochs: 200 });
      assert.deepStrictEqual(Array.from(a.points), Array.from(b.points));
      assert.notDeepStrictEqual(Array.from(a.points), Array.from(c.points));
      assert.strictEqual(a.init, 'spectral');
      assert.ok(Math.abs(a.a - 1.577) < 1e-3 && Math.abs(a.b - 0.895) < 1e-3, `a, b = ${a.a}, ${a.b}`);
      assert.strictEqual(knnAccuracy(a, labels), 1);
      const nn = nearestNeighbors(a, a, { k: 5 });
      for (let i = 0; i < 150; i++)
        for (let k = 0; k < 5; k++) assert.strictEqual(labels[nn.indices[i * 5 + k]], labels[i]);
      await assert.rejects(umap(X, { minDist: 2 }), /minDist \(2\) must not exceed spread \(1\)/);
    });
  });

  describe('tensor hygiene', () => {
    it('leaves no tensors behind when given a Tensor2D, call after call', async () => {
      const { X } = clusters(30, 3, 6, 2);
      const t = tf.tensor2d(X.data, [X.rows, X.cols]);
      const run = async () => {
        pca(t, { dims: 2 });
        pca(t, { dims: 2, method: 'randomized' });
        await kernelPca(t, { dims: 2 });
        await kernelPca(t, { dims: 2, method: 'nystrom', landmarks: 40 });
        const e = await tsne(t, { perplexity: 10, iterations: 20 });
        await umap(t, { epochs: 20 });
        trustworthiness(t, e, { k: 5 });
        await gridLayout(e, { rows: 10, cols: 9 });
      };
      await run();
      const before = tf.memory().numTensors;
      for (let r = 0; r < 3; r++) await run();
      assert.strictEqual(tf.memory().numTensors, before);
      t.dispose();
    });
  });

  describe('gridLayout', () => {
    it('is the optimal assignment on small cases and leaves points already on a grid in place', async () => {
      const r = mulberry32(8);
      for (let trial = 0; trial < 20; trial++) {
        const n = 5 + (trial % 2);
        const pts = Float32Array.from({ length: 2 * n }, () => r());
        const g = await gridLayout({ points: pts, n }, { rows: 2, cols: 3 });
        assert.strictEqual(g.method, 'exact');
        assert.strictEqual(new Set(g.cells).size, n);
        // Brute force over all injective maps of points to the 6 cells.
        const ux = (i: number) => pts[2 * i];
        const lo = [
          Math.min(...Array.from({ length: n }, (_, i) => pts[2 * i])),
          Math.min(...Array.from({ length: n }, (_, i) => pts[2 * i + 1])),
        ];
        const hi = [
          Math.max(...Array.from({ length: n }, (_, i) => pts[2 * i])),
          Math.max(...Array.from({ length: n }, (_, i) => pts[2 * i + 1])),
        ];
        const cost = (i: number, cell: number) => {
          const x = (ux(i) - lo[0]) / (hi[0] - lo[0]);
          const y = (pts[2 * i + 1] - lo[1]) / (hi[1] - lo[1]);
          return (x - ((cell % 3) + 0.5) / 3) ** 2 + (y - (Math.floor(cell / 3) + 0.5) / 2) ** 2;
        };
        let best = Infinity;
        const used = new Array(6).fill(false);
        const rec = (i: number, acc: number): void => {
          if (i === n) {
            best = Math.min(best, acc);
            return;
          }
          for (let c = 0; c < 6; c++) {
            if (used[c]) continue;
            used[c] = true;
            rec(i + 1, acc + cost(i, c));
            used[c] = false;
          }
        };
        rec(0, 0);
        assert.ok(Math.abs(g.cost - best) < 1e-9, `trial ${trial}: ${g.cost} vs ${best}`);
      }
      const side = 7;
      const onGrid = new Float32Array(2 * side * side);
      const order = Array.from({ length: side * side }, (_, i) => i).sort(
        (a, b) => Math.sin(a * 12.9898) - Math.sin(b * 12.9898),
      );
      order.forEach((cell, i) => {
        onGrid[2 * i] = cell % side;
        onGrid[2 * i + 1] = Math.floor(cell / side);
      });
      const g = await gridLayout({ points: onGrid, n: side * side }, { rows: side, cols: side });
      order.forEach((cell, i) => assert.strictEqual(g.cells[i], cell));
    });

    it('blocks larger problems into valid assignments and rejects a grid too small', async () => {
      const n = 900;
      const r = mulberry32(4);
      const pts = Float32Array.from({ length: 2 * n }, () => r() ** 2);
      const g = await gridLayout({ points: pts, n }, { rows: 30, cols: 31, maxExact: 200 });
      assert.strictEqual(g.method, 'blocked');
      assert.ok(g.blocks > 1);
      assert.strictEqual(new Set(g.cells).size, n);
      assert.ok(g.cells.every((c) => c >= 0 && c < 30 * 31));
      const exact = await gridLayout({ points: pts, n }, { rows: 30, cols: 31 });
      assert.ok(exact.cost <= g.cost + 1e-9);
      await assert.rejects(
        gridLayout({ points: pts, n }, { rows: 10, cols: 10 }),
        /a 10 x 10 grid has 100 cells for 900 points/,
      );
    });
  });
});
