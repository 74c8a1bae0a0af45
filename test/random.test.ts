import * as assert from 'assert';
import { gaussian, mulberry32, normalSource } from '../src/common/random';

/** The standard normal CDF (erf by Abramowitz & Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  const erf = 1 - poly * Math.exp(-z * z);
  return 0.5 * (1 + (x >= 0 ? erf : -erf));
}

/** Kolmogorov-Smirnov distance of a sample from the standard normal. */
function ksDistance(xs: Float64Array): number {
  const s = Float64Array.from(xs).sort();
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = normalCdf(s[i]);
    d = Math.max(d, Math.abs(f - (i + 1) / s.length), Math.abs(f - i / s.length));
  }
  return d;
}

describe('common/random: the normal sources', function () {
  const n = 200000;
  // At n = 200000, a KS distance above 1.63 / sqrt(n) (0.0036) has probability 1% for a true normal sample.
  const ksLimit = 1.63 / Math.sqrt(n);

  it('the ziggurat source is standard normal: moments, tails and the whole distribution (KS)', () => {
    const next = normalSource(mulberry32(11));
    const xs = Float64Array.from({ length: n }, next);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const kurtosis = xs.reduce((a, b) => a + (b - mean) ** 4, 0) / n / variance ** 2;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
    assert.ok(Math.abs(kurtosis - 3) < 0.1, `kurtosis ${kurtosis}`);
    // Beyond the ziggurat's base (3.44) the tail algorithm runs: 0.058% of samples, about 115 here.
    const tail = xs.filter((x) => Math.abs(x) > 3.442619855899).length;
    assert.ok(tail > 60 && tail < 180, `${tail} samples beyond 3.44`);
    const d = ksDistance(xs);
    assert.ok(d < ksLimit, `KS distance ${d.toFixed(5)} >= ${ksLimit.toFixed(5)}`);
  });

  it('the test can fail: a uniform source of the same variance is rejected', () => {
    const u = mulberry32(11);
    const xs = Float64Array.from({ length: n }, () => (u() - 0.5) * Math.sqrt(12));
    assert.ok(ksDistance(xs) > 10 * ksLimit);
  });

  it('same seed, same sequence; another seed, another one; Box-Muller agrees in distribution', () => {
    const a = normalSource(mulberry32(5));
    const b = normalSource(mulberry32(5));
    const c = normalSource(mulberry32(6));
    const first = Array.from({ length: 1000 }, a);
    assert.deepStrictEqual(Array.from({ length: 1000 }, b), first);
    assert.notDeepStrictEqual(Array.from({ length: 1000 }, c), first);
    const g = mulberry32(5);
    assert.ok(ksDistance(Float64Array.from({ length: n }, () => gaussian(g))) < ksLimit);
  });
});
