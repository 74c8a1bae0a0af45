/**
 * `npm run bench -- captum [--threads 1,2] [--repeats 1] [--methods saliency,gradCam,...] [--python PATH]`:
 * the attribution methods on MobileNet v1 0.75 at 224 (real weights, wasm) beside PyTorch + Captum 0.7 on the same
 * network and weights (bench/captum_torch.py, run in the same round), on 1 and 2 threads each side. Prints, per
 * method and thread count, the median wall and process-CPU seconds of each side in steady state (each side warms each
 * method up for 2 s, and times a method under 0.5 s at least 10 times; node's process.cpuUsage() counts
 * the worker threads; python's process_time() counts torch's threads), the ratios cnnviz / PyTorch, and the
 * Pearson r of the two maps. Writes bench/results/captum.json.
 *
 * Captum is not in Debian and the bench never downloads. Install it once from its source tree (tag v0.7.0 of
 * github.com/pytorch/captum, pure Python) into a venv that sees Debian's python3-torch:
 *   /usr/bin/python3 -m venv --system-site-packages /tmp/captum-venv
 *   /tmp/captum-venv/bin/pip install --no-deps --no-build-isolation --no-index /path/to/captum-v0.7.0
 * then point the bench at its python with `--python /tmp/captum-venv/bin/python` or CNNVIZ_CAPTUM_PYTHON (default:
 * /tmp/captum-venv/bin/python). matplotlib is not needed (captum_torch.py stands in for it).
 *
 * Settings (the same on both sides): target 1 (goldfish; the photo is the ImageNet sample's goldfish), saliency
 * max |gradient| over channels; Grad-CAM on conv_pw_13_relu, bilinear upsampling to 224; Integrated Gradients 64
 * trapezoid steps from black, summed over channels; SmoothGrad 25 samples, sigma 0.15 of the pixel range, mean
 * gradient, max |.| over channels (random noise: the maps agree only as well as 25 samples converge); occlusion
 * window 37 stride 16 (169 windows) filled black, each pixel's mean drop (Captum's attribution); Kernel SHAP on a
 * 4 x 4 grid of segments (the same mask on both sides), black when absent, 512 sampled coalitions besides all and
 * none, 32 per forward pass (sampling: the maps agree as well as 512 coalitions converge). All on logits.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { read } from '../src/data/images';
import { locate } from '../src/data/store';
import { load } from '../src/models/zoo';
import { setup } from '../src/runtime/backend';
import { pearson } from '../src/techniques/core/stats';
import {
  gradCam,
  gridSegments,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
  smoothGrad,
} from '../src/techniques';
import { arg, median } from './_args';

const METHODS = ['saliency', 'gradCam', 'integratedGradients', 'smoothGrad', 'occlusion', 'kernelShap'] as const;
type Method = (typeof METHODS)[number];
const TARGET = 1;
const IG_STEPS = 64;
const SG_SAMPLES = 25;
const SG_LEVEL = 0.15;
const OCC_WINDOW = 37;
const OCC_STRIDE = 16;
const CAM_LAYER = 'conv_pw_13_relu';
const SHAP_SEGMENTS = 16;
const SHAP_SAMPLES = 512;
const SHAP_BATCH = 32;

/** Kernel SHAP on a 4 x 4 grid of 56-pixel cells, black when absent, 512 coalitions besides all and none. */
const SHAP_OPTIONS = {
  target: TARGET,
  segments: 'grid' as const,
  nSegments: SHAP_SEGMENTS,
  samples: SHAP_SAMPLES,
  baseline: 'black' as const,
  output: 'logits' as const,
  batchSize: SHAP_BATCH,
};

interface Side {
  wall: number[];
  cpu: number[];
}

async function runCnnviz(method: Method, net: tf.LayersModel, image: tf.Tensor3D): Promise<tf.Tensor> {
  const target = TARGET;
  switch (method) {
    case 'saliency':
      return saliency(net, image, { target });
    case 'gradCam':
      return gradCam(net, image, { target, layer: CAM_LAYER });
    case 'integratedGradients': {
      const ig = await integratedGradients(net, image, {
        target,
        steps: IG_STEPS,
        method: 'riemannTrapezoid',
        baseline: 'black',
        tolerance: Infinity,
      });
      const summed = tf.sum(ig, -1);
      ig.dispose();
      return summed;
    }
    case 'smoothGrad':
      return smoothGrad(net, image, { target, samples: SG_SAMPLES, noiseLevel: SG_LEVEL });
    case 'occlusion': {
      const r = await occlusion(net, image, {
        target,
        window: OCC_WINDOW,
        stride: OCC_STRIDE,
        fill: 'black',
        output: 'logits',
        details: true,
        upsample: true,
      });
      tf.dispose([r.map, r.drop]);
      return r.pixelDrop!;
    }
    case 'kernelShap':
      return kernelShap(net, image, { ...SHAP_OPTIONS, seed: 0 });
  }
}

