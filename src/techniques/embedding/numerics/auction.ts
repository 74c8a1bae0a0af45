/**
 * Forward auction with epsilon scaling (Bertsekas 1988) for a dense square minimisation problem.
 * Used only to warm-start lapjv: its prices are near-optimal duals, after which Jonker-Volgenant's
 * augmentations, exact, have little left to do (on a 2,500-point grid layout, 1.6 s + 0.1 s
 * instead of 8 s cold).
 */

export interface AuctionResult {
  /** Column duals for lapjv (minus the auction prices). */
  v: Float64Array;
  /** Row -> column of the last phase (-1 where a phase was cut short). */
  rowToCol: Int32Array;
  bids: number;
}

export interface AuctionOptions {
  /** First and last bid increment, relative to the largest cost. Defaults 5e-3 and 5e-8. */
  epsStart?: number;
  epsEnd?: number;
  /** Increment divisor between phases. Default 8. */
  factor?: number;
  /** Bid budget per phase, in multiples of n (a guard against price wars). Default 400. */
  maxBidsPerRow?: number;
}

import { runSync, Steps } from '../../../runtime/cancel';

export function auction(cost: Float64Array, n: number, opts: AuctionOptions = {}): AuctionResult {
  return runSync(auctionSteps(cost, n, opts));
}

/** The auction as steps: it yields every 256 bids (about n * 256 operations), so it can pause. */
export function* auctionSteps(cost: Float64Array, n: number, opts: AuctionOptions = {}): Steps<AuctionResult> {
  let maxCost = 0;
  for (let e = 0; e < cost.length; e++) if (Math.abs(cost[e]) > maxCost) maxCost = Math.abs(cost[e]);
  const scale = maxCost > 0 ? maxCost : 1;
  let eps = (opts.epsStart ?? 5e-3) * scale;
  const epsEnd = (opts.epsEnd ?? 5e-8) * scale;
  const factor = opts.factor ?? 8;
  const budget = (opts.maxBidsPerRow ?? 400) * n;
  const p = new Float64Array(n);
  const owner = new Int32Array(n);
  const x = new Int32Array(n);
  const stack = new Int32Array(n);
  let bids = 0;
  for (;;) {
    owner.fill(-1);
    x.fill(-1);
    let sp = 0;
    for (let i = n - 1; i >= 0; i--) stack[sp++] = i;
    let phaseBids = 0;
    while (sp > 0 && phaseBids < budget) {
      const i = stack[--sp];
      const o = i * n;
      let best = Infinity;
      let second = Infinity;
      let jb = 0;
      for (let j = 0; j < n; j++) {
        const w = cost[o + j] + p[j];
        if (w < second) {
          if (w < best) {
            second = best;
            best = w;
            jb = j;
          } else {
            second = w;
          }
        }
      }
      // With a single column the second best is Infinity: bid just eps.
      p[jb] += (second === Infinity ? 0 : second - best) + eps;
      if ((++phaseBids & 255) === 0) yield;
      const prev = owner[jb];
      owner[jb] = i;
      x[i] = jb;
      if (prev >= 0) {
        x[prev] = -1;
        stack[sp++] = prev;
      }
    }
    bids += phaseBids;
    if (sp > 0 || eps <= epsEnd) break;
    eps = Math.max(epsEnd, eps / factor);
  }
  const v = new Float64Array(n);
  for (let j = 0; j < n; j++) v[j] = -p[j];
  return { v, rowToCol: x, bids };
}
