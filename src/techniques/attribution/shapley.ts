/**
 * The arithmetic of Kernel SHAP, apart from any model: which coalitions to evaluate (all of them
 * when the budget allows, else whole coalition sizes by kernel weight and the rest sampled, each
 * with its complement), and the weighted least-squares fit under the efficiency constraint.
 */

/** Shapley kernel weight of one coalition of size s among M players: (M-1) / (C(M,s) s (M-s)). */
export function shapleyKernel(M: number, s: number): number {
  return (M - 1) / (binomial(M, s) * s * (M - s));
}

export function binomial(n: number, k: number): number {
  const m = Math.min(k, n - k);
  let r = 1;
  for (let i = 1; i <= m; i++) r = (r * (n - m + i)) / i;
  return Math.round(r) || r;
}

export interface Coalitions {
  /** rows x M, 1 where the segment is present. */
  masks: Float32Array;
  /** Regression weight per row. */
  weights: Float64Array;
  /** Every coalition (other than all and none) is present: the fit gives exact Shapley values. */
  exact: boolean;
}

function combinations(M: number, s: number, visit: (members: Int32Array) => void): void {
  const idx = Int32Array.from({ length: s }, (_, i) => i);
  for (;;) {
    visit(idx);
    let i = s - 1;
    while (i >= 0 && idx[i] === M - s + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < s; j++) idx[j] = idx[j - 1] + 1;
  }
}

/** Coalitions to evaluate for M players with a budget of `samples` rows. */
export function shapleyCoalitions(M: number, samples: number, rand: () => number): Coalitions {
  const steps = coalitionSteps(M, samples, rand);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/** shapleyCoalitions for long work: the draws (0.4 s for 20,000 on a busy core) let `tick` see the abort signal. */
export async function shapleyCoalitionsChecked(
  M: number,
  samples: number,
  rand: () => number,
  tick: () => Promise<void>,
): Promise<Coalitions> {
  const steps = coalitionSteps(M, samples, rand);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    await tick();
  }
}

function* coalitionSteps(M: number, samples: number, rand: () => number): Generator<void, Coalitions> {
  const rows: number[][] = [];
  const weights: number[] = [];
  const addRow = (members: ArrayLike<number>, weight: number, complement: boolean) => {
    const row = new Array<number>(M).fill(complement ? 1 : 0);
    for (let i = 0; i < members.length; i++) row[members[i]] = complement ? 0 : 1;
    rows.push(row);
    weights.push(weight);
  };
  if (M <= 30 && 2 ** M - 2 <= samples) {
    for (let s = 1; s < M; s++) combinations(M, s, (m) => addRow(m, shapleyKernel(M, s), false));
    return pack(rows, weights, M, true);
  }
  // Sizes s and M - s are taken together; their total kernel weight is (M-1)/(s(M-s)) each.
  const half = Math.ceil((M - 1) / 2);
  const sizeWeight = Array.from({ length: half }, (_, i) => {
    const s = i + 1;
    return ((M - 1) / (s * (M - s))) * (s !== M - s ? 2 : 1);
  });
  const totalWeight = sizeWeight.reduce((a, b) => a + b, 0);
  let left = samples;
  let weightLeft = 1;
  let full = 0;
  for (let i = 0; i < half; i++) {
    const s = i + 1;
    const paired = s !== M - s;
    const count = binomial(M, s) * (paired ? 2 : 1);
    const share = sizeWeight[i] / totalWeight / weightLeft;
    if (left * share < count - 1e-8) break;
    combinations(M, s, (m) => {
      addRow(m, shapleyKernel(M, s), false);
      if (paired) addRow(m, shapleyKernel(M, s), true);
    });
    left -= count;
    weightLeft -= sizeWeight[i] / totalWeight;
    full++;
  }
  if (full === half) return pack(rows, weights, M, true);
  // The rest: sample sizes by their kernel weight, members uniformly, and add each complement.
  const rest = sizeWeight.slice(full);
  const restTotal = rest.reduce((a, b) => a + b, 0);
  const seen = new Map<string, number>();
  const sampled: { row: number[]; count: number }[] = [];
  const perm = Int32Array.from({ length: M }, (_, i) => i);
  let drawn = 0;
  const draws = Math.max(2, left);
  for (let attempt = 0; drawn < draws && attempt < 20 * draws; attempt++) {
    if ((attempt & 255) === 255) yield;
    let u = rand() * restTotal;
    let i = 0;
    while (i < rest.length - 1 && u >= rest[i]) u -= rest[i++];
    const s = full + i + 1;
    for (let j = 0; j < s; j++) {
      const k = j + Math.floor(rand() * (M - j));
      [perm[j], perm[k]] = [perm[k], perm[j]];
    }
    const members = perm.slice(0, s);
    for (const complement of s !== M - s ? [false, true] : [false]) {
      const row = new Array<number>(M).fill(complement ? 1 : 0);
      for (const m of members) row[m] = complement ? 0 : 1;
      const key = row.join('');
      const at = seen.get(key);
      if (at !== undefined) sampled[at].count++;
      else {
        seen.set(key, sampled.length);
        sampled.push({ row, count: 1 });
      }
      drawn++;
    }
  }
  // The sampled rows share the kernel mass of the sizes not enumerated, in proportion to how often each came up.
  const mass = rest.reduce((a, b) => a + b, 0);
  for (const { row, count } of sampled) {
    rows.push(row);
    weights.push((mass * count) / drawn);
  }
  return pack(rows, weights, M, false);
}

