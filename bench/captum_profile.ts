/**
 * `npm run bench -- captum_profile [--batch 16] [--runs 2] [--threads 1] [--python PATH]`: where the time of the
 * attribution methods goes. Per-op times of MobileNet v1 0.75 at 224 (real weights) on one batch, through the path
 * the methods take (techniques/core: forward, inputGradient), on wasm, one thread:
 * - forward, no gradient (occlusion, the scores of IG and deletion),
 * - forward + input gradient (saliency, IG, SmoothGrad),
 * three ways: before the fold (batch norm and ReLU6 as their own layers: runtime/fold off) with XNNPACK's 1x1
 * convolutions, folded (batch norm folded, ReLU6 fused) with XNNPACK's, and folded with our own 1x1 loop
 * (runtime/kernels/gemm, which the methods use), beside
 * PyTorch's per-op self CPU times on the same shapes (bench/captum_profile_torch.py, torch.profiler; plain torch,
 * so /usr/bin/python3 will do). Ops are grouped by what they are (convolution, depthwise, batch norm, ...); tfjs's
 * kernel times come from tf.profile (wall time of each synchronous wasm kernel).
 * Writes bench/results/captum_profile.json.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { locate } from '../src/data/store';
import { load } from '../src/models/zoo';
import { setup } from '../src/runtime/backend';
import { setFolding } from '../src/runtime/fold';
import { gemmInUse, setGemmFlavour } from '../src/runtime/kernels/gemm';
import { explainedValues, inputGradient, Explained } from '../src/techniques/core/objective';
import { arg } from './_args';

const LABELS: Record<string, string> = {
  unfolded: 'no fold, XNNPACK',
  xnnpack: 'fold, XNNPACK',
  gemm: 'fold, own 1x1',
  torch: 'PyTorch',
};

/** The group of an op name, tfjs's or PyTorch's. */
const GROUPS: [string, RegExp][] = [
  ['depthwise conv, gradient', /^DepthwiseConv2dNativeBackpropInput$|depthwise.*backward|^aten::_conv_depthwise2d_b/i],
  ['conv, gradient', /^Conv2DBackpropInput$|convolution_backward|mkldnn_convolution_backward|thnn_conv2d_backward/i],
  ['depthwise conv', /depthwise/i],
  [
    'conv (+bias, ReLU6 when fused)',
    new RegExp(
      '^FusedConv2D$|^Conv2D$|' +
        '^aten::(mkldnn_convolution|thnn_conv2d|_slow_conv2d_forward|_convolution|convolution|conv2d|_nnpack)',
      'i',
    ),
  ],
  ['batch norm, gradient', /^FusedBatchNormGrad|batch_norm_backward|native_batch_norm_backward/i],
  ['batch norm', /batch_?norm/i],
  ['ReLU6 gradient', /ClipByValueGrad|hardtanh_backward|ReluGrad|threshold_backward/i],
  ['ReLU6 (clip, min, relu)', /^(ClipByValue|Minimum|Relu|Relu6)$|hardtanh|clamp|aten::relu/i],
  ['padding', /^(Pad|PadV2|MirrorPad)$|constant_pad|aten::pad/i],
  [
    'mean, sum, reshape, copies',
    new RegExp(
      '^(Mean|Sum|Reshape|Identity|Cast|Transpose|Tile|Fill|ZerosLike|OnesLike|Slice|Concat)$|' +
        'aten::(mean|sum|view|reshape|copy_|zeros|ones|fill_|clone|empty|as_strided|t|transpose|expand|' +
        'contiguous|slice|select|_reshape_alias|flatten)',
      'i',
    ),
  ],
];
const OTHER = 'other';

function group(name: string): string {
  for (const [g, re] of GROUPS) if (re.test(name)) return g;
  return OTHER;
}

type Profile = { total: number; groups: Record<string, number>; ops: Record<string, [number, number]> };

async function profileCnnviz(fn: () => tf.Tensor, runs: number, backend: string): Promise<Profile> {
  tf.dispose(fn()); // warm-up (and the folded weights' cache)
  const ops: Record<string, [number, number]> = {};
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const info = await tf.profile(() => {
      const y = fn();
      y.dataSync();
      return y;
    });
    tf.dispose(info.result as tf.Tensor);
    for (const k of info.kernels) {
      // Registered kernels only: a customGrad op is listed under its scope and would count its kernels twice.
      if (!tf.getKernel(k.name, backend)) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const o = (ops[k.name] ??= [0, 0]);
      o[0] += ms / runs;
      o[1] += 1 / runs;
    }
  }
  const total = (performance.now() - t0) / runs;
  return { total, ops, groups: grouped(ops) };
}

