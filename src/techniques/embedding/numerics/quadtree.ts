/**
 * Barnes-Hut quadtree for t-SNE repulsion, on typed arrays and rebuilt every iteration.
 * Cells far enough away (side / distance < theta) act as one point at their centre of mass.
 * The points of a leaf (up to LEAF_SIZE) walk the tree together; cells far from the whole group
 * enter through a first-order expansion about the group's centre, the rest through per-point
 * interaction lists (see bh_sweep.ts).
 */
import { sweep } from './bh_sweep';

const LEAF_SIZE = 16;
const MAX_DEPTH = 48;

export class QuadTree {
  private cap = 0;
  private cx = new Float64Array(0);
  private cy = new Float64Array(0);
  private cnt = new Float64Array(0);
  /** (side / theta)^2: a cell is summarised when this is below the squared distance. */
  private crit = new Float64Array(0);
  private childStart = new Int32Array(0);
  private childCount = new Int32Array(0);
  private ptStart = new Int32Array(0);
  private ptEnd = new Int32Array(0);
  private nodes = 0;
  private perm: Int32Array;
  /** Point coordinates in tree order, so leaves read contiguous memory. */
  private sx: Float64Array;
  private sy: Float64Array;
  private stack = new Int32Array(4 * MAX_DEPTH + 16);
  private leaves = new Int32Array(0);
  private leafCount = 0;
  private maxLeaf = 0;
  // Interaction lists of one group: summarised cells (x, y, mass) and nearby points (x, y).
  private farX = new Float64Array(1024);
  private farY = new Float64Array(1024);
  private farM = new Float64Array(1024);
  private nearX = new Float64Array(4096);
  private nearY = new Float64Array(4096);
  // Nearby leaves: their points are nearX/Y[leafFrom[k] .. leafFrom[k + 1]); centre, mass and criterion for a
  // per-point test.
  private leafFrom = new Int32Array(1025);
  private leafCx = new Float64Array(1024);
  private leafCy = new Float64Array(1024);
  private leafM = new Float64Array(1024);
  private leafCrit = new Float64Array(1024);
  private theta2 = 0.25;
  /** A summarised cell uses the group expansion when (group radius / distance)^2 < 1 / expandFactor. */
  expandFactor = 1 / (0.3 * 0.3);

  constructor(readonly n: number) {
    this.perm = new Int32Array(n);
    this.sx = new Float64Array(n);
    this.sy = new Float64Array(n);
    this.grow(Math.max(64, Math.ceil(n / 2)));
  }

