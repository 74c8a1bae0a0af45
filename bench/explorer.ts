/**
 * `npm run bench -- explorer [--model NAME|PATH] [--rounds N] [--backends webgl,wasm] [--occlusion]`: how long
 * the explorer page takes to update in Debian's headless Chromium, per backend (WebGL there is
 * SwiftShader, a software renderer; wasm runs on the CPU's threads). Measured in the page, from
 * the action to the drawn view: a new image (top-5, class maps, activation grid, channel detail),
 * a layer click, a channel click (large map + guided backprop), a class click (saliency +
 * Grad-CAM), and (with --occlusion) the whole occlusion sweep, which fills in afterwards. The first of each is
 * reported apart (WebGL compiles its shaders then). JSON in bench/results/explorer.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { setup } from '../src/runtime/backend';
import { load } from '../src/models/zoo';
import { ExplorerServer } from '../src/explorer/server';

interface PageTimes {
  ready: number;
  backend: string;
  renderer?: string;
  image: number[];
  layer: number[];
  channel: number[];
  cls: number[];
  occlusion: number;
}

function option(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

declare const window: {
  cnnvizExplorer: {
    ready: boolean;
    error?: string;
    backend: string;
    renderer?: string;
    info: { spatialLayers: string[] };
    app: BenchApp;
  };
};
interface BenchApp {
  occlusionOn: boolean;
  net: { width: number; height: number; channels: number };
  activation: { channels: number };
  top5: { index: number }[];
  timings: { what: string; ms: number }[];
  setImage(p: Float32Array, name: string): Promise<void>;
  pickLayer(l: string): Promise<void>;
  pickChannel(c: number): Promise<void>;
  pickClass(c: number): Promise<void>;
}

export async function main(args: string[]): Promise<void> {
  const modelName = option(args, '--model', 'mobilenet');
  const rounds = Number(option(args, '--rounds', '5'));
  const backends = option(args, '--backends', 'webgl,wasm').split(',');
  const withOcclusion = args.includes('--occlusion');
  await setup();
  const model = await load(modelName);
  const server = new ExplorerServer({ port: 0 });
  server.add(model, { name: modelName, data: null });
  const url = await server.listen();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--no-first-run'],
  });
  const results: PageTimes[] = [];
  try {
    for (const backend of backends) {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      const t0 = Date.now();
      await page.goto(`${url}?backend=${backend}`, { timeout: 600000, waitUntil: 'domcontentloaded' });
      await page.waitForFunction(
        () => window.cnnvizExplorer && (window.cnnvizExplorer.ready || !!window.cnnvizExplorer.error),
        null,
        { timeout: 600000 },
      );
      const ready = Date.now() - t0;
      const times = await page.evaluate(
        async ([n, occlusion]) => {
          const hook = window.cnnvizExplorer;
          if (hook.error) throw new Error(hook.error);
          const app = hook.app;
          app.occlusionOn = false;
          const layers = hook.info.spatialLayers;
          const px = new Float32Array(app.net.width * app.net.height * app.net.channels);
          const out = { image: [] as number[], layer: [] as number[], channel: [] as number[], cls: [] as number[] };
          const time = async (list: number[], fn: () => Promise<void>) => {
            const t = performance.now();
            await fn();
            list.push(performance.now() - t);
          };
          for (let i = 0; i < n; i++) {
            for (let k = 0; k < px.length; k++) px[k] = Math.random();
            await time(out.image, () => app.setImage(px, `noise ${i}`));
            await time(out.layer, () => app.pickLayer(layers[Math.floor(((i + 1) * layers.length) / (n + 1))]));
            await time(out.channel, () => app.pickChannel((7 * i + 3) % app.activation.channels));
            await time(out.cls, () => app.pickClass(app.top5[1 + (i % 4)].index));
          }
          if (!occlusion) return { ...out, occlusion: NaN };
          app.occlusionOn = true;
          const before = app.timings.length;
          await app.pickClass(app.top5[0].index);
          for (let w = 0; w < 1200 && !app.timings.slice(before).some((t) => t.what.startsWith('occlusion')); w++)
            await new Promise((r) => setTimeout(r, 250));
          const occ = app.timings.slice(before).find((t) => t.what.startsWith('occlusion'));
          return { ...out, occlusion: occ ? occ.ms : NaN };
        },
        [rounds, withOcclusion] as const,
      );
      const info = await page.evaluate(() => ({
        backend: window.cnnvizExplorer.backend,
        renderer: window.cnnvizExplorer.renderer,
      }));
      results.push({ ready, ...info, ...times });
      console.log(JSON.stringify(results[results.length - 1]));
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const rows = results.map((r) => ({
    backend: r.backend + (r.renderer ? ` (${r.renderer.replace(/^ANGLE \(Google, /, '').slice(0, 40)})` : ''),
    'page ready (s)': (r.ready / 1000).toFixed(1),
    'new image: first / median (ms)': `${r.image[0].toFixed(0)} / ${median(r.image.slice(1)).toFixed(0)}`,
    'layer click (ms)': `${r.layer[0].toFixed(0)} / ${median(r.layer.slice(1)).toFixed(0)}`,
    'channel click (ms)': `${r.channel[0].toFixed(0)} / ${median(r.channel.slice(1)).toFixed(0)}`,
    'class click (ms)': `${r.cls[0].toFixed(0)} / ${median(r.cls.slice(1)).toFixed(0)}`,
    'occlusion sweep (ms)': r.occlusion.toFixed(0),
  }));
  console.log(
    `explorer update times, ${modelName}, ${rounds} rounds, ${os.cpus().length} cores (${os.cpus()[0]?.model}), ` +
      `load average ${os.loadavg()[0].toFixed(1)}`,
  );
  console.table(rows);
  const dir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'explorer.json'),
    JSON.stringify(
      {
        model: modelName,
        rounds,
        cores: os.cpus().length,
        loadAverage: os.loadavg(),
        date: new Date().toISOString(),
        results,
      },
      null,
      1,
    ),
  );
}