function pack(rows: number[][], weights: number[], M: number, exact: boolean): Coalitions {
  const masks = new Float32Array(rows.length * M);
  rows.forEach((r, i) => masks.set(r, i * M));
  return { masks, weights: Float64Array.from(weights), exact };
}

/**
 * Weighted least squares for the Shapley values phi of M players given coalition scores:
 * minimise sum_i w_i (score_i - fb - z_i . phi)^2 subject to sum(phi) = fx - fb.
 */
export function solveShapley(
  masks: Float32Array,
  weights: Float64Array,
  scores: ArrayLike<number>,
  M: number,
  fx: number,
  fb: number,
): Float64Array {
  const delta = fx - fb;
  const D = M - 1;
  // Substitute phi_last = delta - sum(others): a free problem in D unknowns.
  const A = new Float64Array(D * D);
  const rhs = new Float64Array(D);
  const row = new Float64Array(D);
  for (let i = 0; i < weights.length; i++) {
    const zl = masks[i * M + D];
    for (let j = 0; j < D; j++) row[j] = masks[i * M + j] - zl;
    const t = scores[i] - fb - zl * delta;
    const w = weights[i];
    for (let a = 0; a < D; a++) {
      if (row[a] === 0) continue;
      rhs[a] += w * row[a] * t;
      for (let b = 0; b < D; b++) A[a * D + b] += w * row[a] * row[b];
    }
  }
  let trace = 0;
  for (let a = 0; a < D; a++) trace += A[a * D + a];
  // A whisper of ridge keeps the solve defined when sampling left a segment never toggled alone.
  for (let a = 0; a < D; a++) A[a * D + a] += 1e-10 * (trace / Math.max(1, D) || 1);
  const phi = new Float64Array(M);
  const x = solve(A, rhs, D);
  let sum = 0;
  for (let j = 0; j < D; j++) sum += phi[j] = x[j];
  phi[D] = delta - sum;
  return phi;
}

/** Gaussian elimination with partial pivoting (A is overwritten). */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r * n + col]) > Math.abs(A[pivot * n + col])) pivot = r;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [A[col * n + k], A[pivot * n + k]] = [A[pivot * n + k], A[col * n + k]];
      [x[col], x[pivot]] = [x[pivot], x[col]];
    }
    const p = A[col * n + col] || 1e-300;
    for (let r = col + 1; r < n; r++) {
      const f = A[r * n + col] / p;
      if (f === 0) continue;
      for (let k = col; k < n; k++) A[r * n + k] -= f * A[col * n + k];
      x[r] -= f * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= A[r * n + k] * x[k];
    x[r] = s / (A[r * n + r] || 1e-300);
  }
  return x;
}