/** Warm-up seconds per method and side; methods faster than SHORT_S get at least SHORT_REPEATS timed runs. */
const WARM_S = 2;
const SHORT_S = 0.5;
const SHORT_REPEATS = 10;

async function timeCnnviz(
  method: Method,
  net: tf.LayersModel,
  image: tf.Tensor3D,
  repeats: number,
): Promise<Side & { map: Float32Array }> {
  // Warm-up until WARM_S of wall time has passed (at least once), then at least SHORT_REPEATS timed runs for a
  // method under SHORT_S; captum_torch.py does the same, so both sides are timed in steady state (a one-image
  // method's first calls on wasm still run baseline code while V8 compiles the optimized one).
  const w0 = performance.now();
  (await runCnnviz(method, net, image)).dispose();
  const first = (performance.now() - w0) / 1000;
  while (performance.now() - w0 < WARM_S * 1000) (await runCnnviz(method, net, image)).dispose();
  const runs = Math.max(repeats, first < SHORT_S ? SHORT_REPEATS : 0);
  const side: Side = { wall: [], cpu: [] };
  let map = new Float32Array(0);
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const m = await runCnnviz(method, net, image);
    map = (await m.data()) as Float32Array;
    const c = process.cpuUsage(c0);
    side.wall.push((performance.now() - t0) / 1000);
    side.cpu.push((c.user + c.system) / 1e6);
    m.dispose();
  }
  return { ...side, map };
}

