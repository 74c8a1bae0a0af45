/**
 * `npm run bench -- techniques --model mobilenet`: see imagenet.ts.
 * `npm run bench -- techniques [--model fashion-cnn] [--repeats 5]`: wall time of each technique on
 * one 28x28 image of a lecture-sized CNN. Targets (issue 4, wasm, 2 cores): saliency < 30 ms,
 * 576-window occlusion < 2 s, 200 class-visualization steps < 10 s.
 * Uses the shipped model when present, else lectureCnn with random weights (same cost).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setup } from '../src/runtime/backend';
import { lectureCnn } from '../src/models/architectures';
import { load, shippedPath } from '../src/models/zoo';
import {
  classVisualization,
  deletionScore,
  featureVectors,
  gradCam,
  guidedBackprop,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  smoothGrad,
  topActivatingPatches,
} from '../src/techniques';
import { arg } from './_args';

interface Row {
  name: string;
  ms: number;
  min: number;
  target?: number;
  note?: string;
}

async function time(fn: () => Promise<unknown>, repeats: number): Promise<{ median: number; min: number }> {
  const dispose = (v: unknown) => {
    if (v instanceof tf.Tensor) v.dispose();
    else if (v && typeof v === 'object') Object.values(v).forEach((x) => x instanceof tf.Tensor && x.dispose());
  };
  dispose(await fn()); // warm-up: kernel compilation, caches
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    dispose(await fn());
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

export async function main(args: string[]): Promise<void> {
  // ImageNet models: the 224x224 bench, with ratios to the model's own forward pass.
  if (arg(args, 'model', '') === 'mobilenet') return (await import('./imagenet')).main(args);
  const backend = await setup({ backend: arg(args, 'backend', process.env.CNNVIZ_BACKEND ?? 'wasm') as 'wasm' });
  const repeats = Number(arg(args, 'repeats', '5'));
  const name = arg(args, 'model', 'fashion-cnn');
  let model: tf.LayersModel;
  let modelNote: string;
  if (fs.existsSync(shippedPath(name))) {
    model = await load(name);
    modelNote = name;
  } else {
    model = lectureCnn({ seed: 1 });
    modelNote = `lectureCnn (random weights; ${name} not shipped yet)`;
  }
  const image = tf.tidy(() => tf.randomUniform([28, 28, 1], 0, 1, 'float32', 7)) as tf.Tensor3D;
  const many = tf.tidy(() => tf.randomUniform([2000, 28, 28, 1], 0, 1, 'float32', 8)) as tf.Tensor4D;
  const rows: Row[] = [];
  const run = async (label: string, fn: () => Promise<unknown>, target?: number, n = repeats, note?: string) => {
    const t = await time(fn, n);
    rows.push({ name: label, ms: t.median, min: t.min, target, note });
    console.log(
      `${label.padEnd(44)} ${t.median.toFixed(1).padStart(9)} ms  ` +
        `(min ${t.min.toFixed(1)})${target ? `  target < ${target} ms ${t.median < target ? 'ok' : 'MISSED'}` : ''}`,
    );
  };
  console.log(`cnnviz techniques bench: ${backend.report}; model ${modelNote}; median of ${repeats}`);
  await run('saliency, one 28x28 image', () => saliency(model, image, { target: 3 }), 30);
  await run('guidedBackprop, one image', () => guidedBackprop(model, image, { target: 3 }));
  await run('gradCam, one image', () => gradCam(model, image, { target: 3 }));
  await run(
    'occlusion, 576 windows (5x5, stride 1)',
    () => occlusion(model, image, { target: 3, window: 5, stride: 1 }),
    2000,
    Math.min(repeats, 3),
  );
  await run(
    'classVisualization, 200 steps (no regularizer)',
    () => classVisualization(model, { target: 3, steps: 200 }),
    10000,
    1,
  );
  await run(
    'classVisualization, 200 steps (yosinski1)',
    () => classVisualization(model, { target: 3, steps: 200, preset: 'yosinski1' }),
    10000,
    1,
  );
  await run(
    'classVisualization, 200 steps (yosinski4)',
    () => classVisualization(model, { target: 3, steps: 200, preset: 'yosinski4' }),
    10000,
    1,
  );
  await run('smoothGrad, 25 samples', () => smoothGrad(model, image, { target: 3 }), undefined, Math.min(repeats, 3));
  await run(
    'integratedGradients, 64 steps',
    () => integratedGradients(model, image, { target: 3, tolerance: Infinity }),
    undefined,
    Math.min(repeats, 3),
  );
  await run('kernelShap, 16 grid segments, 2080 samples', () => kernelShap(model, image, { target: 3 }), undefined, 1);
  await run(
    'kernelShap, 25 SLIC segments, 2098 samples',
    () => kernelShap(model, image, { target: 3, segments: 'slic', nSegments: 25 }),
    undefined,
    1,
  );
  await run(
    'deletionScore, 32 steps',
    async () => {
      const s = await saliency(model, image, { target: 3 });
      const r = await deletionScore(model, image, s, { target: 3 });
      s.dispose();
      return r;
    },
    undefined,
    Math.min(repeats, 3),
  );
  await run('featureVectors, 2000 images', () => featureVectors(model, many), undefined, 1);
  await run(
    'topActivatingPatches, 2000 images',
    () => topActivatingPatches(model, many, { layer: 'conv2', channel: 5 }),
    undefined,
    1,
  );
  tf.dispose([image, many]);
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'techniques.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), backend: backend.report, model: modelNote, repeats, rows },
      null,
      2,
    ),
  );
  console.log(`wrote ${file}`);
}
