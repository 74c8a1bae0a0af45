/**
 * `npm run bench -- gemm [--batch 13] [--runs 3]`: MobileNet v1 0.75's pointwise (1x1) convolutions at 224, as the
 * fused conv + bias + ReLU6 a folded network runs and as their input gradient, on three loops in one run: XNNPACK's
 * (the wasm backend's built-in), ours with a multiply and an add, and ours with relaxed SIMD's fused multiply-add
 * (runtime/kernels/gemm). Prints milliseconds and billions of multiply-adds a second per shape and in all, with the
 * largest difference from XNNPACK's output. Writes bench/results/gemm.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { GemmFlavour, gemmInUse, setGemmFlavour } from '../src/runtime/kernels/gemm';
import { arg, median } from './_args';

/** [side, input channels, output channels, how many such layers] of MobileNet v1 0.75's pointwise layers. */
const LAYERS: [number, number, number, number][] = [
  [112, 24, 48, 1],
  [56, 48, 96, 1],
  [56, 96, 96, 1],
  [28, 96, 192, 1],
  [28, 192, 192, 1],
  [14, 192, 384, 1],
  [14, 384, 384, 5],
  [7, 384, 768, 1],
  [7, 768, 768, 1],
];

const SIDES: { name: string; flavour: GemmFlavour }[] = [
  { name: 'XNNPACK', flavour: 'off' },
  { name: 'own, mul + add', flavour: 'plain' },
  { name: 'own, fused (relaxed SIMD)', flavour: 'auto' },
];

export async function main(args: string[]): Promise<void> {
  const batch = Number(arg(args, 'batch', '13'));
  const runs = Number(arg(args, 'runs', '3'));
  await setup({ backend: 'wasm', quiet: true, threads: 1 });
  setGemmFlavour('auto');
  const fused = gemmInUse() === 'fma';
  console.log(
    `gemm bench: MobileNet v1 0.75 pointwise layers, batch ${batch}, 1 thread, median of ${runs}; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; relaxed SIMD ${fused ? 'on' : 'not available: the last column repeats the plain loop'}`,
  );
  const rows: Record<string, unknown>[] = [];
  const totals = SIDES.map(() => ({ forward: 0, gradient: 0 }));
  let macs = 0;
  for (const [side, ci, co, count] of LAYERS) {
    const x = tf.randomUniform([batch, side, side, ci], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([1, 1, ci, co], -0.2, 0.2, 'float32', 2) as tf.Tensor4D;
    const bias = tf.randomUniform([co], -0.5, 0.5, 'float32', 3) as tf.Tensor1D;
    const dy = tf.randomUniform([batch, side, side, co], -1, 1, 'float32', 4) as tf.Tensor4D;
    const layerMacs = batch * side * side * ci * co;
    macs += layerMacs * count;
    const forward = (): tf.Tensor =>
      tf.fused.conv2d({ x, filter: w, bias, activation: 'relu6', strides: 1, pad: 'same' });
    const gradient = (): tf.Tensor => tf.conv2dTranspose(dy, w, x.shape, 1, 'same');
    const times: { forward: number; gradient: number }[] = [];
    let reference: Float32Array[] = [];
    let maxDiff = 0;
    for (const [s, { flavour }] of SIDES.entries()) {
      setGemmFlavour(flavour);
      const t: { forward: number; gradient: number } = { forward: 0, gradient: 0 };
      for (const [pass, fn] of [
        ['forward', forward],
        ['gradient', gradient],
      ] as const) {
        tf.dispose(fn()); // warm-up: packing, operator creation, tier-up
        const ms: number[] = [];
        let out = new Float32Array(0);
        for (let r = 0; r < runs; r++) {
          const t0 = performance.now();
          const y = fn();
          out = y.dataSync() as Float32Array;
          ms.push(performance.now() - t0);
          y.dispose();
        }
        t[pass] = median(ms);
        totals[s][pass] += t[pass] * count;
        const i = pass === 'forward' ? 0 : 1;
        if (s === 0) reference[i] = out;
        else for (let j = 0; j < out.length; j++) maxDiff = Math.max(maxDiff, Math.abs(out[j] - reference[i][j]));
      }
      times.push(t);
    }
    reference = [];
    const shape = `${batch}x${side}x${side}: ${ci} -> ${co}${count > 1 ? ` (x${count})` : ''}`;
    const cells = times.map((t) => `${t.forward.toFixed(1)} / ${t.gradient.toFixed(1)}`);
    console.log(
      `${shape.padEnd(26)} ${cells.map((c) => c.padStart(14)).join(' ')}   max diff ${maxDiff.toExponential(1)}`,
    );
    rows.push({ side, ci, co, count, times, maxDiff });
    tf.dispose([x, w, bias, dy]);
  }
  setGemmFlavour('auto');
  console.log('\n| loop | forward ms | gradient ms | forward GMAC/s | gradient GMAC/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [s, { name }] of SIDES.entries()) {
    const { forward, gradient } = totals[s];
    console.log(
      `| ${name} | ${forward.toFixed(1)} | ${gradient.toFixed(1)} | ${(macs / forward / 1e6).toFixed(1)} | ` +
        `${(macs / gradient / 1e6).toFixed(1)} |`,
    );
  }
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'gemm.json'),
    JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), batch, runs, fused, rows, totals }, null, 2),
  );
}
