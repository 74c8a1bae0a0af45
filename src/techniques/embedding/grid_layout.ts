/**
 * Snap 2-D points to a rows x cols grid, one point per cell, minimising the total squared
 * displacement (the "t-SNE image grid"). Exact linear assignment (Jonker-Volgenant, warm-started
 * from an auction's prices) up to
 * `maxExact` points; beyond that the grid is cut into blocks of at most `maxExact` cells, points
 * are dealt to blocks by position (bands by y, then blocks by x), and each block is solved exactly.
 */
import { Cancellable, Work } from '../../runtime/cancel';
import { auctionSteps } from './numerics/auction';
import { lapjvSteps } from './numerics/lapjv';
import { embeddingRows, EmbeddingInput } from './trustworthiness';
import { checkChoice, checkInt, InternalError, fail } from '../../common';

export const GRID_METHODS = ['auto', 'exact', 'blocked'] as const;
export type GridMethod = (typeof GRID_METHODS)[number];

export interface GridLayoutOptions extends Cancellable {
  /** Grid rows and columns; rows * cols must be at least N. Default: the smallest square grid that fits. */
  rows?: number;
  cols?: number;
  /** 'auto' (default): 'exact' up to maxExact points, else 'blocked'. */
  method?: GridMethod;
  /** Largest problem solved as one assignment. Default 2500. */
  maxExact?: number;
}

export interface GridLayoutResult {
  /** cells[i] = row * cols + col of point i's cell. Row 0 holds the smallest y, column 0 the smallest x. */
  cells: Int32Array;
  rows: number;
  cols: number;
  /** 'exact': one optimal assignment; 'blocked': optimal within each block only. */
  method: 'exact' | 'blocked';
  /**
   * Total squared displacement, with the points scaled to the unit square and cells at ((c + 0.5)/cols, (r +
   * 0.5)/rows).
   */
  cost: number;
  blocks: number;
}

/** Exact assignment of points (unit-square coordinates ux, uy) to the listed cells; writes cells[]. */
async function assignExact(
  work: Work,
  ids: ArrayLike<number>,
  cellIds: ArrayLike<number>,
  ux: Float64Array,
  uy: Float64Array,
  rows: number,
  cols: number,
  cells: Int32Array,
): Promise<number> {
  const m = cellIds.length;
  const k = ids.length;
  // Rows beyond the points are dummies with zero cost, for cells left empty.
  const cost = new Float64Array(m * m);
  for (let a = 0; a < k; a++) {
    const px = ux[ids[a]];
    const py = uy[ids[a]];
    const o = a * m;
    for (let b = 0; b < m; b++) {
      const c = cellIds[b];
      const dx = px - ((c % cols) + 0.5) / cols;
      const dy = py - (Math.floor(c / cols) + 0.5) / rows;
      cost[o + b] = dx * dx + dy * dy;
    }
  }
  // An epsilon-scaling auction finds near-optimal duals fast; Jonker-Volgenant then finishes exactly.
  await work.tick();
  const sol = await work.steps(lapjvSteps(cost, m, await work.steps(auctionSteps(cost, m))));
  let total = 0;
  for (let a = 0; a < k; a++) {
    cells[ids[a]] = cellIds[sol.rowToCol[a]];
    total += cost[a * m + sol.rowToCol[a]];
  }
  return total;
}

