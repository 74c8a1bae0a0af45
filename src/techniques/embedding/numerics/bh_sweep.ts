/** The inner loop of the Barnes-Hut repulsion: one group's members against its interaction lists. */

/**
 * Forces on points [p0, p1) of the tree order from the group's interaction lists; writes them to
 * out by original index and returns their share of Z. A nearby leaf that the group as a whole
 * could not summarise may still pass the criterion for one member: then its centre stands in.
 */
export function sweep(
  sx: Float64Array,
  sy: Float64Array,
  p0: number,
  p1: number,
  perm: Int32Array,
  out: Float64Array,
  farX: Float64Array,
  farY: Float64Array,
  farM: Float64Array,
  nFar: number,
  nearX: Float64Array,
  nearY: Float64Array,
  nLeaves: number,
  leafFrom: Int32Array,
  leafCx: Float64Array,
  leafCy: Float64Array,
  leafM: Float64Array,
  leafCrit: Float64Array,
): number {
  let z = 0;
  for (let p = p0; p < p1; p++) {
    const xi = sx[p];
    const yi = sy[p];
    let fx = 0;
    let fy = 0;
    // The point's own leaf never passes the criterion, so the point meets itself once at distance 0:
    // that adds exactly 1 to zi and nothing to the force.
    let zi = -1;
    for (let c = 0; c < nFar; c++) {
      const dx = xi - farX[c];
      const dy = yi - farY[c];
      const q = 1 / (1 + dx * dx + dy * dy);
      const mq = farM[c] * q;
      zi += mq;
      const mq2 = mq * q;
      fx += mq2 * dx;
      fy += mq2 * dy;
    }
    for (let l = 0; l < nLeaves; l++) {
      const cx = xi - leafCx[l];
      const cy = yi - leafCy[l];
      const c2 = cx * cx + cy * cy;
      if (leafCrit[l] < c2) {
        const q = 1 / (1 + c2);
        const mq = leafM[l] * q;
        zi += mq;
        const mq2 = mq * q;
        fx += mq2 * cx;
        fy += mq2 * cy;
        continue;
      }
      const end = leafFrom[l + 1];
      for (let t = leafFrom[l]; t < end; t++) {
        const dx = xi - nearX[t];
        const dy = yi - nearY[t];
        const q = 1 / (1 + dx * dx + dy * dy);
        zi += q;
        const q2 = q * q;
        fx += q2 * dx;
        fy += q2 * dy;
      }
    }
    const i = perm[p];
    out[2 * i] = fx;
    out[2 * i + 1] = fy;
    z += zi;
  }
  return z;
}