export async function main(args: string[]): Promise<void> {
  const threadList = arg(args, 'threads', '1,2').split(',').map(Number);
  const repeats = Number(arg(args, 'repeats', '1'));
  const methods = arg(args, 'methods', METHODS.join(',')).split(',') as Method[];
  for (const m of methods)
    if (!METHODS.includes(m)) throw new Error(`bench captum: unknown method '${m}'; valid: ${METHODS.join(', ')}`);
  const python = arg(args, 'python', process.env.CNNVIZ_CAPTUM_PYTHON ?? '/tmp/captum-venv/bin/python');
  const probe = spawnSync(python, ['-c', 'import torch, captum; print(captum.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0 && !/matplotlib|mpl_toolkits/.test(probe.stderr ?? '')) {
    const why = (probe.stderr || String(probe.error)).trim().split('\n').pop();
    throw new Error(
      `bench captum: cannot import torch and captum with ${python} (${why}). ` +
        'Install Captum 0.7.0 from its source tree (tag v0.7.0 of github.com/pytorch/captum) into a venv with ' +
        "Debian's python3-torch: '/usr/bin/python3 -m venv --system-site-packages /tmp/captum-venv && " +
        "/tmp/captum-venv/bin/pip install --no-deps --no-build-isolation --no-index CAPTUM_SRC', then pass " +
        '--python /tmp/captum-venv/bin/python or set CNNVIZ_CAPTUM_PYTHON.',
    );
  }
  await setup({ backend: 'wasm', quiet: true });
  const net = await load('mobilenet');
  const modelJson = locate('mobilenet', 'models/mobilenet_v1_0.75_224/model.json', 'bench captum');
  const photo = locate('imagenet-sample', 'imagenet-sample/n01443537_goldfish.JPEG', 'bench captum');
  const image = await read(photo, { size: 224 });
  const pixels = image.dataSync() as Float32Array;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of pixels) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-captum-'));
  const imageFile = path.join(work, 'image.f32');
  fs.writeFileSync(imageFile, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  // Kernel SHAP's segments, the same on both sides (Captum's feature_mask).
  const shapMask = path.join(work, 'shap_mask.i32');
  const { labels } = gridSegments(224, 224, SHAP_SEGMENTS);
  fs.writeFileSync(shapMask, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
  console.log(
    `captum bench: MobileNet v1 0.75 at 224, real weights; wasm vs PyTorch + Captum (${python}); ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${os.cpus().length} cores; median of ${repeats}`,
  );
  type Row = { method: Method; threads: number; cnnviz: Side; torch?: Side; r?: number; rNoise?: number };
  const rows: Row[] = [];
  let versions: unknown;
  for (const threads of threadList) {
    await setup({ backend: 'wasm', quiet: true, threads });
    const job = {
      threads,
      model_dir: path.dirname(modelJson),
      image: imageFile,
      target: TARGET,
      out_dir: work,
      repeats,
      warm_s: WARM_S,
      short_s: SHORT_S,
      short_repeats: SHORT_REPEATS,
      methods,
      ig_steps: IG_STEPS,
      sg_samples: SG_SAMPLES,
      sg_sigma: SG_LEVEL * (hi - lo),
      occ_window: OCC_WINDOW,
      occ_stride: OCC_STRIDE,
      cam_layer: CAM_LAYER,
      shap_mask: shapMask,
      shap_samples: SHAP_SAMPLES,
      shap_batch: SHAP_BATCH,
    };
    const r = spawnSync(python, [path.join(__dirname, '..', '..', 'bench', 'captum_torch.py')], {
      input: JSON.stringify(job),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0)
      throw new Error(`bench captum: the PyTorch side failed: ${r.stderr.split('\n').slice(-5).join(' ')}`);
    const torchOut = JSON.parse(r.stdout) as { versions: unknown; rows: Record<string, Side> };
    versions = torchOut.versions;
    for (const method of methods) {
      const c = await timeCnnviz(method, net, image, repeats);
      const theirs = new Float32Array(fs.readFileSync(path.join(work, `${method}.f32`)).buffer.slice(0));
      const row: Row = { method, threads, cnnviz: { wall: c.wall, cpu: c.cpu }, torch: torchOut.rows[method] };
      row.r = pearson(c.map, theirs);
      if (method === 'smoothGrad' || method === 'kernelShap') {
        // The noise floor: cnnviz against itself with other noise or other coalitions (seed 1), untimed.
        const other =
          method === 'smoothGrad'
            ? await smoothGrad(net, image, { target: TARGET, samples: SG_SAMPLES, noiseLevel: SG_LEVEL, seed: 1 })
            : await kernelShap(net, image, { ...SHAP_OPTIONS, seed: 1 });
        row.rNoise = pearson(c.map, other.dataSync());
        other.dispose();
      }
      rows.push(row);
      const t = row.torch!;
      const [cw, cc, tw, tc] = [median(c.wall), median(c.cpu), median(t.wall), median(t.cpu)];
      console.log(
        `${method.padEnd(20)} ${threads} thr  cnnviz ${cw.toFixed(3)} / ${cc.toFixed(3)} s  ` +
          `torch ${tw.toFixed(3)} / ${tc.toFixed(3)} s  ` +
          `ratio wall ${(cw / tw).toFixed(2)}x CPU ${(cc / tc).toFixed(2)}x` +
          `  r ${row.r.toFixed(5)}${row.rNoise !== undefined ? ` (cnnviz seed 0 vs 1: ${row.rNoise.toFixed(5)})` : ''}`,
      );
    }
  }
  console.log(
    '\n| method | threads | cnnviz wall / CPU s | PyTorch + Captum wall / CPU s | ratio wall / CPU | map r |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) {
    const [cw, cc, tw, tc] = [
      median(row.cnnviz.wall),
      median(row.cnnviz.cpu),
      median(row.torch!.wall),
      median(row.torch!.cpu),
    ];
    console.log(
      `| ${row.method} | ${row.threads} | ${cw.toFixed(3)} / ${cc.toFixed(3)} | ` +
        `${tw.toFixed(3)} / ${tc.toFixed(3)} | ` +
        `${(cw / tw).toFixed(2)}x / ${(cc / tc).toFixed(2)}x | ${row.r!.toFixed(4)}` +
        `${row.rNoise !== undefined ? ` (noise floor ${row.rNoise.toFixed(4)})` : ''} |`,
    );
  }
  tf.dispose(image);
  fs.rmSync(work, { recursive: true, force: true });
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'captum.json'),
    JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), versions, repeats, rows }, null, 2),
  );
}
