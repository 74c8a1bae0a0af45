/**
 * `npm run bench -- imagenet_sample [--photos 1000] [--channels 3]`: the two costs of the lecture's
 * ImageNet pictures, on this machine, beside MobileNet's own single-photo forward pass timed in
 * the same run (the box drifts; the ratio travels better than the seconds):
 *  - feature vectors of the photos: decoding and resizing them 25 at a time and one forward pass
 *    each, keeping the global average pool and the strongest activation per channel of two deep
 *    layers (what `sampleActivations` stores once). Target (issue 32): 1,000 photos <= 90 s.
 *  - top patches of one channel once that layer's strongest activations are stored: sort, load
 *    the 9 best photos at 224, `topActivatingPatches` on those 9. Target: <= 2 s.
 * Writes bench/results/imagenet_sample.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../src/data/datasets';
import { load as loadModel } from '../src/models/zoo';
import { setup } from '../src/runtime/backend';
import { strongestActivations, topActivatingPatches, topImages } from '../src/techniques';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench imagenet_sample: --${name} must be a positive integer`);
  return v;
}

async function seconds<T>(fn: () => Promise<T>): Promise<{ value: T; s: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - t0) / 1000 };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

export async function main(args: string[]): Promise<void> {
  const photos = Math.min(1000, arg(args, 'photos', 1000));
  const nChannels = arg(args, 'channels', 3);
  const backend = await setup({ backend: 'wasm', quiet: true });
  const net = await loadModel('mobilenet');
  console.log(`backend ${backend.report}; ${photos} photos`);

  // The peer: one photo's forward pass (median of 5, after a warm-up).
  const one = (await loadDataset('imagenet-sample', { limit: 1 })).images;
  const forwards: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = await seconds(async () => tf.tidy(() => (net.predict(one) as tf.Tensor).dataSync()));
    if (i > 0) forwards.push(t.s);
  }
  one.dispose();
  const forward = median(forwards);

  const deep = ['conv_pw_11_bn', 'conv_pw_13_bn'];
  const range = (s: number, k: number) => Array.from({ length: k }, (_, i) => s + i);
  let last = 0;
  const pass = await seconds(() =>
    strongestActivations(
      net,
      {
        count: photos,
        slice: async (s: number, k: number) => (await loadDataset('imagenet-sample', { classes: range(s, k) })).images,
      },
      {
        layers: ['global_average_pooling2d_1', ...deep],
        onProgress: (p) => {
          if (p.done - last >= 100 || p.done === p.total) {
            last = p.done;
            process.stdout.write(`\r  ${p.done} / ${p.total} photos`);
          }
        },
      },
    ),
  );
  process.stdout.write('\n');

  const patchTimes: Record<string, number[]> = {};
  for (const layer of deep) {
    const s = pass.value[layer];
    patchTimes[layer] = [];
    for (let c = 0; c < nChannels; c++) {
      const channel = Math.floor(((c + 0.5) * s.channels) / nChannels);
      const t = await seconds(async () => {
        const idx = topImages(s, channel, 9);
        const d = await loadDataset('imagenet-sample', { classes: idx });
        const top = await topActivatingPatches(net, d.images, { layer, channel, k: 9 });
        d.images.dispose();
        return top;
      });
      patchTimes[layer].push(t.s);
    }
  }
  const rows = [
    {
      what: `feature vectors of ${photos} photos (+ strongest of ${deep.join(', ')})`,
      seconds: Number(pass.s.toFixed(1)),
      'x one forward pass': Math.round(pass.s / forward),
      'per photo, x forward': Number((pass.s / photos / forward).toFixed(2)),
    },
    ...deep.map((layer) => ({
      what: `top 9 patches of one ${layer} channel, stored (median of ${nChannels})`,
      seconds: Number(median(patchTimes[layer]).toFixed(2)),
      'x one forward pass': Number((median(patchTimes[layer]) / forward).toFixed(1)),
      'per photo, x forward': NaN,
    })),
  ];
  console.log(`one photo's forward pass: ${(forward * 1000).toFixed(0)} ms`);
  console.table(rows);
  const outDir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'imagenet_sample.json'),
    JSON.stringify({ when: new Date().toISOString(), backend: backend.report, forwardSeconds: forward, rows }, null, 1),
  );
}
