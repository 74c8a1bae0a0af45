"""Python peers for `npm run bench -- embed`: scikit-learn TSNE and umap-learn on the bench's input.

Usage: embed_peers.py <input.f32> <n> <d> <outdir> <tsne,umap> [seed]
Reads n x d float32 rows, writes <outdir>/<method>-<n>.f32 (n x 2 float32) and prints one JSON
line per method with the seconds taken (wall clock and process CPU time). Thread pools are pinned
to one thread by the caller's environment (OMP_NUM_THREADS, NUMBA_NUM_THREADS, ...) so the
comparison is one core to one core.
"""
import json
import os
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def main():
    path, n, d, outdir, methods = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5].split(",")
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    X = np.fromfile(path, dtype=np.float32).reshape(n, d)
    for method in methods:
        if method == "tsne":
            import sklearn
            from sklearn.manifold import TSNE

            model = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", method="barnes_hut",
                         angle=0.5, random_state=seed, n_jobs=1)
            version = "scikit-learn " + sklearn.__version__
            t0, c0 = time.perf_counter(), time.process_time()
            Y = model.fit_transform(X)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        elif method == "umap":
            import umap

            # Compile umap-learn's numba kernels on a small input first, so the timing is the algorithm's.
            umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed).fit_transform(X[: min(n, 300)])
            model = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed)
            version = "umap-learn " + umap.__version__
            t0, c0 = time.perf_counter(), time.process_time()
            Y = model.fit_transform(X)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        else:
            raise SystemExit(f"embed_peers.py: unknown method {method!r}; valid: tsne, umap")
        out = os.path.join(outdir, f"{method}-{n}.f32")
        np.ascontiguousarray(Y, dtype=np.float32).tofile(out)
        print(json.dumps({"method": method, "n": n, "seconds": seconds, "cpuSeconds": cpu,
                          "version": version, "output": out}), flush=True)


if __name__ == "__main__":
    main()
