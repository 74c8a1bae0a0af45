/**
 * `npm run bench -- engine [--runs 5] [--rounds 3] [--pool-runs 3] [--cpu-runs 1] [--cpu-train] [--nets
 * fashion-cnn,vgg,mobilenet] [--peers ...] [--no-pool]`
 *
 * Forward pass, input gradient (saliency of a batch) and one training step (adam) on three
 * nets, side by side: tfjs cpu, tfjs wasm as shipped, tfjs wasm with cnnviz's kernels,
 * tfjs-node when it loads, PyTorch CPU when `python3 -c "import torch"` works; all one thread.
 * Then the worker pool: input gradients of a batch of 64 on 1 and 2 threads, beside PyTorch
 * on 2 threads. Median of the runs after warm-up; wall-clock time, and CPU time of this
 * process beside it (the box may be shared). cnnviz and PyTorch run in turns (--rounds), and
 * each ratio between them is taken within a round. Writes bench/results/engine.json.
 */
import { spawnSync } from 'child_process';
import { Worker } from 'worker_threads';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels, unregisterWasmKernels } from '../src/runtime/kernels';
import { closePool, runBatched } from '../src/runtime/pool';
import { NetName, NETS, NET_NAMES } from './_engine_nets';

const CASES = ['forward', 'inputGradient', 'trainStep'] as const;
type Case = (typeof CASES)[number];
const PEERS = ['tfjs-cpu', 'wasm-stock', 'wasm-cnnviz', 'tfjs-node', 'pytorch'] as const;
type Peer = (typeof PEERS)[number];

interface Timing {
  medianMs?: number;
  cpuMs?: number;
  ms?: number[];
  error?: string;
}

interface Args {
  runs: number;
  warmup: number;
  nets: NetName[];
  peers: Peer[];
  pool: boolean;
  poolBatch: number;
  /** tfjs-cpu takes minutes per training step on the larger nets: fewer runs, no warm-up. */
  cpuRuns: number;
  /** Run tfjs-cpu training steps on vgg and mobilenet too (over 15 minutes a step here). */
  cpuTrain: boolean;
  /** Rounds of cnnviz then PyTorch (ratios are taken within a round). */
  rounds: number;
  /** Runs of each pool case per round. */
  poolRuns: number;
}