  private grow(cap: number): void {
    const copyF = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.nodes));
      return b;
    };
    const copyI = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a.subarray(0, this.nodes));
      return b;
    };
    this.cx = copyF(this.cx);
    this.cy = copyF(this.cy);
    this.cnt = copyF(this.cnt);
    this.crit = copyF(this.crit);
    this.childStart = copyI(this.childStart);
    this.childCount = copyI(this.childCount);
    this.ptStart = copyI(this.ptStart);
    this.ptEnd = copyI(this.ptEnd);
    this.cap = cap;
  }

  /** Builds the tree over points y (interleaved x, y; n points). */
  build(y: Float64Array, theta: number): void {
    const n = this.n;
    this.theta2 = theta * theta;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const a = y[2 * i];
      const b = y[2 * i + 1];
      if (a < x0) x0 = a;
      if (a > x1) x1 = a;
      if (b < y0) y0 = b;
      if (b > y1) y1 = b;
      this.perm[i] = i;
    }
    const side = Math.max(x1 - x0, y1 - y0, 1e-12) * (1 + 1e-9);
    this.nodes = 1;
    this.leafCount = 0;
    this.maxLeaf = 0;
    if (this.leaves.length < n) this.leaves = new Int32Array(n);
    this.buildNode(0, y, 0, n, x0, y0, side, 0);
    for (let s = 0; s < n; s++) {
      const i = this.perm[s];
      this.sx[s] = y[2 * i];
      this.sy[s] = y[2 * i + 1];
    }
  }

  private buildNode(
    node: number,
    y: Float64Array,
    start: number,
    end: number,
    x0: number,
    y0: number,
    side: number,
    depth: number,
  ): void {
    const perm = this.perm;
    let sumX = 0;
    let sumY = 0;
    for (let s = start; s < end; s++) {
      const i = perm[s];
      sumX += y[2 * i];
      sumY += y[2 * i + 1];
    }
    const count = end - start;
    this.cx[node] = sumX / count;
    this.cy[node] = sumY / count;
    this.cnt[node] = count;
    this.crit[node] = (side * side) / this.theta2;
    this.ptStart[node] = start;
    this.ptEnd[node] = end;
    if (count <= LEAF_SIZE || depth >= MAX_DEPTH) {
      this.childCount[node] = 0;
      this.leaves[this.leafCount++] = node;
      if (count > this.maxLeaf) this.maxLeaf = count;
      return;
    }
    const half = side / 2;
    const xm = x0 + half;
    const ym = y0 + half;
    // Partition [start, end) by y, then each half by x: quadrants (lo y, lo x), (lo y, hi x), (hi y, lo x), (hi y, hi
    // x).
    const splitY = partition(perm, y, start, end, 1, ym);
    const splitA = partition(perm, y, start, splitY, 0, xm);
    const splitB = partition(perm, y, splitY, end, 0, xm);
    const bounds = [start, splitA, splitY, splitB, end];
    let kids = 0;
    for (let q = 0; q < 4; q++) if (bounds[q + 1] > bounds[q]) kids++;
    if (this.nodes + kids > this.cap) this.grow(Math.max(this.cap * 2, this.nodes + kids));
    const first = this.nodes;
    this.nodes += kids;
    this.childStart[node] = first;
    this.childCount[node] = kids;
    let c = first;
    for (let q = 0; q < 4; q++) {
      if (bounds[q + 1] === bounds[q]) continue;
      const qx = q & 1 ? xm : x0;
      const qy = q & 2 ? ym : y0;
      this.buildNode(c++, y, bounds[q], bounds[q + 1], qx, qy, half, depth + 1);
    }
  }

  /**
   * Unnormalised repulsion: for every point i, out[2i..2i+1] = sum_j q_ij^2 (y_i - y_j) with
   * q_ij = 1 / (1 + |y_i - y_j|^2), approximated by cells. Returns Z = sum_{i != j} q_ij.
   *
   * The points of each leaf walk the tree together: a cell is summarised for the whole group
   * when it passes the criterion measured from the group's bounding box (so it passes for every
   * member). The walk only collects interaction lists (summarised cells, nearby points) into
   * contiguous arrays; each member then sweeps the lists with its sums in registers.
   */
  repulsion(out: Float64Array): number {
    const { cx, cy, cnt, crit, childStart, childCount, ptStart, ptEnd, sx, sy, perm, stack, leaves } = this;
    let z = 0;
    for (let li = 0; li < this.leafCount; li++) {
      const leaf = leaves[li];
      const s0 = ptStart[leaf];
      const g = ptEnd[leaf] - s0;
      let gx0 = Infinity;
      let gx1 = -Infinity;
      let gy0 = Infinity;
      let gy1 = -Infinity;
      for (let p = s0; p < s0 + g; p++) {
        const a = sx[p];
        const b = sy[p];
        if (a < gx0) gx0 = a;
        if (a > gx1) gx1 = a;
        if (b < gy0) gy0 = b;
        if (b > gy1) gy1 = b;
      }
      let nFar = 0;
      let nNear = 0;
      let nLeaves = 0;
      // First-order Taylor expansion, about the group's centre, of the field of cells far from the
      // whole group: value and gradient of Z, value and Jacobian of the force.
      const gcx = (gx0 + gx1) / 2;
      const gcy = (gy0 + gy1) / 2;
      const gr2 = ((gx1 - gx0) * (gx1 - gx0) + (gy1 - gy0) * (gy1 - gy0)) / 4;
      const expandBeyond = gr2 * this.expandFactor;
      let ez = 0;
      let ezx = 0;
      let ezy = 0;
      let efx = 0;
      let efy = 0;
      let jxx = 0;
      let jxy = 0;
      let jyy = 0;
      let sp = 0;
      stack[sp++] = 0;
      while (sp > 0) {
        const nd = stack[--sp];
        const ccx = cx[nd];
        const ccy = cy[nd];
        const ox = ccx < gx0 ? gx0 - ccx : ccx > gx1 ? ccx - gx1 : 0;
        const oy = ccy < gy0 ? gy0 - ccy : ccy > gy1 ? ccy - gy1 : 0;
        if (crit[nd] < ox * ox + oy * oy) {
          const rx = gcx - ccx;
          const ry = gcy - ccy;
          const r2 = rx * rx + ry * ry;
          if (expandBeyond < r2) {
            const m = cnt[nd];
            const q = 1 / (1 + r2);
            const mq = m * q;
            const mq2 = mq * q;
            const mq3 = 4 * mq2 * q;
            ez += mq;
            ezx -= 2 * mq2 * rx;
            ezy -= 2 * mq2 * ry;
            efx += mq2 * rx;
            efy += mq2 * ry;
            jxx += mq2 - mq3 * rx * rx;
            jxy -= mq3 * rx * ry;
            jyy += mq2 - mq3 * ry * ry;
            continue;
          }
          if (nFar === this.farX.length) this.growFar();
          this.farX[nFar] = ccx;
          this.farY[nFar] = ccy;
          this.farM[nFar++] = cnt[nd];
          continue;
        }
        const kids = childCount[nd];
        if (kids === 0) {
          const t0 = ptStart[nd];
          const t1 = ptEnd[nd];
          while (nNear + (t1 - t0) > this.nearX.length) this.growNear();
          if (nLeaves + 1 >= this.leafCx.length) this.growLeaves();
          this.leafFrom[nLeaves] = nNear;
          this.leafCx[nLeaves] = ccx;
          this.leafCy[nLeaves] = ccy;
          this.leafM[nLeaves] = cnt[nd];
          this.leafCrit[nLeaves++] = crit[nd];
          for (let t = t0; t < t1; t++) {
            this.nearX[nNear] = sx[t];
            this.nearY[nNear++] = sy[t];
          }
        } else {
          const c0 = childStart[nd];
          for (let c = c0 + kids - 1; c >= c0; c--) stack[sp++] = c;
        }
      }
      this.leafFrom[nLeaves] = nNear;
      z += sweep(
        sx,
        sy,
        s0,
        s0 + g,
        perm,
        out,
        this.farX,
        this.farY,
        this.farM,
        nFar,
        this.nearX,
        this.nearY,
        nLeaves,
        this.leafFrom,
        this.leafCx,
        this.leafCy,
        this.leafM,
        this.leafCrit,
      );
      if (ez !== 0) {
        for (let p = s0; p < s0 + g; p++) {
          const dx = sx[p] - gcx;
          const dy = sy[p] - gcy;
          const i2 = 2 * perm[p];
          out[i2] += efx + jxx * dx + jxy * dy;
          out[i2 + 1] += efy + jxy * dx + jyy * dy;
          z += ez + ezx * dx + ezy * dy;
        }
      }
    }
    return z;
  }

  private growFar(): void {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.farX = grow(this.farX);
    this.farY = grow(this.farY);
    this.farM = grow(this.farM);
  }

  private growLeaves(): void {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    const from = new Int32Array(this.leafFrom.length * 2);
    from.set(this.leafFrom);
    this.leafFrom = from;
    this.leafCx = grow(this.leafCx);
    this.leafCy = grow(this.leafCy);
    this.leafM = grow(this.leafM);
    this.leafCrit = grow(this.leafCrit);
  }

  private growNear(): void {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.nearX = grow(this.nearX);
    this.nearY = grow(this.nearY);
  }
}

/** Moves points with coordinate `axis` below `split` to the front of [start, end); returns the boundary. */
function partition(perm: Int32Array, y: Float64Array, start: number, end: number, axis: number, split: number): number {
  let a = start;
  let b = end - 1;
  while (a <= b) {
    if (y[2 * perm[a] + axis] < split) {
      a++;
    } else {
      const t = perm[a];
      perm[a] = perm[b];
      perm[b] = t;
      b--;
    }
  }
  return a;
}
