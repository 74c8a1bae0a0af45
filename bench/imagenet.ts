/**
 * `npm run bench -- imagenet [--rounds 3] [--torch 1]`: every technique on MobileNet v1 0.75 and
 * one 224x224 photo (the dog), as ratios to MobileNet's own forward pass timed in the same round,
 * beside PyTorch's forward pass and input gradient of the same network (1 thread). The box drifts,
 * so each ratio is taken within a round and the median over rounds reported.
 * Targets (issue "Real networks"): saliency and Grad-CAM <= 2.5 forward passes, guided backprop
 * <= 3, occlusion 32/16 (169 windows) <= 100, SmoothGrad 25 and IG 32 <= 40 each, Kernel SHAP
 * 50 superpixels x 1,000 coalitions <= 700, class visualization 200 steps <= 30 s.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { read } from '../src/data/images';
import { locate } from '../src/data/store';
import { load } from '../src/models/zoo';
import { setup, threadCount } from '../src/runtime/backend';
import {
  classVisualization,
  gradCam,
  guidedBackprop,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  smoothGrad,
} from '../src/techniques';
import { arg, median } from './_args';

async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const r = await fn();
  tf.dispose(r as tf.TensorContainer);
  return performance.now() - t0;
}

interface Case {
  name: string;
  target?: number;
  unit: 'forwards' | 's';
  fn: () => Promise<unknown>;
}

function torchPeer(threads: number): { forward: number; grad: number } | undefined {
  const py = '/usr/bin/python3';
  const r = spawnSync(py, [path.join(__dirname, '..', '..', 'bench', 'imagenet_torch.py')], {
    input: JSON.stringify({ threads, runs: 10, warmup: 3 }),
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.log(
      `PyTorch peer unavailable (${(r.stderr || '').trim().split('\n').pop()}); install it with 'bash ` +
        `kernel-setup/setup.sh --bench'`,
    );
    return undefined;
  }
  const out = JSON.parse(r.stdout) as { forward_ms: number[]; grad_ms: number[] };
  return { forward: median(out.forward_ms), grad: median(out.grad_ms) };
}

export async function main(args: string[]): Promise<void> {
  const backend = await setup({ backend: arg(args, 'backend', process.env.CNNVIZ_BACKEND ?? 'wasm') as 'wasm' });
  const rounds = Number(arg(args, 'rounds', '3'));
  const torchThreads = Number(arg(args, 'torch', '1'));
  const only = arg(args, 'only', '');
  const model = await load('mobilenet');
  const image = await read(locate('photos', 'photos/dog.jpg', 'bench'), { size: 224, fit: 'fill' });
  const x = image.expandDims(0) as tf.Tensor4D;
  const dog = 249; // malamute
  const forwardOnce = async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    return y;
  };
  const cases: Case[] = [
    { name: 'saliency', target: 2.5, unit: 'forwards', fn: () => saliency(model, image, { target: dog }) },
    { name: 'gradCam', target: 2.5, unit: 'forwards', fn: () => gradCam(model, image, { target: dog }) },
    { name: 'guidedBackprop', target: 3, unit: 'forwards', fn: () => guidedBackprop(model, image, { target: dog }) },
    {
      name: 'occlusion 32/16 (169 windows)',
      target: 100,
      unit: 'forwards',
      fn: () => occlusion(model, image, { target: dog, window: 32, stride: 16 }),
    },
    {
      name: 'smoothGrad 25 samples',
      target: 40,
      unit: 'forwards',
      fn: () => smoothGrad(model, image, { target: dog, samples: 25 }),
    },
    {
      name: 'integratedGradients 32 steps',
      target: 40,
      unit: 'forwards',
      fn: () => integratedGradients(model, image, { target: dog, steps: 32, tolerance: Infinity }),
    },
    {
      name: 'kernelShap 50 superpixels x 1000',
      target: 700,
      unit: 'forwards',
      fn: () => kernelShap(model, image, { target: dog, segments: 'slic', nSegments: 50, samples: 1000 }),
    },
    {
      name: 'classVisualization 200 steps 224x224',
      target: 30,
      unit: 's',
      fn: () => classVisualization(model, { target: 'tarantula', steps: 200 }),
    },
  ].filter((c) => !only || c.name.startsWith(only)) as Case[];
  console.log(
    `cnnviz imagenet bench: ${backend.report}, ${threadCount()} threads; MobileNet v1 0.75, one 224x224 ` +
      `photo; ${rounds} rounds`,
  );
  // Warm-up: kernels, caches, the worker pool.
  tf.dispose(await forwardOnce());
  for (const c of cases) if (c.unit === 'forwards') tf.dispose((await c.fn()) as tf.TensorContainer);
  const per: Record<string, { ms: number[]; ratio: number[] }> = {};
  const forwards: number[] = [];
  const torch: Array<{ forward: number; grad: number; forwardRatio: number; gradRatio: number }> = [];
  for (let r = 0; r < rounds; r++) {
    const fw: number[] = [];
    for (let i = 0; i < 7; i++) fw.push(await timeOnce(forwardOnce));
    const forward = median(fw);
    forwards.push(forward);
    const sal: number[] = [];
    for (const c of cases) {
      const ms = await timeOnce(c.fn);
      (per[c.name] ??= { ms: [], ratio: [] }).ms.push(ms);
      per[c.name].ratio.push(ms / forward);
      if (c.name === 'saliency') sal.push(ms);
      console.log(
        `  round ${r + 1}: ${c.name.padEnd(38)} ${ms.toFixed(0).padStart(7)} ` +
          `ms  ${(ms / forward).toFixed(1).padStart(6)} forwards`,
      );
    }
    const t = torchThreads > 0 ? torchPeer(torchThreads) : undefined;
    if (t) {
      torch.push({ ...t, forwardRatio: forward / t.forward, gradRatio: (sal[0] ?? NaN) / t.grad });
      console.log(
        `  round ${r + 1}: PyTorch ${torchThreads} thread: forward ${t.forward.toFixed(1)} ms ` +
          `(cnnviz ${forward.toFixed(1)} ms, ${(forward / t.forward).toFixed(2)}x), input ` +
          `gradient ${t.grad.toFixed(1)} ms (cnnviz saliency ${(sal[0] ?? NaN).toFixed(1)} ` +
          `ms, ${((sal[0] ?? NaN) / t.grad).toFixed(2)}x)`,
      );
    }
  }
  const fwd = median(forwards);
  console.log(
    `\nMobileNet forward pass, 1 image: ${fwd.toFixed(1)} ms (median over ` +
      `rounds: ${forwards.map((f) => f.toFixed(1)).join(', ')})`,
  );
  console.log(`${'technique'.padEnd(38)} ${'ms'.padStart(8)} ${'forwards'.padStart(9)}  target`);
  const rows = cases.map((c) => {
    const p = per[c.name];
    const ms = median(p.ms);
    const ratio = median(p.ratio);
    const value = c.unit === 's' ? ms / 1000 : ratio;
    const ok = c.target === undefined ? undefined : value <= c.target;
    console.log(
      `${c.name.padEnd(38)} ${ms.toFixed(0).padStart(8)} ${ratio.toFixed(1).padStart(9)}  ` +
        `${c.unit === 's' ? `<= ${c.target} s` : `<= ${c.target}`} ${ok ? 'ok' : 'MISSED'} ` +
        `(rounds: ${p.ratio.map((v) => v.toFixed(1)).join(', ')})`,
    );
    return {
      name: c.name,
      ms,
      msRounds: p.ms,
      forwards: ratio,
      forwardsRounds: p.ratio,
      target: c.target,
      unit: c.unit,
      ok,
    };
  });
  if (torch.length) {
    console.log(
      `PyTorch (${torchThreads} thread) on the same network: ` +
        `forward ${median(torch.map((t) => t.forward)).toFixed(1)} ms ` +
        `(cnnviz/PyTorch ${median(torch.map((t) => t.forwardRatio)).toFixed(2)}x), input ` +
        `gradient ${median(torch.map((t) => t.grad)).toFixed(1)} ms (cnnviz ` +
        `saliency/PyTorch ${median(torch.map((t) => t.gradRatio)).toFixed(2)}x)`,
    );
  }
  tf.dispose([image, x]);
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'imagenet.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        backend: backend.report,
        threads: threadCount(),
        forwardMs: forwards,
        rows,
        torch,
      },
      null,
      1,
    ),
  );
  console.log(`wrote ${file}`);
}
