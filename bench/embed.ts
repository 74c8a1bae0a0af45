/**
 * `npm run bench -- embed [--sizes 2000,5000,10000] [--repeats 1] [--no-peers] [--only tsne,umap,pca,knn,grid]`
 *
 * UMAP runs three ways side by side: ours, umap-js (the JavaScript peer, a devDependency, same
 * process) and umap-learn (Python); the table gives our time as a ratio to each peer.
 *
 * Issue 6's fixed input: the Fashion-MNIST test set (10,000 images), pixels in [0, 1], PCA to 50
 * dims (ours), first N rows. At each N: our t-SNE and UMAP beside scikit-learn's TSNE and
 * umap-learn (run by bench/embed_peers.py when /usr/bin/python3 has them), all single-threaded,
 * interleaved per N so load changes hit both sides alike. Quality by our own metrics on every
 * embedding: trustworthiness (k = 10, checked against scikit-learn's in the tests) and 5-NN
 * accuracy (fit on even rows, score odd rows). Both wall and CPU seconds are recorded, because
 * the machine may be shared. With --repeats R every implementation runs R times, ours and the
 * peers alternating, and each side's best time is compared (this box's speed drifts by up to 2x
 * over minutes; the embeddings themselves are seeded and the same each time). Also: PCA 10,000 x 256 -> 50, exact kNN
 * 10,000 x 10,000 at D = 256
 * (the shipped fashion-cnn's 'features' layer), and gridLayout of 2,500 t-SNE points on 50 x 50.
 * Writes bench/results/embed.json.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../src/data/datasets';
import { load as loadModel } from '../src/models/zoo';
import { setup } from '../src/runtime/backend';
import { featureVectors } from '../src/techniques';
import {
  gridLayout,
  knnAccuracy,
  nearestNeighbors,
  pca,
  trustworthiness,
  tsne,
  umap,
} from '../src/techniques/embedding';
import { DenseMatrix } from '../src/techniques/embedding/numerics/matrix';
import { mulberry32 } from '../src/common/random';
import { UMAP } from 'umap-js';

/** umap-js with its defaults (15 neighbours, min_dist 0.1), seeded like ours. */
function umapJs(X: DenseMatrix, seed: number): Float32Array {
  const rows = Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
  const y = new UMAP({ nComponents: 2, random: mulberry32(seed) }).fit(rows);
  return Float32Array.from(y.flat());
}

const UMAP_JS = `umap-js ${(require('umap-js/package.json') as { version: string }).version}`;

interface Timed<T> {
  value: T;
  wall: number;
  cpu: number;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<Timed<T>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

interface Row {
  n: number;
  method: string;
  impl: string;
  wall: number;
  cpu: number;
  /** Every run's wall seconds (best of them is `wall`). */
  walls: number[];
  trustworthiness: number;
  knnAccuracy: number;
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

function findPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import sklearn, umap'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' };

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

export async function main(args: string[]): Promise<void> {
  const sizes = (arg(args, 'sizes') ?? '2000,5000,10000').split(',').map(Number);
  const repeats = Number(arg(args, 'repeats') ?? 1);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`bench embed: --repeats must be a positive integer, got ${arg(args, 'repeats')}`);
  const only = new Set((arg(args, 'only') ?? 'tsne,umap,pca,knn,grid').split(','));
  const backend = await setup({ backend: 'wasm', quiet: true });
  const python = args.includes('--no-peers') ? undefined : findPython();
  const outDir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-embed-'));
  console.log(`backend ${backend.report}; peers: ${python ? python : 'not run (no python with sklearn + umap)'}`);

  const maxN = Math.max(...sizes, 2500);
  const ds = await loadDataset('fashion-mnist', { split: 'test', limit: Math.max(maxN, 10000) });
  const nAll = ds.images.shape[0];
  const pixels = ds.images.reshape([nAll, -1]) as tf.Tensor2D;
  const pcaIn = await timed(() => pca(pixels, { dims: 50, seed: 0 }));
  const X50 = pcaIn.value.points;
  console.log(
    `input: ${nAll} Fashion-MNIST test images, PCA 784 -> 50 (${pcaIn.value.method}) in ${fmt(pcaIn.wall, 2)} s`,
  );
  const rows: Row[] = [];
  const extras: Record<string, unknown> = {
    inputPca: { wall: pcaIn.wall, cpu: pcaIn.cpu, method: pcaIn.value.method },
  };
  let tsneForGrid: Float32Array | undefined;

