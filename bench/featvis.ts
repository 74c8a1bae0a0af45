/**
 * `npm run bench -- featvis [--classes 12] [--pixel-steps 64] [--torch 2] [--python PATH]`: feature visualization
 * on MobileNet v1 0.75 (wasm): seconds per class image and per channel image with Olah et al.'s recipe (the
 * default of classVisualization), seconds per step beside the same recipe in PyTorch on the same network with
 * its real weights (bench/featvis_torch.py, run in the same round), and the three "recognisable" measures for
 * each class against Yosinski's preset 3 (the preset that draws recognisable objects on MobileNet):
 * - robust: MobileNet's top-1 is still the target under 8 random shifts (16 px), scales (0.85-1.15) and rotations
 *   (15 deg);
 * - transfer: the target's rank among darknet-tiny's 1,000 scores (trained apart; its own class order, matched by
 *   name);
 * - natural: energy a Gaussian blur (sigma 1) removes, over the variance: a photo's and noise's beside them.
 * Writes bench/results/featvis.json and the picture sheet bench/results/featvis-sheet.png (rows: classes; columns:
 * the class's ImageNet sample photo, Yosinski 3, Olah).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { read } from '../src/data/images';
import { dataDir, locate, mirrorDir } from '../src/data/store';
import { classNames, load } from '../src/models/zoo';

import { setup, threadCount } from '../src/runtime/backend';
import { classVisualization, featureVisualization, gaussianBlur } from '../src/techniques';
import { affineSample } from '../src/techniques/features/transforms';
import { mulberry32 } from '../src/common/random';
import { floatToPng } from '../src/explorer/image_input';
import { arg, median } from './_args';

const CANDIDATES = [
  'flamingo', 'goldfish', 'tarantula', 'volcano', 'school bus', 'jellyfish', 'strawberry', 'lemon', 'zebra',
  'pizza', 'king penguin', 'pineapple', 'ladybug', 'hourglass', 'daisy', 'broccoli',
]; // prettier-ignore

const logitsOf = (net: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D =>
  tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor }).apply(x) as tf.Tensor2D;

/** Share of 8 random views that MobileNet still calls the target. */
function robust(net: tf.LayersModel, img: tf.Tensor3D, target: number, seed: number): number {
  const rand = mulberry32(seed);
  let hits = 0;
  for (let i = 0; i < 8; i++) {
    const d = {
      scale: 0.85 + 0.3 * rand(),
      angle: ((rand() * 2 - 1) * 15 * Math.PI) / 180,
      dy: Math.round((rand() * 2 - 1) * 16),
      dx: Math.round((rand() * 2 - 1) * 16),
    };
    const top = tf.tidy(() => logitsOf(net, affineSample(img.expandDims(0) as tf.Tensor4D, d, 224, 224)).argMax(-1));
    if (top.dataSync()[0] === target) hits++;
    top.dispose();
  }
  return hits / 8;
}

/** 1-based rank of the class among the model's scores. */
function rank(net: tf.LayersModel, img: tf.Tensor3D, target: number): number {
  const s = tf.tidy(() => (net.apply(img.expandDims(0)) as tf.Tensor).dataSync());
  let r = 1;
  for (let i = 0; i < s.length; i++) if (s[i] > s[target]) r++;
  return r;
}

