import * as tf from '@tensorflow/tfjs';
import { fail } from '../../../common';

/** A row-major float32 matrix: row i is data[i*cols .. (i+1)*cols). */
export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** An embedding result: N points of points.length / N coordinates each. */
export interface PointsLike {
  points: Float32Array;
  n: number;
}

/**
 * What the embedding techniques accept as a data matrix (N rows of D features): a tf.Tensor2D,
 * a row-major { data, rows, cols }, an array of rows, or an embedding result { points, n }.
 */
export type MatrixInput = tf.Tensor2D | DenseMatrix | ArrayLike<number>[] | PointsLike;

function isDense(x: unknown): x is DenseMatrix {
  const d = x as DenseMatrix;
  return !!d && d.data instanceof Float32Array && Number.isInteger(d.rows) && Number.isInteger(d.cols);
}

/**
 * Copies (or borrows, for a DenseMatrix) the input as a row-major Float32Array, checking shape and
 * finiteness. `who` names the calling function in error messages.
 */
export function toDense(x: MatrixInput, who: string, what = 'X'): DenseMatrix {
  let out: DenseMatrix;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) {
      fail(
        who,
        `${what} must be a 2-D tensor [N, D], got shape [${x.shape.join(', ')}] (flatten images first, ` +
          `e.g. x.reshape([N, -1]))`,
      );
    }
    out = { data: x.dataSync() as Float32Array, rows: x.shape[0], cols: x.shape[1] };
    if (!(out.data instanceof Float32Array)) out.data = Float32Array.from(out.data as ArrayLike<number>);
  } else if (!isDense(x) && (x as PointsLike).points instanceof Float32Array && Number.isInteger((x as PointsLike).n)) {
    const { points, n } = x as PointsLike;
    if (n < 1 || points.length % n !== 0)
      fail(who, `${what}.points has ${points.length} values, not a multiple of n = ${n}`);
    out = { data: points, rows: n, cols: points.length / n };
  } else if (isDense(x)) {
    if (x.data.length !== x.rows * x.cols) {
      fail(who, `${what}.data has ${x.data.length} values but rows*cols = ${x.rows}*${x.cols} = ${x.rows * x.cols}`);
    }
    out = x;
  } else if (Array.isArray(x)) {
    const rows = x.length;
    const cols = rows > 0 ? x[0].length : 0;
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      if (x[i].length !== cols) fail(who, `${what} row ${i} has ${x[i].length} values, row 0 has ${cols}`);
      for (let j = 0; j < cols; j++) data[i * cols + j] = x[i][j];
    }
    out = { data, rows, cols };
  } else {
    fail(
      who,
      `${what} must be a tf.Tensor2D, a { data: Float32Array, rows, cols } matrix, an array of rows, or an ` +
        `embedding result { points, n }`,
    );
  }
  if (out.rows < 1 || out.cols < 1) fail(who, `${what} is empty (shape [${out.rows}, ${out.cols}])`);
  const d = out.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      fail(
        who,
        `${what} contains ${d[i]} at row ${Math.floor(i / out.cols)}, column ${i % out.cols}; all values ` +
          `must be finite`,
      );
    }
  }
  return out;
}

/**
 * C = A (m x k) times B (k x n) on the active tfjs backend, as a Float32Array m x n.
 * Transposes are done by the caller: on the wasm backend tf.matMul's transpose flags are
 * an order of magnitude slower than an explicit transpose.
 */
export function gemm(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
  // Read the result outside tf.tidy: tidy walks a returned typed array element by element.
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
  try {
    return c.dataSync() as Float32Array;
  } finally {
    c.dispose();
  }
}

/** Transpose of a row-major rows x cols matrix. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) t[j * rows + i] = a[i * cols + j];
    }
  }
  return t;
}

/** Column means of a row-major matrix (float64 accumulation). */
export function columnMeans(m: DenseMatrix): Float64Array {
  const { data, rows, cols } = m;
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) mean[j] += data[o + j];
  }
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  return mean;
}

/** Copy of the matrix with the given column means subtracted. */
export function centered(m: DenseMatrix, mean: ArrayLike<number>): Float32Array {
  const { data, rows, cols } = m;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[o + j] = data[o + j] - mean[j];
  }
  return out;
}

/** x -= (u . x) u: takes out x's component along the unit vector u (one Gram-Schmidt step). */
export function projectOut(x: Float64Array, u: Float64Array): void {
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) d += u[i] * x[i];
  for (let i = 0; i < n; i++) x[i] -= d * u[i];
}

/** The squared length of x. */
export function sumOfSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}
