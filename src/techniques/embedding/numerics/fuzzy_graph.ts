/**
 * UMAP's fuzzy simplicial set (McInnes, Healy & Melville 2018): per-point distance to the nearest
 * neighbour (rho) and a bandwidth (sigma) so that the memberships sum to log2(k), then the fuzzy
 * union A + A^T - A o A^T, as a list of weighted edges (both directions, like umap-learn's COO graph).
 */

export interface FuzzyGraph {
  n: number;
  /** Edge e goes head[e] -> tail[e] with weight[e] in (0, 1]. */
  head: Int32Array;
  tail: Int32Array;
  weight: Float64Array;
}

/**
 * Memberships from k neighbours per point (row-major n x k indices and distances, the point
 * itself first at distance 0, as umap-learn's kNN returns it).
 */
export function fuzzySimplicialSet(indices: Int32Array, distances: Float32Array, n: number, k: number): FuzzyGraph {
  const target = Math.log2(k);
  let meanAll = 0;
  for (let e = 0; e < n * k; e++) meanAll += distances[e];
  meanAll /= n * k;
  const member = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = 0;
    let meanI = 0;
    for (let c = 0; c < k; c++) {
      const d = distances[o + c];
      meanI += d;
      if (rho === 0 && d > 0) rho = d;
    }
    meanI /= k;
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let step = 0; step < 64; step++) {
      let sum = 0;
      for (let c = 1; c < k; c++) {
        const d = distances[o + c] - rho;
        sum += d > 0 ? Math.exp(-d / sigma) : 1;
      }
      if (Math.abs(sum - target) < 1e-5) break;
      if (sum > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    // Floors on sigma as umap-learn sets them, so isolated or duplicated points keep a usable scale.
    sigma = Math.max(sigma, 1e-3 * (rho > 0 ? meanI : meanAll));
    for (let c = 0; c < k; c++) {
      const j = indices[o + c];
      if (j === i) continue;
      const d = distances[o + c] - rho;
      member[o + c] = d <= 0 ? 1 : Math.exp(-d / sigma);
    }
  }
  return fuzzyUnion(member, indices, n, k);
}

function fuzzyUnion(member: Float64Array, indices: Int32Array, n: number, k: number): FuzzyGraph {
  // Row i's directed memberships, looked up by target; then each undirected pair combines a and b.
  const rowPtr = new Int32Array(n + 1);
  const inDeg = new Int32Array(n);
  for (let e = 0; e < n * k; e++) if (member[e] > 0) inDeg[indices[e]]++;
  for (let i = 0; i < n; i++) {
    let own = 0;
    for (let c = 0; c < k; c++) if (member[i * k + c] > 0) own++;
    rowPtr[i + 1] = rowPtr[i] + own + inDeg[i];
  }
  const cols = new Int32Array(rowPtr[n]);
  const fill = rowPtr.slice(0, n);
  const mark = new Int32Array(n).fill(-1);
  const slot = new Int32Array(n);
  // Pass 1: a_ij into row i; pass 2: a_ji into row i (combined when both exist).
  const aOf = new Float64Array(rowPtr[n]);
  const bOf = new Float64Array(rowPtr[n]);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const v = member[i * k + c];
      if (!(v > 0)) continue;
      const j = indices[i * k + c];
      if (mark[j] === i) {
        aOf[slot[j]] = Math.max(aOf[slot[j]], v);
        continue;
      }
      mark[j] = i;
      slot[j] = fill[i];
      cols[fill[i]] = j;
      aOf[fill[i]++] = v;
    }
  }
  // Reverse memberships: for each directed edge i -> j, row j receives b = a_ij.
  const revPtr = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) if (member[e] > 0) revPtr[indices[e] + 1]++;
  for (let i = 0; i < n; i++) revPtr[i + 1] += revPtr[i];
  const revSrc = new Int32Array(revPtr[n]);
  const revVal = new Float64Array(revPtr[n]);
  const rf = revPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const v = member[i * k + c];
      if (!(v > 0)) continue;
      const j = indices[i * k + c];
      revSrc[rf[j]] = i;
      revVal[rf[j]++] = v;
    }
  }
  mark.fill(-1);
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < fill[i]; e++) {
      mark[cols[e]] = i;
      slot[cols[e]] = e;
    }
    for (let e = revPtr[i]; e < revPtr[i + 1]; e++) {
      const j = revSrc[e];
      if (mark[j] === i) {
        bOf[slot[j]] = Math.max(bOf[slot[j]], revVal[e]);
      } else {
        mark[j] = i;
        slot[j] = fill[i];
        cols[fill[i]] = j;
        bOf[fill[i]++] = revVal[e];
      }
    }
  }
  let m = 0;
  for (let i = 0; i < n; i++) m += fill[i] - rowPtr[i];
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const weight = new Float64Array(m);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < fill[i]; e++) {
      const a = aOf[e];
      const b = bOf[e];
      const w = a + b - a * b;
      if (!(w > 0)) continue;
      head[at] = i;
      tail[at] = cols[e];
      weight[at++] = w;
    }
  }
  return { n, head: head.slice(0, at), tail: tail.slice(0, at), weight: weight.slice(0, at) };
}

/**
 * a, b of the low-dimensional similarity 1 / (1 + a d^(2b)) fitted (least squares, Gauss-Newton
 * with step halving) to 1 for d < minDist and exp(-(d - minDist) / spread) beyond, on 300 points in [0, 3 spread].
 */
export function fitAB(spread: number, minDist: number): { a: number; b: number } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let t = 0; t < 300; t++) {
    const x = (3 * spread * t) / 299;
    xs.push(x);
    ys.push(x < minDist ? 1 : Math.exp(-(x - minDist) / spread));
  }
  const loss = (a: number, b: number) => {
    let s = 0;
    for (let t = 0; t < xs.length; t++) {
      const f = xs[t] > 0 ? 1 / (1 + a * Math.pow(xs[t], 2 * b)) : 1;
      s += (f - ys[t]) ** 2;
    }
    return s;
  };
  let a = 1;
  let b = 1;
  let current = loss(a, b);
  for (let it = 0; it < 200; it++) {
    // Normal equations of the 2-parameter linearisation.
    let jaa = 0;
    let jab = 0;
    let jbb = 0;
    let ga = 0;
    let gb = 0;
    for (let t = 0; t < xs.length; t++) {
      const x = xs[t];
      if (x <= 0) continue;
      const p = Math.pow(x, 2 * b);
      const den = 1 + a * p;
      const f = 1 / den;
      const r = f - ys[t];
      const da = -p / (den * den);
      const db = (-a * p * 2 * Math.log(x)) / (den * den);
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    const det = jaa * jbb - jab * jab;
    if (!(Math.abs(det) > 1e-300)) break;
    let stepA = -(jbb * ga - jab * gb) / det;
    let stepB = -(jaa * gb - jab * ga) / det;
    let improved = false;
    for (let h = 0; h < 30; h++) {
      const na = a + stepA;
      const nb = b + stepB;
      if (na > 0 && nb > 0) {
        const l = loss(na, nb);
        if (l < current) {
          const gain = current - l;
          a = na;
          b = nb;
          current = l;
          improved = gain > 1e-15;
          break;
        }
      }
      stepA /= 2;
      stepB /= 2;
    }
    if (!improved) break;
  }
  return { a, b };
}