  for (const n of sizes) {
    const X: DenseMatrix = { data: X50.subarray(0, n * 50), rows: n, cols: 50 };
    const labels = ds.labels.subarray(0, n);
    const score = (points: Float32Array) => ({
      trustworthiness: trustworthiness(X, { points, n }, { k: 10 }),
      knnAccuracy: knnAccuracy({ points, n }, labels, { k: 5 }),
    });
    // One row per implementation: the best wall (and CPU) time over the repeats.
    const push = (method: string, impl: string, t: { wall: number; cpu: number }, points: Float32Array) => {
      const prev = rows.find((r) => r.n === n && r.method === method && r.impl === impl);
      if (prev) {
        prev.walls.push(t.wall);
        prev.wall = Math.min(prev.wall, t.wall);
        prev.cpu = Math.min(prev.cpu, t.cpu);
        console.log(`N=${n} ${method} ${impl}: again ${fmt(t.wall, 1)} s wall, ${fmt(t.cpu, 1)} s cpu`);
        return;
      }
      const row: Row = { n, method, impl, wall: t.wall, cpu: t.cpu, walls: [t.wall], ...score(points) };
      rows.push(row);
      console.log(
        `N=${n} ${method} ${impl}: ${fmt(row.wall, 1)} s wall, ${fmt(row.cpu, 1)} s cpu, ` +
          `trust ${fmt(row.trustworthiness, 4)}, 5-NN ${fmt(row.knnAccuracy, 3)}`,
      );
    };
    for (let rep = 0; rep < repeats; rep++) {
      if (only.has('tsne')) {
        const r = await timed(() => tsne(X, { seed: 0 }));
        push('tsne', 'cnnviz', r, r.value.points);
        if (n >= 2500 && !tsneForGrid) tsneForGrid = r.value.points;
      }
      if (only.has('umap')) {
        const r = await timed(() => umap(X, { seed: 0 }));
        push('umap', 'cnnviz', r, r.value.points);
        if (!args.includes('--no-peers')) {
          const js = await timed(() => umapJs(X, 0));
          push('umap', UMAP_JS, js, js.value);
        }
      }
      if (python) {
        const file = path.join(scratch, `X${n}.f32`);
        fs.writeFileSync(file, Buffer.from(X.data.buffer, X.data.byteOffset, X.data.byteLength));
        const methods = ['tsne', 'umap'].filter((m) => only.has(m));
        for (const method of methods) {
          const out = execFileSync(
            python,
            [path.join(__dirname, '..', '..', 'bench', 'embed_peers.py'), file, String(n), '50', scratch, method, '0'],
            {
              env: { ...process.env, ...ONE_THREAD },
              encoding: 'utf8',
              maxBuffer: 1 << 24,
            },
          );
          const rec = JSON.parse(out.trim().split('\n').pop() as string) as {
            seconds: number;
            cpuSeconds: number;
            version: string;
            output: string;
          };
          const pts = new Float32Array(fs.readFileSync(rec.output).buffer.slice(0));
          push(method, rec.version, { wall: rec.seconds, cpu: rec.cpuSeconds }, pts);
        }
      }
    }
  }

