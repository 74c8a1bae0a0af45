/**
 * Jonker-Volgenant linear assignment (Jonker & Volgenant 1987) for a dense square cost matrix:
 * column reduction, reduction transfer, optional passes of augmenting row reduction, then shortest
 * augmenting paths (Dijkstra over columns with dual prices). Exact: returns a minimum-cost
 * assignment. O(n^3) in the worst case, far less on geometric costs.
 */
import { runSync, Steps } from '../../../runtime/cancel';
import { InternalError } from '../../../common';

export interface Assignment {
  /** rowToCol[i]: the column given to row i. */
  rowToCol: Int32Array;
  /** colToRow[j]: the row holding column j. */
  colToRow: Int32Array;
  cost: number;
}

/** Minimum-cost perfect matching of rows to columns; cost is row-major n x n. */
/** A starting point for lapjv: column duals v and a (partial) assignment, e.g. from an auction. */
export interface WarmStart {
  v: Float64Array;
  rowToCol: Int32Array;
}

/**
 * Minimum-cost perfect matching of rows to columns; cost is row-major n x n. With `warm`, the
 * given duals replace the column reduction and every given pair that is exactly optimal for its
 * row under those duals is kept; the remaining rows are matched by shortest augmenting paths.
 */
export function lapjv(cost: Float64Array, n: number, warm?: WarmStart, rowReductionPasses = 0): Assignment {
  return runSync(lapjvSteps(cost, n, warm, rowReductionPasses));
}

/** lapjv as steps: it yields after each augmenting path and every 64 rows of set-up, so it can pause. */
export function* lapjvSteps(
  cost: Float64Array,
  n: number,
  warm?: WarmStart,
  rowReductionPasses = 0,
): Steps<Assignment> {
  if (cost.length !== n * n)
    throw new InternalError(`lapjv: expected ${n * n} costs for ${n} x ${n}, got ${cost.length}`);
  const x = new Int32Array(n).fill(-1);
  const y = new Int32Array(n).fill(-1);
  const v = new Float64Array(n);
  if (n === 0) return { rowToCol: x, colToRow: y, cost: 0 };
  const free = new Int32Array(n);
  let numFree = 0;
  if (warm) {
    v.set(warm.v);
    for (let i = 0; i < n; i++) {
      if ((i & 63) === 63) yield;
      const j1 = warm.rowToCol[i];
      const o = i * n;
      let min = Infinity;
      for (let j = 0; j < n; j++) if (cost[o + j] - v[j] < min) min = cost[o + j] - v[j];
      // Keep the pair only if it satisfies complementary slackness exactly (the augmentations rely on it).
      if (j1 >= 0 && y[j1] < 0 && cost[o + j1] - v[j1] <= min) {
        x[i] = j1;
        y[j1] = i;
      } else {
        free[numFree++] = i;
      }
    }
  } else {
    numFree = reduceColumns(cost, n, x, y, v, free);
  }

  // Augmenting row reduction (the paper's heuristic) is off by default: on dense point-to-grid costs,
  // where near-ties abound, it cost more time than the augmentations it saved.
  for (let pass = 0; pass < rowReductionPasses && numFree > 0; pass++) {
    let k = 0;
    const before = numFree;
    numFree = 0;
    let guard = 0;
    while (k < before) {
      const i = free[k++];
      const o = i * n;
      let u1 = Infinity;
      let u2 = Infinity;
      let j1 = -1;
      let j2 = -1;
      for (let j = 0; j < n; j++) {
        const h = cost[o + j] - v[j];
        if (h < u2) {
          if (h >= u1) {
            u2 = h;
            j2 = j;
          } else {
            u2 = u1;
            j2 = j1;
            u1 = h;
            j1 = j;
          }
        }
      }
      let i0 = y[j1];
      const strict = u1 < u2;
      if (strict) v[j1] -= u2 - u1;
      else if (i0 >= 0 && j2 >= 0) {
        j1 = j2;
        i0 = y[j1];
      }
      x[i] = j1;
      y[j1] = i;
      if (i0 >= 0) {
        x[i0] = -1;
        // Re-examine the displaced row at once when prices moved, else later; bounded to avoid cycling on ties.
        if (strict && ++guard < 100 * n) free[--k] = i0;
        else free[numFree++] = i0;
      }
    }
  }

  // Shortest augmenting paths for the rows still free.
  const d = new Float64Array(n);
  const pred = new Int32Array(n);
  const col = new Int32Array(n);
  for (let f = 0; f < numFree; f++) {
    yield;
    const start = free[f];
    const so = start * n;
    for (let j = 0; j < n; j++) {
      d[j] = cost[so + j] - v[j];
      pred[j] = start;
      col[j] = j;
    }
    let low = 0;
    let up = 0;
    let last = 0;
    let min = 0;
    let end = -1;
    while (end < 0) {
      if (up === low) {
        last = low;
        min = d[col[up++]];
        for (let k = up; k < n; k++) {
          const j = col[k];
          const h = d[j];
          if (h <= min) {
            if (h < min) {
              up = low;
              min = h;
            }
            col[k] = col[up];
            col[up++] = j;
          }
        }
        for (let k = low; k < up; k++) {
          if (y[col[k]] < 0) {
            end = col[k];
            break;
          }
        }
      }
      if (end >= 0) break;
      const j1 = col[low++];
      const i = y[j1];
      const o = i * n;
      const u1 = cost[o + j1] - v[j1] - min;
      for (let k = up; k < n; k++) {
        const j = col[k];
        const h = cost[o + j] - v[j] - u1;
        if (h < d[j]) {
          d[j] = h;
          pred[j] = i;
          if (h === min) {
            if (y[j] < 0) {
              end = j;
              break;
            }
            col[k] = col[up];
            col[up++] = j;
          }
        }
      }
    }
    for (let k = 0; k < last; k++) {
      const j = col[k];
      v[j] += d[j] - min;
    }
    for (;;) {
      const i = pred[end];
      y[end] = i;
      const next = x[i];
      x[i] = end;
      if (i === start) break;
      end = next;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * n + x[i]];
  return { rowToCol: x, colToRow: y, cost: total };
}

/** Column reduction and reduction transfer; fills x, y, v and the free rows, returns their count. */
function reduceColumns(
  cost: Float64Array,
  n: number,
  x: Int32Array,
  y: Int32Array,
  v: Float64Array,
  free: Int32Array,
): number {
  const colMin = new Float64Array(n).fill(Infinity);
  const colArg = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) {
      if (cost[o + j] < colMin[j]) {
        colMin[j] = cost[o + j];
        colArg[j] = i;
      }
    }
  }
  const matches = new Int32Array(n);
  for (let j = n - 1; j >= 0; j--) {
    v[j] = colMin[j];
    const i = colArg[j];
    if (matches[i]++ === 0) {
      x[i] = j;
      y[j] = i;
    }
  }
  let numFree = 0;
  for (let i = 0; i < n; i++) {
    if (matches[i] === 0) {
      free[numFree++] = i;
    } else if (matches[i] === 1) {
      const j1 = x[i];
      const o = i * n;
      let mu = Infinity;
      for (let j = 0; j < n; j++) if (j !== j1 && cost[o + j] - v[j] < mu) mu = cost[o + j] - v[j];
      if (mu !== Infinity) v[j1] -= mu;
    }
  }
  return numFree;
}
