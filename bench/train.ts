/**
 * `npm run bench -- train [--rounds 3] [--steps 60] [--no-peers]`
 *
 * Training speed of the fashion-cnn recipe (batch 64, Adam) on 1 and 2 threads, beside PyTorch's training step of the
 * same architecture on 1 and 2 threads (bench/engine_torch.py). With 2 threads cnnviz computes each batch as two
 * halves, one on a worker of the pool (runtime/pool), so the 2-thread time shows whether the pool overlaps the two
 * halves. Per step: the time between the step-10 progress report and the last step's, so the worker's start and the
 * accuracy probe are outside it. 1 and 2 threads alternate their order round by round; ratios are taken within a
 * round. Writes bench/results/train.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { closePool } from '../src/runtime/pool';
import { setup } from '../src/runtime/backend';
import { trainCnn } from '../src/models/train';
import { torchRun } from './engine';

interface Args {
  rounds: number;
  steps: number;
  peers: boolean;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string, fallback: number): number => {
    const i = argv.indexOf(`--${flag}`);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`bench train: --${flag} must be a positive integer, got '${argv[i + 1]}'`);
    return n;
  };
  const known = ['--rounds', '--steps', '--no-peers'];
  const takesValue = ['--rounds', '--steps'];
  const bad = argv.filter((a, i) => !known.includes(a) && !takesValue.includes(argv[i - 1]));
  if (bad.length) throw new Error(`bench train: unknown option ${bad.join(' ')} (valid: ${known.join(', ')})`);
  const steps = value('steps', 60);
  if (steps < 20) throw new Error(`bench train: --steps must be at least 20 (timing starts at step 10), got ${steps}`);
  return { rounds: value('rounds', 3), steps, peers: !argv.includes('--no-peers') };
}

/** Milliseconds per training step between step 10 and the last step. */
async function cnnvizStep(threads: 1 | 2, steps: number): Promise<number> {
  const marks: Array<{ step: number; seconds: number }> = [];
  const r = await trainCnn({
    dataset: 'fashion-mnist',
    epochs: 1,
    limit: steps * 64,
    batchSize: 64,
    shift: 0,
    learningRate: 2e-3,
    threads,
    seed: 1,
    progressEvery: 1,
    onProgress: (p) => {
      if (p.testAccuracy === undefined) marks.push({ step: p.step, seconds: p.seconds });
    },
  });
  r.model.dispose();
  await closePool();
  const first = marks.find((m) => m.step === 10)!;
  const last = marks[marks.length - 1];
  return ((last.seconds - first.seconds) * 1000) / (last.step - first.step);
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const backend = await setup({ quiet: true });
  console.log(`backend ${backend.backend}; fashion-cnn recipe, batch 64, ${args.steps} steps, ${args.rounds} rounds`);
  const rounds: Array<Record<string, number>> = [];
  let torchVersion: string | undefined;
  let torchError: string | undefined;
  for (let r = 0; r < args.rounds; r++) {
    const row: Record<string, number> = {};
    for (const threads of r % 2 ? ([2, 1] as const) : ([1, 2] as const))
      row[`cnnviz ${threads}`] = await cnnvizStep(threads, args.steps);
    if (args.peers && !torchError) {
      const jobs = ([1, 2] as const).map((threads) => ({
        net: 'fashion-cnn' as const,
        case: 'trainStep' as const,
        batch: 64,
        threads,
        runs: args.steps - 10,
        warmup: 10,
      }));
      const t = torchRun(jobs);
      if (t.error) torchError = t.error;
      torchVersion = t.version;
      for (const res of t.results ?? []) row[`pytorch ${res.job.threads}`] = res.median_ms;
    }
    rounds.push(row);
    console.log(
      `round ${r + 1}: ` +
        Object.entries(row)
          .map(([k, v]) => `${k} thread(s) ${v.toFixed(1)} ms/step`)
          .join(', '),
    );
  }
  const col = (k: string) => rounds.map((row) => row[k]).filter((v) => v !== undefined);
  const ratio = (a: string, b: string) =>
    median(rounds.filter((row) => row[a] && row[b]).map((row) => row[a] / row[b]));
  const summary: Record<string, number> = {};
  for (const k of ['cnnviz 1', 'cnnviz 2', 'pytorch 1', 'pytorch 2'])
    if (col(k).length) summary[`${k} ms/step`] = median(col(k));
  summary['cnnviz speed-up, 2 threads over 1'] = ratio('cnnviz 1', 'cnnviz 2');
  if (col('pytorch 1').length) {
    summary['pytorch speed-up, 2 threads over 1'] = ratio('pytorch 1', 'pytorch 2');
    summary['cnnviz / pytorch, 1 thread'] = ratio('cnnviz 1', 'pytorch 1');
    summary['cnnviz / pytorch, 2 threads'] = ratio('cnnviz 2', 'pytorch 2');
  }
  console.log('\nmedians over rounds (ratios within a round):');
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(38)} ${v.toFixed(k.includes('ms') ? 1 : 2)}`);
  if (torchError) console.log(`PyTorch peer not run: ${torchError}`);
  const out = path.join(__dirname, '..', '..', 'bench', 'results', 'train.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      { date: new Date().toISOString(), args, backend: backend.backend, torch: torchVersion ?? null, rounds, summary },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}
