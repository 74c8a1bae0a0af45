// Technique results in the shapes the techniques return them (and a few plain variants),
// turned into the inputs of the renderers, with errors that say which shapes are accepted.
import * as tf from '@tensorflow/tfjs';
import { isTensor, toNumbers } from './tensors';

export interface NeighborLists { indices: number[][]; distances?: number[][] }

/**
 * nearestNeighbors output: { indices: Int32Array (n*k), distances, k, n }, or nested arrays
 * { indices: number[][] }, or [{ indices, distances }] per query, or [N, k] tensors.
 */
export function neighborLists(r: unknown, what = 'neighbours'): NeighborLists {
  const fail = (): never => {
    throw new Error(`${what}: expected nearestNeighbors output { indices, distances, k }, ` +
      `{ indices: number[][] }, or [{ indices, distances }] per query`);
  };
  const rows = (v: unknown, k?: number): number[][] | undefined => {
    if (v === undefined) return undefined;
    if (isTensor(v)) {
      if (v.rank !== 2) fail();
      return (v as tf.Tensor2D).arraySync() as number[][];
    }
    if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'object')) return (v as ArrayLike<number>[]).map((a) => Array.from(a));
    const flat = Array.from(toNumbers(v as ArrayLike<number>, what));
    if (!k) fail();
    const out: number[][] = [];
    for (let i = 0; i < flat.length; i += k as number) out.push(flat.slice(i, i + (k as number)));
    return out;
  };
  if (Array.isArray(r)) {
    const list = r as { indices: ArrayLike<number>; distances?: ArrayLike<number> }[];
    if (!list.every((q) => q && q.indices)) fail();
    return {
      indices: list.map((q) => Array.from(q.indices)),
      distances: list.every((q) => q.distances) ? list.map((q) => Array.from(q.distances as ArrayLike<number>)) : undefined,
    };
  }
  if (!r || typeof r !== 'object' || !('indices' in r)) return fail();
  const o = r as { indices: unknown; distances?: unknown; k?: number };
  const indices = rows(o.indices, o.k) as number[][];
  return { indices, distances: rows(o.distances, o.k) };
}

export interface GridCells { cells: Int32Array; rows: number; cols: number }

/**
 * gridLayout output: { cells | assignment | cell | indices, rows, cols } (cell per point),
 * or [{ row, col }] per point, or a cell array with rows/cols from the options.
 */
export function gridCells(r: unknown, opts: { rows?: number; cols?: number }): GridCells {
  const shapes = 'expected gridLayout output { cells, rows, cols } (cell = row * cols + col per point), [{ row, col }] per point, or a cell array with { rows, cols }';
  let rows = opts.rows;
  let cols = opts.cols;
  let cells: ArrayLike<number> | undefined;
  if (Array.isArray(r) && r.length > 0 && typeof r[0] === 'object') {
    const pts = r as { row: number; col: number }[];
    rows = rows ?? Math.max(...pts.map((p) => p.row)) + 1;
    cols = cols ?? Math.max(...pts.map((p) => p.col)) + 1;
    const c = cols;
    return { cells: Int32Array.from(pts.map((p) => (p.row < 0 || p.col < 0 ? -1 : p.row * c + p.col))), rows, cols };
  }
  if (r && typeof r === 'object' && !isTensor(r) && !ArrayBuffer.isView(r) && !Array.isArray(r)) {
    const o = r as Record<string, unknown>;
    rows = rows ?? (o.rows as number);
    cols = cols ?? (o.cols as number);
    const v = o.cells ?? o.assignment ?? o.cell ?? o.indices;
    if (v === undefined) throw new Error(`grid: ${shapes}`);
    if (Array.isArray(v) && typeof v[0] === 'object') return gridCells(v, { rows, cols });
    cells = toNumbers(v as ArrayLike<number>, 'grid cells');
  } else {
    cells = toNumbers(r as ArrayLike<number>, 'grid cells');
  }
  if (!rows || !cols) throw new Error(`grid: rows and cols are missing; ${shapes}`);
  return { cells: Int32Array.from(cells), rows, cols };
}

export interface OcclusionParts {
  map: tf.Tensor | { data: ArrayLike<number>; height: number; width: number };
  window?: number | [number, number];
  stride?: number | [number, number];
  ys?: number[];
  xs?: number[];
  baseline?: number;
}

/**
 * occlusion output: a [rows, cols] tensor, or { map | heatmap | probabilities | probs,
 * positions: { ys, xs } | [{ y, x }], window, stride, baseline | original | unoccluded }.
 */
export function occlusionParts(r: unknown, opts: Partial<OcclusionParts>): OcclusionParts {
  if (isTensor(r)) return { ...opts, map: squeezeLeading(r) };
  if (!r || typeof r !== 'object') throw new Error('occlusion: expected a [rows, cols] tensor or the occlusion() result { map, positions, window, stride, baseline }');
  const o = r as Record<string, unknown>;
  const map = (o.map ?? o.heatmap ?? o.probabilities ?? o.probs ?? o.probability) as OcclusionParts['map'] | undefined;
  if (!map) throw new Error(`occlusion: result has no map; looked for map, heatmap, probabilities, probs (keys: ${Object.keys(o).join(', ')})`);
  const arr = (v: unknown): number[] | undefined =>
    v && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number' && !isTensor(v) ? Array.from(v as ArrayLike<number>) : undefined;
  // occlusion() gives the top row of each row of positions (rows) and left column of each column (cols)
  let ys = opts.ys ?? arr(o.ys) ?? arr(o.rows);
  let xs = opts.xs ?? arr(o.xs) ?? arr(o.cols);
  const pos = o.positions as unknown;
  if ((!ys || !xs) && pos) {
    if (Array.isArray(pos) && typeof pos[0] === 'object') {
      const pts = pos as { y: number; x: number }[];
      ys = [...new Set(pts.map((p) => p.y))].sort((a, b) => a - b);
      xs = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
    } else if (typeof pos === 'object') {
      const p = pos as { ys?: ArrayLike<number>; xs?: ArrayLike<number>; rows?: ArrayLike<number>; cols?: ArrayLike<number> };
      ys = Array.from(p.ys ?? p.rows ?? []);
      xs = Array.from(p.xs ?? p.cols ?? []);
    }
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : isTensor(v) ? (v.dataSync() as Float32Array)[0] : arr(v)?.[0]);
  return {
    map: isTensor(map) ? squeezeLeading(map) : map,
    ys: ys && ys.length ? ys : undefined,
    xs: xs && xs.length ? xs : undefined,
    window: opts.window ?? (o.window as OcclusionParts['window']),
    stride: opts.stride ?? (o.stride as OcclusionParts['stride']),
    baseline: opts.baseline ?? num(o.baseline ?? o.score ?? o.original ?? o.unoccluded ?? o.baseProbability),
  };
}

/** A batch of one ([1, rows, cols]) as [rows, cols]; a larger batch is an error. */
function squeezeLeading(t: tf.Tensor): OcclusionParts['map'] {
  if (t.rank === 3) {
    if (t.shape[0] !== 1) throw new Error(`occlusion map has shape [${t.shape.join(', ')}]; show one image at a time ([rows, cols] or [1, rows, cols])`);
    return { height: t.shape[1] as number, width: t.shape[2] as number, data: t.dataSync() as Float32Array };
  }
  return t;
}
