/** Small seedable PRNG (mulberry32): same seed, same sequence, on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates permutation of 0..n-1 from a seed. */
export function permutation(n: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Standard normal sample from a uniform source (Box-Muller). */
export function gaussian(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// The ziggurat of Marsaglia & Tsang (2000), 128 layers: a normal sample costs one 32-bit uniform and a table
// lookup 99% of the time; the rest take the exact rejection steps below.
const ZIG_R = 3.442619855899;
const zigK = new Float64Array(128);
const zigW = new Float64Array(128);
const zigF = new Float64Array(128);
{
  const v = 9.91256303526217e-3;
  const m1 = 2147483648;
  let dn = ZIG_R;
  let tn = dn;
  const q = v / Math.exp(-0.5 * dn * dn);
  zigK[0] = (dn / q) * m1;
  zigK[1] = 0;
  zigW[0] = q / m1;
  zigW[127] = dn / m1;
  zigF[0] = 1;
  zigF[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(v / dn + Math.exp(-0.5 * dn * dn)));
    zigK[i + 1] = (dn / tn) * m1;
    tn = dn;
    zigF[i] = Math.exp(-0.5 * dn * dn);
    zigW[i] = dn / m1;
  }
}

/**
 * A standard normal source from a uniform one (ziggurat): several times faster than gaussian(),
 * for the millions of samples of SmoothGrad's noise. Same uniform source, same sequence.
 */
export function normalSource(rand: () => number): () => number {
  const int32 = (): number => (rand() * 4294967296) | 0;
  const positive = (): number => {
    let u = 0;
    while (u === 0) u = rand();
    return u;
  };
  return () => {
    let hz = int32();
    let iz = hz & 127;
    if (Math.abs(hz) < zigK[iz]) return hz * zigW[iz];
    for (;;) {
      const x = hz * zigW[iz];
      if (iz === 0) {
        // The tail beyond R.
        let t: number;
        let y: number;
        do {
          t = -Math.log(positive()) / ZIG_R;
          y = -Math.log(positive());
        } while (y + y < t * t);
        return hz > 0 ? ZIG_R + t : -ZIG_R - t;
      }
      if (zigF[iz] + rand() * (zigF[iz - 1] - zigF[iz]) < Math.exp(-0.5 * x * x)) return x;
      hz = int32();
      iz = hz & 127;
      if (Math.abs(hz) < zigK[iz]) return hz * zigW[iz];
    }
  };
}