function listArg<T extends string>(raw: string | undefined, valid: readonly T[], what: string): T[] {
  if (raw === undefined) return [...valid];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    if (!(valid as readonly string[]).includes(i))
      throw new Error(`bench engine: unknown ${what} '${i}'; valid: ${valid.join(', ')}`);
  }
  return items as T[];
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positive = (name: string, fallback: number): number => {
    const v = Number(get(name) ?? fallback);
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`bench engine: --${name} must be a positive integer, got ${get(name)}`);
    return v;
  };
  const runs = positive('runs', 5);
  return {
    runs,
    warmup: Number(get('warmup') ?? 2),
    nets: listArg(get('nets'), NET_NAMES, 'net'),
    peers: listArg(get('peers'), PEERS, 'peer'),
    pool: !argv.includes('--no-pool'),
    poolBatch: Number(get('pool-batch') ?? 64),
    cpuRuns: Number(get('cpu-runs') ?? 1),
    cpuTrain: argv.includes('--cpu-train'),
    rounds: positive('rounds', 3),
    poolRuns: positive('pool-runs', 3),
  };
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The three cases on one net, on whatever backend is active. */
async function runNet(net: NetName, args: Args): Promise<Record<Case, Timing>> {
  const spec = NETS[net];
  const model = spec.build(1);
  // The training step updates its weights every run: on a model of its own, so the forward and
  // input-gradient cases keep fixed weights (XNNPACK packs a conv's weights once per tensor, and
  // fresh weights before every forward pass would time the packing too).
  const trainModel = spec.build(1);
  const x = tf.randomUniform([spec.batch, ...spec.inputShape], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([spec.batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
  const optimizer = tf.train.adam();
  const forward = (): void => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync());
  const inputGradient = (): void =>
    tf.tidy(
      () =>
        void tf
          .grad((a: tf.Tensor) => (model.predict(a) as tf.Tensor).slice([0, 0], [-1, 1]).sum())(x)
          .dataSync(),
    );
  const trainStep = (): void => {
    const cost = optimizer.minimize(
      () =>
        tf.metrics.categoricalCrossentropy(y, trainModel.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
      true,
    );
    cost!.dataSync();
    cost!.dispose();
  };
  const slow = tf.getBackend() === 'cpu';
  const out = {} as Record<Case, Timing>;
  const cases = (
    [
      ['forward', forward],
      ['inputGradient', inputGradient],
      ['trainStep', trainStep],
    ] as const
  ).filter(([name]) => {
    if (slow && name === 'trainStep' && net !== 'fashion-cnn' && !args.cpuTrain) {
      out[name] = { error: 'skipped (over 15 minutes a step; --cpu-train runs it)' };
      return false;
    }
    return true;
  });
  // The cases take turns run by run, so a drift in this box's speed (up to 2x over minutes
  // here) hits the forward pass and the gradients alike and their ratio stays fair.
  const ms: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const failed = new Set<string>();
  const warmup = slow ? 0 : args.warmup;
  const runs = slow ? args.cpuRuns : args.runs;
  for (let r = 0; r < warmup + runs; r++) {
    for (const [name, fn] of cases) {
      if (failed.has(name)) continue;
      try {
        const c = cpuNow();
        const t = performance.now();
        fn();
        if (r >= warmup) {
          (ms[name] ??= []).push(performance.now() - t);
          (cpu[name] ??= []).push(cpuNow() - c);
        }
      } catch (err) {
        failed.add(name);
        out[name] = { error: String((err as Error).message ?? err).split('\n')[0] };
      }
    }
  }
  for (const [name] of cases) {
    if (!failed.has(name)) out[name] = { medianMs: median(ms[name]), cpuMs: median(cpu[name]), ms: ms[name] };
    process.stdout.write('.');
  }
  model.dispose();
  trainModel.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
  return out;
}

async function usePeer(peer: Peer): Promise<string | undefined> {
  if (peer === 'tfjs-cpu') return (await tf.setBackend('cpu')) ? undefined : 'cpu backend failed';
  if (peer === 'tfjs-node') {
    try {
      require('@tensorflow/tfjs-node');
    } catch (err) {
      return `tfjs-node does not load (${String((err as Error).message).split('\n')[0]})`;
    }
    return (await tf.setBackend('tensorflow')) ? undefined : 'tensorflow backend failed to start';
  }
  if (!(await tf.setBackend('wasm'))) return 'wasm backend failed';
  if (peer === 'wasm-stock') unregisterWasmKernels();
  else registerWasmKernels();
  return undefined;
}

export interface TorchJob {
  net: NetName;
  case: Case;
  batch: number;
  threads: number;
  runs: number;
  warmup: number;
}

export function torchRun(jobs: TorchJob[]): {
  results?: Array<{ job: TorchJob; median_ms: number; ms: number[] }>;
  version?: string;
  error?: string;
} {
  // The first python that imports torch (Debian's python3-torch lives in /usr/bin/python3).
  const candidates = [process.env.CNNVIZ_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) return { error: `no python imports torch (tried ${candidates.join(', ')})` };
  const r = spawnSync(python, [path.join(__dirname, '..', '..', 'bench', 'engine_torch.py')], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_NUM_THREADS: undefined },
  });
  if (r.status !== 0) return { error: `engine_torch.py failed: ${(r.stderr || '').trim().split('\n').pop()}` };
  const parsed = JSON.parse(r.stdout) as {
    torch: string;
    results: Array<{ job: TorchJob; median_ms: number; ms: number[] }>;
  };
  return { results: parsed.results, version: parsed.torch };
}

function fmt(t: Timing | undefined): string {
  if (!t) return '-';
  if (t.error?.startsWith('skipped')) return 'skipped';
  if (t.error) return 'fails';
  return t.medianMs! >= 100 ? t.medianMs!.toFixed(0) : t.medianMs!.toFixed(1);
}

function ratio(a: Timing | undefined, b: Timing | undefined): number | undefined {
  return a?.medianMs !== undefined && b?.medianMs !== undefined ? a.medianMs / b.medianMs : undefined;
}

function fr(r: number | undefined): string {
  return r === undefined ? '-' : `${r.toFixed(2)}x`;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/**
 * How much two threads can run at once on this box right now: the same fixed spin in 1 and
 * in 2 worker threads; 2.0 on two free cores, near 1.0 when other work holds one of them.
 */
async function parallelCapacity(): Promise<number> {
  const spin = (threads: number): Promise<number> => {
    const t = performance.now();
    const jobs = Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(
            'let s = 0; for (let i = 0; i < 3e8; i++) s = (s + i) | 0; ' +
              'require("worker_threads").parentPort.postMessage(s);',
            { eval: true },
          );
          w.once('message', () => {
            void w.terminate();
            resolve();
          });
          w.once('error', reject);
        }),
    );
    return Promise.all(jobs).then(() => performance.now() - t);
  };
  const one = await spin(1);
  const two = await spin(2);
  return (2 * one) / two;
}