function grouped(ops: Record<string, [number, number]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, [ms]] of Object.entries(ops)) out[group(name)] = (out[group(name)] ?? 0) + ms;
  return out;
}

export async function main(args: string[]): Promise<void> {
  const batch = Number(arg(args, 'batch', '16'));
  const runs = Number(arg(args, 'runs', '2'));
  const threads = Number(arg(args, 'threads', '1'));
  const python = arg(args, 'python', process.env.CNNVIZ_CAPTUM_PYTHON ?? '/usr/bin/python3');
  const { backend } = await setup({ backend: 'wasm', quiet: true, threads });
  const net = await load('mobilenet');
  const x = tf.randomUniform([batch, 224, 224, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
  const explained: Explained = { kind: 'class', targets: new Int32Array(batch).fill(1), output: 'logits' };
  console.log(
    `captum_profile: MobileNet v1 0.75, batch ${batch} at 224, ${threads} thread; ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${os.cpus().length} cores; mean of ${runs} runs; own 1x1 loop: ${gemmInUse()}`,
  );
  const passes = {
    forward: () => explainedValues(net, x, explained, 'normal', 'bench'),
    gradient: () => inputGradient(net, x, explained, 'normal', 'bench'),
  };
  const result: Record<string, Record<string, Profile>> = { forward: {}, gradient: {} };
  for (const [name, fn] of Object.entries(passes)) {
    const old = setFolding(false);
    setGemmFlavour('off');
    result[name].unfolded = await profileCnnviz(fn, runs, backend);
    setFolding(true);
    result[name].xnnpack = await profileCnnviz(fn, runs, backend);
    setGemmFlavour('auto');
    result[name].gemm = await profileCnnviz(fn, runs, backend);
    setFolding(old);
  }
  tf.dispose(x);
  const job = {
    threads,
    batch,
    runs,
    model_dir: path.dirname(locate('mobilenet', 'models/mobilenet_v1_0.75_224/model.json', 'bench captum_profile')),
  };
  const r = spawnSync(python, [path.join(__dirname, '..', '..', 'bench', 'captum_profile_torch.py')], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) console.log(`PyTorch side did not run (${python}): ${r.stderr.split('\n').slice(-3).join(' ')}`);
  else {
    const t = JSON.parse(r.stdout) as Record<string, { total_ms: number; ops: Record<string, [number, number]> }>;
    for (const name of ['forward', 'gradient'])
      result[name].torch = { total: t[name].total_ms, ops: t[name].ops, groups: grouped(t[name].ops) };
  }
  for (const name of ['forward', 'gradient']) {
    const p = result[name];
    const sides = ['unfolded', 'xnnpack', 'gemm', 'torch'].filter((s) => p[s]);
    console.log(
      `\n${name === 'forward' ? 'forward, no gradient' : 'forward + input gradient'} (ms per batch of ${batch})`,
    );
    console.log(`| op group | ${sides.map((s) => LABELS[s]).join(' | ')} |`);
    console.log(`|---|${sides.map(() => '---:').join('|')}|`);
    const names = [...GROUPS.map((g) => g[0]), OTHER].filter((g) => sides.some((s) => (p[s].groups[g] ?? 0) > 0.05));
    for (const g of names) console.log(`| ${g} | ${sides.map((s) => (p[s].groups[g] ?? 0).toFixed(1)).join(' | ')} |`);
    const sum = (s: string) => Object.values(p[s].groups).reduce((a, b) => a + b, 0);
    console.log(`| sum of ops | ${sides.map((s) => sum(s).toFixed(1)).join(' | ')} |`);
    console.log(`| wall of the pass | ${sides.map((s) => p[s].total.toFixed(1)).join(' | ')} |`);
    for (const s of sides) {
      const top = Object.entries(p[s].ops)
        .sort((a, b) => b[1][0] - a[1][0])
        .slice(0, 8)
        .map(([n, [ms, c]]) => `${n} ${ms.toFixed(1)} (${Math.round(c)}x)`);
      console.log(`  top ${s}: ${top.join(', ')}`);
    }
  }
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'captum_profile.json'),
    JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), batch, runs, threads, result }, null, 2),
  );
}
