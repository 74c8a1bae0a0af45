import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { load, modelNames } from '../models/zoo';
import { setup } from '../runtime/backend';
import { ExplorerServer } from '../explorer/server';
import { fail } from '../common';

/** Models the explorer offers by name (the page's model menu too): the ImageNet ones first. */
export const EXPLORE_MODELS = [...modelNames()].sort((a, b) => Number(a.endsWith('-cnn')) - Number(b.endsWith('-cnn')));

export const EXPLORE_USAGE =
  'usage: cnnviz explore [--model NAME|PATH] [--port N] [--data NAME|FOLDER|none] [--data-limit N] ' +
  '[--allow-dir FOLDER]...\n' +
  '  --allow-dir: the page may load model.json files under FOLDER by path (default: model names only)';
const FLAGS = ['--model', '--port', '--data', '--data-limit', '--allow-dir', '--help'];

export interface ExploreArgs {
  model: string;
  port: number;
  data?: string | null;
  dataLimit?: number;
  /** folders the page may load model.json files from */
  allowDirs: string[];
}

function isModelPath(p: string): boolean {
  if (!fs.existsSync(p)) return false;
  return fs.statSync(p).isDirectory() ? fs.existsSync(`${p}/model.json`) : true;
}

/** Parses and checks the arguments; an Error names the bad value and the valid choices. */
export function parseExploreArgs(args: string[]): ExploreArgs {
  const out: ExploreArgs = { model: 'mobilenet', port: 8090, allowDirs: [] };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (!FLAGS.includes(flag))
      fail('cnnviz explore', `unknown option '${flag}'; valid: ${FLAGS.join(', ')}\n${EXPLORE_USAGE}`);
    if (flag === '--help') throw new Error(EXPLORE_USAGE);
    const value = args[++i];
    if (value === undefined || value.startsWith('--'))
      fail('cnnviz explore', `${flag} needs a value\n${EXPLORE_USAGE}`);
    if (flag === '--model') {
      if (!EXPLORE_MODELS.includes(value) && !isModelPath(value)) {
        fail(
          'cnnviz explore',
          `--model '${value}' is neither a model name (${EXPLORE_MODELS.join(', ')}) nor a path to ` +
            `a model.json or a folder holding one`,
        );
      }
      out.model = value;
    } else if (flag === '--port') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 65535)
        fail('cnnviz explore', `--port '${value}' is not a port number (0-65535; 0 picks a free one)`);
      out.port = n;
    } else if (flag === '--allow-dir') {
      if (!fs.existsSync(value) || !fs.statSync(value).isDirectory())
        fail('cnnviz explore', `--allow-dir '${value}' is not a folder\n${EXPLORE_USAGE}`);
      out.allowDirs.push(value);
    } else if (flag === '--data') {
      out.data = value === 'none' ? null : value;
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        fail('cnnviz explore', `--data-limit '${value}' must be a positive whole number of images`);
      out.dataLimit = n;
    }
  }
  return out;
}

async function loadForExplorer(nameOrPath: string): Promise<tf.LayersModel> {
  if (!EXPLORE_MODELS.includes(nameOrPath) && !isModelPath(nameOrPath)) {
    fail(
      'cnnviz explore',
      `'${nameOrPath}' is neither a model name (${EXPLORE_MODELS.join(', ')}) nor a path to a ` +
        `model.json or a folder holding one`,
    );
  }
  return load(nameOrPath);
}

/** `cnnviz explore`: serves the explorer page on 127.0.0.1 until stopped. */
export async function exploreMain(args: string[]): Promise<number> {
  let a: ExploreArgs;
  try {
    a = parseExploreArgs(args);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  await setup();
  const model = await loadForExplorer(a.model);
  const server = new ExplorerServer({
    port: a.port,
    modelChoices: EXPLORE_MODELS,
    allowDirs: a.allowDirs,
    log: (line) => console.error(line),
    loadModel: async (what) => ({
      model: await loadForExplorer(what),
      options: { data: a.data, dataLimit: a.dataLimit },
    }),
  });
  server.add(model, { name: a.model.includes('/') ? undefined : a.model, data: a.data, dataLimit: a.dataLimit });
  const url = await server.listen();
  console.log(`cnnviz explore: ${a.model} at ${url}  (Ctrl-C stops it)`);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      // a second signal while the jobs wind down: leave at once
      if (stopping) process.exit(130);
      stopping = true;
      void server.close().then(() => {
        resolve(0);
        // nothing of the explorer keeps the process alive now; a worker thread of a job must not either
        setTimeout(() => process.exit(0), 2000).unref();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