/** Input gradients of a batch on the worker pool, 1 and 2 threads alternating run by run. */
async function runPoolRound(args: Args): Promise<Record<string, Record<string, Timing>>> {
  const pool: Record<string, Record<string, Timing>> = {};
  for (const net of args.nets) {
    const spec = NETS[net];
    const model = spec.build(1);
    const x = tf.randomUniform([args.poolBatch, ...spec.inputShape], 0, 1, 'float32', 3) as tf.Tensor4D;
    pool[net] = {};
    const one = async (threads: number): Promise<void> => {
      const g = await runBatched(model, x, 'inputGradient', { threads, options: { target: 0 } });
      g.dispose();
    };
    const times: Record<number, number[]> = { 1: [], 2: [] };
    const cpus: Record<number, number[]> = { 1: [], 2: [] };
    for (let r = 0; r < args.warmup + args.poolRuns; r++) {
      for (const threads of [1, 2]) {
        const c = cpuNow();
        const t = performance.now();
        await one(threads);
        if (r >= args.warmup) {
          times[threads].push(performance.now() - t);
          cpus[threads].push(cpuNow() - c);
        }
      }
      process.stdout.write('.');
    }
    for (const threads of [1, 2]) {
      pool[net][`${threads} thread${threads > 1 ? 's' : ''}`] = {
        medianMs: median(times[threads]),
        cpuMs: median(cpus[threads]),
        ms: times[threads],
      };
    }
    model.dispose();
    x.dispose();
  }
  await closePool();
  return pool;
}

/** All runs of several rounds as one timing (median over every run); an error if any round failed. */
function merged(ts: Array<Timing | undefined>): Timing | undefined {
  const present = ts.filter((t): t is Timing => !!t);
  if (!present.length) return undefined;
  const failed = present.find((t) => t.error);
  if (failed) return failed;
  const ms = present.flatMap((t) => t.ms ?? []);
  const cpu = present.map((t) => t.cpuMs).filter((c): c is number => c !== undefined);
  return { medianMs: median(ms), cpuMs: cpu.length ? median(cpu) : undefined, ms };
}