/** Snap N 2-D points (an embedding result or an [N, 2] matrix) to a grid. */
export async function gridLayout(points: EmbeddingInput, opts: GridLayoutOptions = {}): Promise<GridLayoutResult> {
  const who = 'gridLayout';
  const P = embeddingRows(points, who, 'points');
  if (P.cols !== 2) fail(who, `points must be 2-D (N*2 values), got ${P.cols} values per point`);
  const n = P.rows;
  const side = Math.ceil(Math.sqrt(n));
  const cols = checkInt(who, 'cols', opts.cols ?? (opts.rows ? Math.ceil(n / opts.rows) : side));
  const rows = checkInt(who, 'rows', opts.rows ?? Math.ceil(n / cols));
  if (rows * cols < n)
    fail(who, `a ${rows} x ${cols} grid has ${rows * cols} cells for ${n} points; rows * cols must be at least N`);
  const maxExact = checkInt(who, 'maxExact', opts.maxExact ?? 2500);
  const requested = checkChoice(who, 'method', opts.method ?? 'auto', GRID_METHODS);
  const method = requested === 'auto' ? (rows * cols <= maxExact ? 'exact' : 'blocked') : requested;
  if (method === 'exact' && rows * cols > 20000) {
    fail(
      who,
      `method 'exact' on ${rows * cols} cells needs a ${rows * cols}^2 cost matrix; use 'blocked' (or ` +
        `'auto') above ${maxExact} cells`,
    );
  }
  const work = new Work(who, opts);
  // Unit-square coordinates (each axis min-max scaled).
  const ux = new Float64Array(n);
  const uy = new Float64Array(n);
  for (let d = 0; d < 2; d++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, P.data[2 * i + d]);
      hi = Math.max(hi, P.data[2 * i + d]);
    }
    const s = hi > lo ? 1 / (hi - lo) : 0;
    const out = d === 0 ? ux : uy;
    for (let i = 0; i < n; i++) out[i] = hi > lo ? (P.data[2 * i + d] - lo) * s : 0.5;
  }
  const cells = new Int32Array(n);
  if (method === 'exact') {
    const all = Int32Array.from({ length: rows * cols }, (_, c) => c);
    const cost = await assignExact(
      work,
      Int32Array.from({ length: n }, (_, i) => i),
      all,
      ux,
      uy,
      rows,
      cols,
      cells,
    );
    return { cells, rows, cols, method, cost, blocks: 1 };
  }
  // Blocks of bh x bw cells with bh * bw <= maxExact, as square as the grid allows.
  const bw = Math.max(1, Math.min(cols, Math.floor(Math.sqrt(maxExact))));
  const bh = Math.max(1, Math.min(rows, Math.floor(maxExact / bw)));
  const fill = n / (rows * cols);
  const byY = Array.from({ length: n }, (_, i) => i).sort((a, b) => uy[a] - uy[b] || ux[a] - ux[b]);
  let total = 0;
  let blocks = 0;
  let taken = 0;
  let cellsSoFar = 0;
  for (let r0 = 0; r0 < rows; r0 += bh) {
    const r1 = Math.min(rows, r0 + bh);
    // Each band takes its share of points, in y order, proportional to its cells.
    cellsSoFar += (r1 - r0) * cols;
    const bandEnd = r1 === rows ? n : Math.min(n, Math.round(cellsSoFar * fill));
    const band = byY.slice(taken, bandEnd).sort((a, b) => ux[a] - ux[b] || uy[a] - uy[b]);
    taken = bandEnd;
    let bandTaken = 0;
    let bandCells = 0;
    for (let c0 = 0; c0 < cols; c0 += bw) {
      const c1 = Math.min(cols, c0 + bw);
      bandCells += (r1 - r0) * (c1 - c0);
      const end =
        c1 === cols ? band.length : Math.min(band.length, Math.round((bandCells / ((r1 - r0) * cols)) * band.length));
      const ids = band.slice(bandTaken, end);
      bandTaken = end;
      const cellIds: number[] = [];
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) cellIds.push(r * cols + c);
      if (ids.length > cellIds.length)
        throw new InternalError(`${who}: block ${blocks} got ${ids.length} points for ${cellIds.length} cells`);
      if (ids.length > 0) total += await assignExact(work, ids, cellIds, ux, uy, rows, cols, cells);
      blocks++;
    }
  }
  return { cells, rows, cols, method: 'blocked', cost: total, blocks };
}