  if (only.has('pca') || only.has('knn')) {
    let feats: tf.Tensor2D;
    let source: string;
    try {
      const model = await loadModel('fashion-cnn');
      feats = await featureVectors(model, ds.images.slice([0], [10000]), { layer: 'features' });
      source = "fashion-cnn 'features' layer";
    } catch (err) {
      const w = tf.randomNormal([784, 256], 0, 0.05, 'float32', 1);
      feats = tf.relu(tf.matMul(pixels.slice([0], [10000]), w)) as tf.Tensor2D;
      w.dispose();
      source = `random ReLU features (shipped model unavailable: ${(err as Error).message})`;
    }
    const F: DenseMatrix = { data: feats.dataSync() as Float32Array, rows: feats.shape[0], cols: feats.shape[1] };
    console.log(`features: ${F.rows} x ${F.cols} from ${source}`);
    if (only.has('pca')) {
      pca(F, { dims: 50 });
      const r = await timed(() => pca(F, { dims: 50 }));
      extras.pca = {
        shape: [F.rows, F.cols],
        dims: 50,
        method: r.value.method,
        wall: r.wall,
        cpu: r.cpu,
        target: 1,
        source,
      };
      console.log(`PCA ${F.rows} x ${F.cols} -> 50 (${r.value.method}): ${fmt(r.wall, 3)} s wall (target < 1 s)`);
    }
    if (only.has('knn')) {
      for (const metric of ['euclidean', 'cosine'] as const) {
        const r = await timed(() => nearestNeighbors(F, F, { k: 10, metric }));
        extras[`knn_${metric}`] = {
          shape: [F.rows, F.cols],
          k: 10,
          method: r.value.method,
          wall: r.wall,
          cpu: r.cpu,
          target: 2,
          rescans: r.value.rescans,
          source,
        };
        console.log(
          `kNN ${F.rows} x ${F.rows}, D = ${F.cols}, k = 10, ${metric} (${r.value.method}): ${fmt(r.wall, 2)} s ` +
            `wall (target < 2 s)`,
        );
      }
    }
    feats.dispose();
  }

  if (only.has('grid')) {
    const pts = tsneForGrid
      ? tsneForGrid.slice(0, 5000)
      : (await tsne({ data: X50.subarray(0, 2500 * 50), rows: 2500, cols: 50 }, { seed: 0 })).points;
    const r = await timed(() => gridLayout({ points: pts, n: 2500 }, { rows: 50, cols: 50 }));
    extras.grid = {
      n: 2500,
      rows: 50,
      cols: 50,
      method: r.value.method,
      cost: r.value.cost,
      wall: r.wall,
      cpu: r.cpu,
      target: 5,
    };
    console.log(`gridLayout 2500 points -> 50 x 50 (${r.value.method}): ${fmt(r.wall, 2)} s wall (target < 5 s)`);
  }

  // Table with ratios against the peers at the same N.
  console.log(`\nBest of ${repeats} run(s) per implementation, ours and the peers alternating.`);
  console.log(
    '\n| N | method | implementation | wall s | cpu s | trustworthiness | 5-NN acc | time vs peer (wall / cpu) | ' +
      'trust - peer | acc - peer |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    // Our row against every peer at the same N (UMAP has two: umap-js and umap-learn).
    const peers =
      r.impl === 'cnnviz' ? rows.filter((p) => p.n === r.n && p.method === r.method && p.impl !== 'cnnviz') : [];
    const each = (f: (p: Row) => string) =>
      peers.map((p) => (peers.length > 1 ? `${p.impl.split(' ')[0]} ${f(p)}` : f(p))).join('; ');
    const vs = each((p) => `${fmt(r.wall / p.wall, 2)} / ${fmt(r.cpu / p.cpu, 2)}`);
    const dt = each((p) => fmt(r.trustworthiness - p.trustworthiness, 4));
    const da = each((p) => fmt(r.knnAccuracy - p.knnAccuracy, 3));
    console.log(
      `| ${r.n} | ${r.method} | ${r.impl} | ${fmt(r.wall, 1)} | ${fmt(r.cpu, 1)} | ${fmt(r.trustworthiness, 4)} ` +
        `| ${fmt(r.knnAccuracy, 3)} | ${vs} | ${dt} | ${da} |`,
    );
  }
  const result = {
    date: new Date().toISOString(),
    repeats,
    backend: backend.report,
    node: process.version,
    cpus: os.cpus().length,
    python: python ?? null,
    rows,
    extras,
  };
  const file = path.join(outDir, 'embed.json');
  fs.writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  pixels.dispose();
  ds.images.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
}