/** The ratio a / b in each round (both measured minutes apart at most), and their median. */
function roundRatios(
  a: Array<Timing | undefined>,
  b: Array<Timing | undefined>,
): { median?: number; rounds: Array<number | null> } {
  const rounds = a.map((t, i) => ratio(t, b[i]) ?? null);
  const ok = rounds.filter((r): r is number => r !== null);
  return { median: ok.length ? median(ok) : undefined, rounds };
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const results: Record<string, Record<string, Record<string, Timing>>> = {};
  const notes: Record<string, string> = {};
  // The reference peers run once; cnnviz and PyTorch take turns in rounds (below).
  for (const peer of args.peers.filter((p) => p !== 'pytorch' && p !== 'wasm-cnnviz')) {
    const problem = await usePeer(peer);
    if (problem) {
      notes[peer] = problem;
      continue;
    }
    process.stdout.write(`${peer} `);
    for (const net of args.nets) {
      results[net] ??= {};
      const byCase = await runNet(net, args);
      for (const c of CASES) (results[net][c] ??= {})[peer] = byCase[c];
    }
    process.stdout.write('\n');
  }
  await usePeer('wasm-cnnviz');

  // This box's speed drifts by up to 2x over minutes, so a ratio between two engines measured
  // ten minutes apart says little. Each round measures cnnviz, then at once PyTorch on the same
  // jobs; a ratio is taken within a round, and the rounds' median is reported.
  const ours: Array<Record<string, Record<Case, Timing>>> = [];
  const torch: Array<Record<string, Record<string, Timing>>> = [];
  const pools: Array<Record<string, Record<string, Timing>>> = [];
  const capacities: number[] = [];
  let torchVersion: string | undefined;
  const withTorch = args.peers.includes('pytorch');
  for (let round = 0; round < args.rounds; round++) {
    process.stdout.write(`round ${round + 1}/${args.rounds}: `);
    const mine: Record<string, Record<Case, Timing>> = {};
    if (args.peers.includes('wasm-cnnviz')) {
      process.stdout.write('wasm-cnnviz ');
      for (const net of args.nets) mine[net] = await runNet(net, args);
    }
    ours.push(mine);
    if (args.pool) {
      capacities.push(await parallelCapacity());
      process.stdout.write(' pool ');
      pools.push(await runPoolRound(args));
    }
    const theirs: Record<string, Record<string, Timing>> = {};
    if (withTorch) {
      const jobs: TorchJob[] = [];
      for (const net of args.nets)
        for (const c of CASES)
          jobs.push({ net, case: c, batch: NETS[net].batch, threads: 1, runs: args.runs, warmup: args.warmup });
      if (args.pool)
        for (const net of args.nets)
          jobs.push({
            net,
            case: 'inputGradient',
            batch: args.poolBatch,
            threads: 2,
            runs: args.poolRuns,
            warmup: args.warmup,
          });
      process.stdout.write(' pytorch');
      const t = torchRun(jobs);
      if (t.error) notes.pytorch = t.error;
      torchVersion = t.version;
      for (const r of t.results ?? []) {
        const key = r.job.threads === 1 ? r.job.case : 'pool';
        (theirs[r.job.net] ??= {})[key] = { medianMs: r.median_ms, ms: r.ms };
      }
    }
    torch.push(theirs);
    process.stdout.write('\n');
  }
  const perRound: Record<
    string,
    Record<string, { vsPytorch: Array<number | null>; vsForward: Array<number | null> }>
  > = {};
  for (const net of args.nets) {
    results[net] ??= {};
    perRound[net] = {};
    for (const c of CASES) {
      const row = (results[net][c] ??= {});
      const o = ours.map((r) => r[net]?.[c]);
      const t = torch.map((r) => r[net]?.[c]);
      const m = merged(o);
      if (m) row['wasm-cnnviz'] = m;
      const mt = merged(t);
      if (mt) row.pytorch = mt;
      perRound[net][c] = {
        vsPytorch: roundRatios(o, t).rounds,
        vsForward: roundRatios(
          o,
          ours.map((r) => r[net]?.forward),
        ).rounds,
      };
    }
  }
  const pool: Record<string, Record<string, Timing>> = {};
  if (args.pool) {
    for (const net of args.nets) {
      pool[net] = {};
      for (const k of ['1 thread', '2 threads']) {
        const m = merged(pools.map((p) => p[net]?.[k]));
        if (m) pool[net][k] = m;
      }
      const t2 = merged(torch.map((r) => r[net]?.pool));
      if (t2) pool[net]['pytorch 2 threads'] = t2;
    }
  }
  const capacity = capacities.length ? median(capacities) : undefined;
  const medianOf = (xs: Array<number | null>): number | undefined => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? median(ok) : undefined;
  };
  const rounds = (xs: Array<number | null>): string =>
    args.rounds > 1 ? ` (${xs.map((x) => (x === null ? '-' : x.toFixed(2))).join(' ')})` : '';

  // Table 1: engines side by side, one thread.
  const w = [12, 14, 9, 10, 11, 10, 9, 11, 11];
  console.log(
    `\nEngine benchmark, one thread, ${args.rounds} round(s) of ${args.runs} runs after ${args.warmup} warm-up ` +
      `each, cnnviz and PyTorch in turn ` +
      `(tfjs-cpu and wasm-stock once; tfjs-cpu: ${args.cpuRuns} run(s)) (ms, wall clock, median of all runs; ` +
      `ratios: median over the rounds of the ratio within a round); ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(
    pad(
      ['net', 'case', 'tfjs-cpu', 'wasm-stock', 'wasm-cnnviz', 'tfjs-node', 'pytorch', 'vs pytorch', 'vs forward'],
      w,
    ),
  );
  const json: Record<string, unknown> = {};
  const perRoundLines: string[] = [];
  for (const net of args.nets) {
    for (const c of CASES) {
      const row = results[net]?.[c] ?? {};
      const ours1 = row['wasm-cnnviz'];
      const pr = perRound[net][c];
      const vsTorch = medianOf(pr.vsPytorch);
      const vsFwd = c === 'forward' ? 1 : medianOf(pr.vsForward);
      console.log(
        pad(
          [
            net,
            c,
            fmt(row['tfjs-cpu']),
            fmt(row['wasm-stock']),
            fmt(ours1),
            fmt(row['tfjs-node']),
            fmt(row.pytorch),
            fr(vsTorch),
            c === 'forward' ? '' : fr(vsFwd),
          ],
          w,
        ),
      );
      if (args.rounds > 1)
        perRoundLines.push(
          `${net} ${c}: vs pytorch${rounds(pr.vsPytorch)}` +
            (c === 'forward' ? '' : `, vs forward${rounds(pr.vsForward)}`),
        );
      const entry: Record<string, unknown> = {};
      for (const [peer, t] of Object.entries(row))
        entry[peer] = { ...t, ratioToPytorch: ratio(t, row.pytorch) ?? null };
      entry.ratioToPytorch = vsTorch ?? null;
      entry.ratioToForward = vsFwd ?? null;
      entry.rounds = pr;
      json[net] ??= {} as Record<string, unknown>;
      (json[net] as Record<string, unknown>)[c] = entry;
    }
  }
  if (perRoundLines.length) console.log(`per round:\n  ${perRoundLines.join('\n  ')}`);
  if (args.pool) {
    console.log(
      `\nWorker pool: input gradient of a batch of ${args.poolBatch}, wasm-cnnviz, ${args.rounds} round(s) ` +
        `of ${args.poolRuns} runs (ms, wall clock); ` +
        `this box ran ${capacities.map((c) => c.toFixed(2)).join(' / ')} threads' worth of a pure spin on 2 ` +
        `threads before each round`,
    );
    const pw = [12, 1, 10, 10, 9, 12, 11];
    console.log(pad(['net', '', '1 thread', '2 threads', 'speed-up', 'pytorch x2', 'vs pytorch'], pw));
    const lines: string[] = [];
    for (const net of args.nets) {
      const p = pool[net] ?? {};
      const speed = roundRatios(
        pools.map((q) => q[net]?.['1 thread']),
        pools.map((q) => q[net]?.['2 threads']),
      );
      const vs = roundRatios(
        pools.map((q) => q[net]?.['2 threads']),
        torch.map((r) => r[net]?.pool),
      );
      console.log(
        pad(
          [
            net,
            '',
            fmt(p['1 thread']),
            fmt(p['2 threads']),
            fr(speed.median),
            fmt(p['pytorch 2 threads']),
            fr(vs.median),
          ],
          pw,
        ),
      );
      if (args.rounds > 1) lines.push(`${net}: speed-up${rounds(speed.rounds)}, vs pytorch${rounds(vs.rounds)}`);
      (json[net] as Record<string, unknown>).pool = {
        ...p,
        speedup: speed.median ?? null,
        ratioToPytorch2: vs.median ?? null,
        rounds: { speedup: speed.rounds, vsPytorch2: vs.rounds },
      };
    }
    if (lines.length) console.log(`per round:\n  ${lines.join('\n  ')}`);
  }
  for (const [peer, note] of Object.entries(notes)) console.log(`note: ${peer}: ${note}`);
  const loads = os.loadavg();
  const out = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    loadAverage: loads,
    node: process.version,
    tfjs: tf.version.tfjs,
    torch: torchVersion ?? null,
    runs: args.runs,
    warmup: args.warmup,
    cpuRuns: args.cpuRuns,
    rounds: args.rounds,
    poolRuns: args.poolRuns,
    parallelCapacity: capacity ?? null,
    parallelCapacityPerRound: capacities,
    notes,
    results: json,
  };
  const dir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'engine.json'), JSON.stringify(out, null, 2));
  console.log(
    `load average ${loads.map((l) => l.toFixed(1)).join(' ')}; ` +
      `wrote ${path.relative(process.cwd(), path.join(dir, 'engine.json'))}`,
  );
}