/** Energy a sigma-1 blur removes, over the image's variance. */
function fineShare(img: tf.Tensor3D): number {
  return tf.tidy(() => {
    const x = img.expandDims(0) as tf.Tensor4D;
    const removed = tf.mean(tf.square(tf.sub(x, gaussianBlur(x, 1)))).dataSync()[0];
    return removed / tf.moments(x).variance.dataSync()[0];
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

export async function main(args: string[]): Promise<void> {
  const nClasses = Number(arg(args, 'classes', '12'));
  const pixelSteps = Number(arg(args, 'pixel-steps', '64'));
  const torchThreads = Number(arg(args, 'torch', '2'));
  const python = arg(args, 'python', '/usr/bin/python3');
  await setup({ backend: 'wasm', quiet: true });
  const net = await load('mobilenet');
  const darknet = await load('darknet-tiny');
  const names = classNames(net);
  const dnames = classNames(darknet).map((n) => n.toLowerCase());
  const classes = CANDIDATES.filter((c) => names.includes(c) && dnames.includes(c)).slice(0, nClasses);
  const load0 = os.loadavg()[0];
  console.log(`featvis bench: wasm, ${threadCount()} threads, load ${load0.toFixed(1)} on ${os.cpus().length} cores`);
  console.log(`classes: ${classes.join(', ')}`);

  // The ImageNet sample photos (one a class, in class order), from the data folder or its mirror.
  const photoDir = [dataDir(), mirrorDir()]
    .filter((d): d is string => !!d)
    .map((d) => path.join(d, 'imagenet-sample'))
    .find((d) => fs.existsSync(d));
  if (!photoDir) throw new Error('bench featvis: no imagenet-sample folder in the data folder or its mirror');
  const photos = fs
    .readdirSync(photoDir)
    .filter((f) => f.endsWith('.JPEG'))
    .sort();
  const noise = tf.randomUniform([224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
  const rows: Record<string, unknown>[] = [];
  const sheet: Float32Array[] = [];
  let olahSteps = 0;
  for (const [k, cls] of classes.entries()) {
    const t = names.indexOf(cls);
    const photo = await read(path.join(photoDir, photos[t]), { size: [224, 224] });
    let steps = 0;
    const [olah, olahS] = await timed(() =>
      classVisualization(net, { target: t, seed: k, onStep: () => void steps++ }),
    );
    olahSteps = steps;
    const [yos, yosS] = await timed(() =>
      classVisualization(net, { target: t, preset: 'yosinski3', jitter: 8, steps: pixelSteps, seed: k }),
    );
    const d = dnames.indexOf(cls);
    const row = {
      class: cls,
      olah: {
        seconds: olahS,
        robust: robust(net, olah, t, k),
        darknetRank: rank(darknet, olah, d),
        fine: fineShare(olah),
      },
      yosinski3: {
        seconds: yosS,
        robust: robust(net, yos, t, k),
        darknetRank: rank(darknet, yos, d),
        fine: fineShare(yos),
      },
      photo: { robust: robust(net, photo, t, k), darknetRank: rank(darknet, photo, d), fine: fineShare(photo) },
    };
    rows.push(row);
    console.log(
      `${cls.padEnd(13)} olah ${olahS.toFixed(1)} s robust ${row.olah.robust} darknet #${row.olah.darknetRank} ` +
        `fine ${row.olah.fine.toFixed(3)} | yosinski3 ${yosS.toFixed(1)} s robust ${row.yosinski3.robust} ` +
        `darknet #${row.yosinski3.darknetRank} fine ${row.yosinski3.fine.toFixed(3)} | photo robust ` +
        `${row.photo.robust} darknet #${row.photo.darknetRank} fine ${row.photo.fine.toFixed(3)}`,
    );
    for (const im of [photo, yos, olah]) sheet.push(im.dataSync() as Float32Array);
    tf.dispose([photo, olah, yos]);
  }
  const noiseFine = fineShare(noise);
  noise.dispose();

  // Channel images, and the per-step time of the Olah recipe in this round.
  const channels = ['conv_pw_3_relu:20', 'conv_pw_7_relu:100', 'conv_pw_11_relu:200', 'conv_pw_13_relu:500'];
  const channelSeconds: number[] = [];
  for (const c of channels) {
    const [img, s] = await timed(() => featureVisualization(net, c, { optimizeSize: 128, steps: 32 }));
    channelSeconds.push(s);
    img.dispose();
  }
  const stepMs: number[] = [];
  let last = performance.now();
  const probe = await classVisualization(net, {
    target: 'flamingo',
    steps: 12,
    onStep: () => {
      stepMs.push(performance.now() - last);
      last = performance.now();
    },
  });
  probe.dispose();
  const wasmStep = median(stepMs.slice(2));
  let torch: { step_ms: number[]; logit: number; grey_top: [number, number] } | undefined;
  if (torchThreads > 0) {
    const modelDir = path.dirname(locate('mobilenet', 'models/mobilenet_v1_0.75_224/model.json', 'bench featvis'));
    const job = { threads: torchThreads, model_dir: modelDir, size: 128, pad: 12, steps: 12, warmup: 2 };
    const r = spawnSync(python, [path.join(__dirname, '..', '..', 'bench', 'featvis_torch.py')], {
      input: JSON.stringify({ ...job, target: names.indexOf('flamingo') }),
      encoding: 'utf8',
    });
    if (r.status === 0) torch = JSON.parse(r.stdout);
    else console.log(`PyTorch peer did not run (${python}): ${r.stderr.split('\n').slice(-3).join(' ')}`);
  }
  const greyTop = tf.tidy(
    () =>
      logitsOf(net, tf.fill([1, 224, 224, 3], 0.5) as tf.Tensor4D)
        .argMax(-1)
        .dataSync()[0],
  );
  const summary = {
    load: [load0, os.loadavg()[0]],
    threads: threadCount(),
    olahSteps,
    pixelSteps,
    classSeconds: median(rows.map((r) => (r.olah as { seconds: number }).seconds)),
    yosinskiSeconds: median(rows.map((r) => (r.yosinski3 as { seconds: number }).seconds)),
    channelSeconds: median(channelSeconds),
    wasmStepMs: wasmStep,
    torchStepMs: torch ? median(torch.step_ms) : undefined,
    torchThreads,
    greyTop: { cnnviz: greyTop, torch: torch?.grey_top[0] },
    noiseFine,
  };
  console.log(
    `\nOlah class image (${olahSteps} steps at 128 px, returned at 224): median ` +
      `${summary.classSeconds.toFixed(1)} s; ` +
      `Yosinski 3 (${pixelSteps} steps at 224): ${summary.yosinskiSeconds.toFixed(1)} s; channel image (32 steps): ` +
      `${summary.channelSeconds.toFixed(1)} s`,
  );
  console.log(
    `per step at 128 px (+12 px pad): cnnviz wasm ${wasmStep.toFixed(0)} ms` +
      (torch
        ? `, PyTorch ${torchThreads} threads ${summary.torchStepMs!.toFixed(0)} ms (cnnviz/PyTorch ` +
          `${(wasmStep / summary.torchStepMs!).toFixed(2)}x); grey image's top class: cnnviz ${greyTop}, ` +
          `PyTorch ${torch.grey_top[0]} (real weights read alike)`
        : ''),
  );
  const mean = (k: 'olah' | 'yosinski3' | 'photo', f: 'robust' | 'darknetRank' | 'fine') =>
    rows.map((r) => (r[k] as Record<string, number>)[f]);
  for (const k of ['olah', 'yosinski3', 'photo'] as const)
    console.log(
      `${k.padEnd(9)} robust (mean share) ` +
        `${(mean(k, 'robust').reduce((a, b) => a + b, 0) / rows.length).toFixed(2)}, ` +
        `darknet rank (median) ${median(mean(k, 'darknetRank'))}, in darknet's top 5: ` +
        `${mean(k, 'darknetRank').filter((r) => r <= 5).length}/${rows.length}, fine share (median) ` +
        `${median(mean(k, 'fine')).toFixed(3)}`,
    );
  console.log(`noise fine share ${noiseFine.toFixed(3)}; load at the end ${os.loadavg()[0].toFixed(1)}`);
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'featvis.json'), JSON.stringify({ summary, rows }, null, 1));
  writeSheet(path.join(out, 'featvis-sheet.png'), sheet, 3);
  await Promise.resolve();
}

/** Images (224x224x3) in rows of `cols`, at half size, with white gaps. */
function writeSheet(file: string, images: Float32Array[], cols: number): void {
  const s = 112;
  const rowsN = Math.ceil(images.length / cols);
  const [H, W] = [rowsN * (s + 4), cols * (s + 4)];
  const px = new Float32Array(H * W * 3).fill(1);
  images.forEach((im, k) => {
    const [r, c] = [Math.floor(k / cols), k % cols];
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let ch = 0; ch < 3; ch++) {
          const v = (im[(2 * y * 224 + 2 * x) * 3 + ch] + im[((2 * y + 1) * 224 + 2 * x + 1) * 3 + ch]) / 2;
          px[((r * (s + 4) + y) * W + c * (s + 4) + x) * 3 + ch] = v;
        }
  });
  fs.writeFileSync(file, floatToPng(px, H, W, 3));
}
