// The explorer end to end: `cnnviz explore` started as a user starts it, the page opened in
// Debian's Chromium through playwright-core, offline (any request not to the explorer's own
// server fails the test), and what the page computes on its TensorFlow.js compared with the
// node side's techniques on the very same pixels.
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as Module from 'module';
import * as os from 'os';
import * as path from 'path';
import { createCanvas } from '@napi-rs/canvas';
import { Browser, Page } from 'playwright-core';
import { launchOfflineChromium } from './util/browser';
import { gradCam, guidedBackprop, images, models, saliency, show, tf } from '../src';
import { decodeImage, rgbaToFloat } from '../src/data/images';
import { REPO } from './util/notebook';

const ARTIFACTS = path.join(REPO, 'test', 'artifacts');
const CLI = path.join(REPO, 'build', 'src', 'cli.js');

interface Hook {
  ready: boolean;
  error?: string;
  backend?: string;
  busy: number;
  app: {
    x: { dataSync(): Float32Array };
    top5: { index: number; name: string; prob: number }[];
    cls: number;
    layer: string;
    channel: number;
    occlusionOn: boolean;
    imageName: string;
    pickChannel(c: number): Promise<void>;
    grid: { cols: number; tileW: number; tileH: number; gap: number };
    net: {
      camLayer: string | null;
      classMaps(x: unknown, c: number): Promise<{ saliency: Float32Array; gradCam: Float32Array | null }>;
      guided(x: unknown, l: string, c: number): Promise<Float32Array>;
    };
  };
}
declare const window: { cnnvizExplorer: Hook };

/** Starts `cnnviz explore ARGS --port 0`; resolves with the URL it prints. */
function startExplorer(args: string[]): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'explore', ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 180 s:\n${out}`)), 180000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /cnnviz explore: .* at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, log: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`cnnviz explore exited with ${code}:\n${out}`)));
  });
}

async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1050 } });
  const origin = new URL(url).origin;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // offline: only the explorer's own server (data: and blob: URLs never leave the page)
  await page.route(
    () => true,
    (route) => {
      const u = route.request().url();
      if (u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      errors.push(`request leaving the explorer: ${u}`);
      return route.abort();
    },
  );
  await page.goto(url, { timeout: 300000 });
  await page.waitForFunction(
    () => window.cnnvizExplorer && (window.cnnvizExplorer.ready || !!window.cnnvizExplorer.error),
    null,
    { timeout: 300000 },
  );
  const err = await page.evaluate(() => window.cnnvizExplorer.error);
  assert.strictEqual(err, undefined, `the page did not start: ${err}`);
  return page;
}

/** The headers of the page's API requests: its per-launch token, read from the page. */
async function pageHeaders(page: Page): Promise<Record<string, string>> {
  return { 'X-Cnnviz': (await page.getAttribute('meta[name="cnnviz-token"]', 'content')) ?? '' };
}

async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => window.cnnvizExplorer.busy === 0, null, { timeout: 300000 });
}

/** The pixels a data URL PNG holds, as the model's input. */
async function pixelsOf(dataUrl: string, channels: number): Promise<tf.Tensor4D> {
  const img = await decodeImage(Buffer.from(dataUrl.split(',')[1], 'base64'), 'page image');
  const out = new Float32Array(img.width * img.height * channels);
  rgbaToFloat(img, channels as 1 | 3, out);
  return tf.tensor4d(out, [1, img.height, img.width, channels]);
}

async function nodeTop5(model: tf.LayersModel, x: tf.Tensor4D): Promise<{ index: number; prob: number }[]> {
  const p = model.predict(x) as tf.Tensor;
  const v = await p.data();
  p.dispose();
  return Array.from(v.keys())
    .sort((a, b) => v[b] - v[a])
    .slice(0, 5)
    .map((i) => ({ index: i, prob: v[i] }));
}

function assertTop5(
  page: { index: number; prob: number }[],
  node: { index: number; prob: number }[],
  what: string,
): void {
  assert.deepStrictEqual(
    page.map((t) => t.index),
    node.map((t) => t.index),
    `${what}: top-5 classes`,
  );
  page.forEach((t, i) =>
    assert.ok(Math.abs(t.prob - node[i].prob) <= 1e-3, `${what}: p(${t.index}) page ${t.prob} node ${node[i].prob}`),
  );
}

/** Largest difference relative to the largest magnitude of the node-side map. */
function relDiff(page: ArrayLike<number>, node: ArrayLike<number>): number {
  assert.strictEqual(page.length, node.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < node.length; i++) scale = Math.max(scale, Math.abs(node[i]));
  for (let i = 0; i < node.length; i++) worst = Math.max(worst, Math.abs(page[i] - node[i]));
  assert.ok(scale > 0, 'the node-side map is not all zeros');
  return worst / scale;
}

function testPng(): Buffer {
  // a bright trouser-like shape on black: not one of the data set's images
  const c = createCanvas(56, 56);
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, 56, 56);
  ctx.fillStyle = '#ddd';
  ctx.fillRect(16, 4, 10, 48);
  ctx.fillRect(30, 4, 10, 48);
  ctx.fillRect(16, 4, 24, 10);
  return c.toBuffer('image/png');
}

describe('show.explorer: the explorer in a notebook output', () => {
  const fakePath = path.join(os.tmpdir(), 'cnnviz-fake-explorer', 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const sent: { data: Record<string, string> }[] = [];
  before(() => {
    const m = new Module.Module(fakePath);
    m.filename = fakePath;
    m.loaded = true;
    m.exports = { lastWriteDisplayData: (c: { data: Record<string, string> }) => sent.push(c) };
    require.cache[fakePath] = m;
  });
  after(() => {
    delete require.cache[fakePath];
  });

  it('shows an iframe to a server started on demand, and a plain link', async () => {
    const model = await models.load('fashion-cnn');
    const handle = await show.explorer(model, { data: null });
    try {
      assert.strictEqual(sent.length, 1);
      const html = sent[0].data['text/html'];
      assert.ok(html.includes(`<iframe src="${handle.url}"`), html);
      assert.ok(html.includes(`<a href="${handle.url}" target="_blank"`), html);
      assert.strictEqual(String(handle), `cnnviz explorer: ${handle.url}`);
      assert.match(handle.url, /^http:\/\/127\.0\.0\.1:\d+\/\?model=m\d+$/);
      const page = await (await fetch(handle.url)).text();
      assert.match(page, /<title>cnnviz explorer<\/title>/);
      const token = /<meta name="cnnviz-token" content="([\w-]+)">/.exec(page)?.[1];
      assert.ok(token && token === handle.server.token, 'the page holds the token of this launch');
      const info = (await (
        await fetch(handle.url.replace('/?', '/api/info?'), { headers: { 'X-Cnnviz': token } })
      ).json()) as {
        name: string;
        inputShape: number[];
        dataset: unknown;
      };
      assert.deepStrictEqual([info.name, info.inputShape, info.dataset], ['fashion-cnn', [28, 28, 1], null]);
      assert.ok((await (await fetch(new URL('app.js', handle.url))).text()).includes('cnnvizExplorer'));
    } finally {
      await handle.close();
      model.dispose();
    }
    await assert.rejects(
      show.explorer(null as unknown as tf.LayersModel),
      /^Error: show\.explorer: expected a tf\.LayersModel/,
    );
  });
});

describe('cnnviz explore: the explorer in Chromium', function () {
  this.timeout(900000);
  let browser: Browser;
  const children: ChildProcess[] = [];

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchOfflineChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  });

  after(async () => {
    await browser?.close();
    for (const c of children) c.kill('SIGTERM');
  });

  it('bad arguments: an error naming the value and the valid choices, before any server starts', () => {
    const bad = spawnSync(process.execPath, [CLI, 'explore', '--model', 'no-such-model'], { encoding: 'utf8' });
    assert.strictEqual(bad.status, 2);
    assert.match(
      bad.stderr,
      /--model 'no-such-model' is neither a model name \(mobilenet, .*fashion-cnn.*\) nor a path/,
    );
    const port = spawnSync(process.execPath, [CLI, 'explore', '--port', 'eighty'], { encoding: 'utf8' });
    assert.strictEqual(port.status, 2);
    assert.match(port.stderr, /--port 'eighty' is not a port number/);
    const flag = spawnSync(process.execPath, [CLI, 'explore', '--colour', 'red'], { encoding: 'utf8' });
    assert.strictEqual(flag.status, 2);
    assert.match(flag.stderr, /unknown option '--colour'; valid: --model, --port/);
  });

  describe('fashion-cnn on wasm', () => {
    let url: string;
    let page: Page;
    let model: tf.LayersModel;
    const errors: string[] = [];

    before(async () => {
      const s = await startExplorer(['--model', 'fashion-cnn', '--data-limit', '300']);
      children.push(s.child);
      url = s.url;
      model = await models.load('fashion-cnn');
      page = await openPage(browser, `${url}?backend=wasm`, errors);
      await idle(page);
    });

    after(async () => {
      if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'explorer-fashion.png'), fullPage: true });
      model?.dispose();
    });

    it('starts on wasm, shows the backend, and loads nothing from outside', async () => {
      assert.strictEqual(await page.evaluate(() => window.cnnvizExplorer.backend), 'wasm');
      assert.match((await page.textContent('#backend')) ?? '', /backend: wasm/);
      assert.deepStrictEqual(errors, []);
    });

    it('a data-set image: the top-5 and the pixels match the node side (within 1e-3)', async () => {
      await page.fill('#dataset-index', '0');
      await page.click('#dataset-go');
      await page.waitForFunction(() => window.cnnvizExplorer.app.imageName.startsWith('fashion-mnist #0'), null, {
        timeout: 60000,
      });
      await idle(page);
      const png = (
        (await (await fetch(`${url}api/dataset/0`, { headers: await pageHeaders(page) })).json()) as {
          png: string;
        }
      ).png;
      const x = await pixelsOf(png, 1);
      const pagePixels = await page.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync()));
      const nodePixels = x.dataSync();
      assert.strictEqual(pagePixels.length, nodePixels.length);
      assert.ok(
        pagePixels.every((v, i) => v === nodePixels[i]),
        'the page computes on the exact pixels the node side reads',
      );
      assertTop5(
        await page.evaluate(() => window.cnnvizExplorer.app.top5),
        await nodeTop5(model, x),
        'data-set image 0',
      );
      x.dispose();
    });

    it('saliency, Grad-CAM, guided backprop agree with saliency(), gradCam(), guidedBackprop() to 1e-3', async () => {
      const x = tf.tensor4d(
        await page.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync())),
        [1, 28, 28, 1],
      );
      const cls = 3;
      const maps = await page.evaluate(async (c) => {
        const app = window.cnnvizExplorer.app;
        const m = await app.net.classMaps(app.x, c);
        return {
          saliency: Array.from(m.saliency),
          gradCam: m.gradCam ? Array.from(m.gradCam) : null,
          camLayer: app.net.camLayer,
          guided: Array.from(await app.net.guided(app.x, 'conv2', 5)),
        };
      }, cls);
      const sal = await saliency(model, x, { target: cls });
      const d = relDiff(maps.saliency, sal.dataSync());
      assert.ok(d <= 1e-3, `saliency differs by ${d} of its largest value`);
      assert.strictEqual(maps.camLayer, 'conv3');
      const cam = await gradCam(model, x, { target: cls, layer: 'conv3' });
      const dc = relDiff(maps.gradCam as number[], cam.dataSync());
      assert.ok(dc <= 1e-3, `Grad-CAM differs by ${dc} of its largest value`);
      const gb = await guidedBackprop(model, x, { layer: 'conv2', channel: 5 });
      const dg = relDiff(maps.guided, gb.dataSync());
      assert.ok(dg <= 1e-3, `guided backprop differs by ${dg} of its largest value`);
      tf.dispose([x, sal, cam, gb]);
    });

    it('clicking a class shows its saliency overlay', async () => {
      const second = await page.evaluate(() => window.cnnvizExplorer.app.top5[1].index);
      const before = await page.evaluate(() =>
        Array.from(
          (document.getElementById('saliency-canvas') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28)
            .data,
        ),
      );
      await page.click(`#top5 li[data-class="${second}"]`);
      await idle(page);
      assert.strictEqual(await page.evaluate(() => window.cnnvizExplorer.app.cls), second);
      const name = await page.evaluate((c) => window.cnnvizExplorer.app.top5.find((t) => t.index === c)!.name, second);
      assert.ok(((await page.textContent('#class-name')) ?? '').startsWith(`${name} (`));
      const after = await page.evaluate(() => {
        const c = document.getElementById('saliency-canvas') as HTMLCanvasElement;
        return {
          w: c.width,
          h: c.height,
          px: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
        };
      });
      assert.deepStrictEqual([after.w, after.h], [28, 28]);
      // blended over the gray image: coloured (not gray) pixels, and not the first class's map
      let coloured = 0;
      for (let p = 0; p < after.px.length; p += 4)
        if (
          Math.max(after.px[p], after.px[p + 1], after.px[p + 2]) -
            Math.min(after.px[p], after.px[p + 1], after.px[p + 2]) >
          20
        )
          coloured++;
      assert.ok(coloured > 20, `${coloured} coloured pixels in the overlay`);
      assert.notDeepStrictEqual(after.px, before, 'the overlay changed with the class');
      assert.ok((await page.locator('#top5 li.selected').count()) === 1);
      await page.screenshot({ path: path.join(ARTIFACTS, 'explorer-class.png') });
    });

    it('clicking a channel shows its large map, guided backprop and top patches', async () => {
      await page.selectOption('#layer-select', 'conv2');
      await idle(page);
      const channel = 7;
      const at = await page.evaluate((c) => {
        const g = window.cnnvizExplorer.app.grid;
        const canvas = document.getElementById('grid-canvas') as HTMLCanvasElement;
        const r = canvas.getBoundingClientRect();
        const x = g.gap + (c % g.cols) * (g.tileW + g.gap) + g.tileW / 2;
        const y = g.gap + Math.floor(c / g.cols) * (g.tileH + g.gap) + g.tileH / 2;
        return { x: r.left + (x * r.width) / canvas.width, y: r.top + (y * r.height) / canvas.height };
      }, channel);
      await page.mouse.click(at.x, at.y);
      await idle(page);
      assert.deepStrictEqual(
        await page.evaluate(() => [window.cnnvizExplorer.app.layer, window.cnnvizExplorer.app.channel]),
        ['conv2', channel],
      );
      assert.strictEqual(await page.textContent('#channel-name'), `conv2 #${channel}`);
      const big = await page.evaluate(() => {
        const c = document.getElementById('channel-canvas') as HTMLCanvasElement;
        return [c.width, c.height, c.getBoundingClientRect().width];
      });
      assert.deepStrictEqual(big.slice(0, 2), [14, 14]);
      assert.ok(big[2] >= 150, `the large map is ${big[2]} px wide on screen`);
      await page.waitForFunction(() => document.querySelectorAll('#patches figure').length === 9, null, {
        timeout: 300000,
      });
      const captions = await page.locator('#patches figcaption').allTextContents();
      assert.match(captions[0], /^#\d+ \S/);
      // the node side's topActivatingPatches over the same 300 images (the server's answer is its cached result)
      const job = (await (
        await fetch(`${url}api/patches?layer=conv2&channel=${channel}`, {
          method: 'POST',
          headers: await pageHeaders(page),
        })
      ).json()) as {
        state: string;
        result: { patches: { index: number; activation: number }[] };
      };
      assert.strictEqual(job.state, 'done');
      assert.deepStrictEqual(
        captions.map((c) => Number(/^#(\d+)/.exec(c)![1])),
        job.result.patches.map((p) => p.index),
      );
      assert.match((await page.textContent('#patches-note')) ?? '', /over 300 fashion-mnist images/);
    });

    it('an uploaded image replaces the shown one, and its top-5 match the node side', async () => {
      const png = testPng();
      const file = path.join(ARTIFACTS, 'explorer-upload.png');
      fs.writeFileSync(file, png);
      await page.setInputFiles('#upload', file);
      await page.waitForFunction(() => window.cnnvizExplorer.app.imageName.startsWith('explorer-upload.png'), null, {
        timeout: 60000,
      });
      await idle(page);
      const x = tf.tensor4d(
        await page.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync())),
        [1, 28, 28, 1],
      );
      // the node side reads the same file at the model's size
      const img = await decodeImage(png, 'upload', [28, 28], 'cover');
      const want = new Float32Array(784);
      rgbaToFloat(img, 1, want);
      assert.ok(
        x.dataSync().every((v, i) => v === want[i]),
        'the page shows the upload, read as images.read reads it',
      );
      assertTop5(await page.evaluate(() => window.cnnvizExplorer.app.top5), await nodeTop5(model, x), 'upload');
      assert.match((await page.textContent('#image-name')) ?? '', /explorer-upload\.png \(PNG 56x56\)/);
      x.dispose();
    });

    it('a class image forms on the server with progress, and is kept for the next time', async () => {
      const cls = await page.evaluate(() => window.cnnvizExplorer.app.cls);
      await page.click('#class-image-go');
      await page.waitForFunction(
        () => /steps of gradient ascent/.test(document.getElementById('class-image-caption')!.textContent ?? ''),
        null,
        { timeout: 300000 },
      );
      const shown = await page.evaluate(() => {
        const img = document.getElementById('class-image') as HTMLImageElement;
        const chart = document.getElementById('class-image-chart') as unknown as { data?: { x: number[] }[] };
        return {
          w: img.naturalWidth,
          h: img.naturalHeight,
          drawn: !!document.querySelector('#class-image-chart .main-svg'),
          points: chart.data?.[0]?.x.length,
        };
      });
      assert.deepStrictEqual(shown, { w: 28, h: 28, drawn: true, points: 100 });
      const job = (await (
        await fetch(`${url}api/class-image?class=${cls}`, { method: 'POST', headers: await pageHeaders(page) })
      ).json()) as {
        state: string;
        result: { png: string; steps: number; scores: number[] };
      };
      assert.strictEqual(job.state, 'done');
      assert.strictEqual(job.result.scores.length, 100);
      assert.ok(
        job.result.scores[99] > job.result.scores[0],
        `the class score rose: ${job.result.scores[0]} -> ${job.result.scores[99]}`,
      );
      assert.strictEqual(await page.getAttribute('#class-image', 'src'), job.result.png);
    });

    it("a channel's feature-visualization image forms on the server on request, and matches the job", async () => {
      const { layer, channel } = await page.evaluate(() => ({
        layer: window.cnnvizExplorer.app.layer,
        channel: window.cnnvizExplorer.app.channel,
      }));
      await page.click('#channel-image-go');
      await page.waitForFunction(
        () => /steps of feature visualization/.test(document.getElementById('channel-image-note')!.textContent ?? ''),
        null,
        { timeout: 300000 },
      );
      const size = await page.evaluate(() => {
        const img = document.getElementById('channel-image') as HTMLImageElement;
        return [img.naturalWidth, img.naturalHeight];
      });
      assert.deepStrictEqual(size, [28, 28]);
      const job = (await (
        await fetch(`${url}api/channel-image?layer=${encodeURIComponent(layer)}&channel=${channel}`, {
          method: 'POST',
          headers: await pageHeaders(page),
        })
      ).json()) as { state: string; result: { png: string; steps: number } };
      assert.strictEqual(job.state, 'done');
      assert.strictEqual(await page.getAttribute('#channel-image', 'src'), job.result.png);
      const bad = (await (
        await fetch(`${url}api/channel-image?layer=nope&channel=0`, {
          method: 'POST',
          headers: await pageHeaders(page),
        })
      ).json()) as { error: string };
      assert.match(bad.error, /^cnnviz explore: layer 'nope' channel 0: give a convolutional layer/);
    });

    it('bad input gets a message on the page and the server keeps running', async () => {
      const text = path.join(ARTIFACTS, 'not-an-image.png');
      fs.writeFileSync(text, 'this is text, not a picture\n');
      await page.setInputFiles('#upload', text);
      await idle(page);
      assert.match(
        (await page.textContent('#message')) ?? '',
        /'not-an-image\.png' is not an image \(valid: PNG, JPEG/,
      );
      // a PNG header promising 30000 x 30000 pixels: refused before decoding
      const huge = Buffer.alloc(64);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(huge);
      huge.write('IHDR', 12, 'ascii');
      huge.writeUInt32BE(30000, 16);
      huge.writeUInt32BE(30000, 20);
      const hugeFile = path.join(ARTIFACTS, 'huge.png');
      fs.writeFileSync(hugeFile, huge);
      await page.setInputFiles('#upload', hugeFile);
      await idle(page);
      assert.match(
        (await page.textContent('#message')) ?? '',
        /'huge\.png' is 30000x30000 \(900 megapixels\); images up to 50 megapixels/,
      );
      await page.fill('#model-path', '/no/such/model.json');
      await page.click('#model-load');
      await idle(page);
      assert.match(
        (await page.textContent('#message')) ?? '',
        /"\/no\/such\/model\.json" is not a model name \(mobilenet, .*\) \(start cnnviz explore with --allow-dir/,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'explorer-bad-input.png') });
      // another site's script cannot make the server load anything: its POST lacks the page's token
      const forged = await fetch(`${url}api/load`, { method: 'POST', body: '/etc/passwd' });
      assert.strictEqual(forged.status, 403);
      assert.match(((await forged.json()) as { error: string }).error, /only the explorer page, opened at/);
      // still serving, still the same image
      const info = (await (await fetch(`${url}api/info`, { headers: await pageHeaders(page) })).json()) as {
        name: string;
      };
      assert.strictEqual(info.name, 'fashion-cnn');
      assert.ok((await page.evaluate(() => window.cnnvizExplorer.app.imageName)).startsWith('explorer-upload.png'));
      // bad input is a message, not a console error
      assert.deepStrictEqual(errors, []);
    });

    it('switching the model from the page loads it, shows its classes, and leaves the first one served', async () => {
      const other = await openPage(browser, `${url}?backend=wasm`, errors);
      try {
        await idle(other);
        const options = await other.$$eval('#model-select option', (os) =>
          os.map((o) => (o as HTMLOptionElement).value),
        );
        assert.ok(options.includes('mnist-cnn'), `model choices: ${options.join(', ')}`);
        // choosing another model loads it on the server and reloads the page on it
        await Promise.all([
          other.waitForURL(/\?model=/, { timeout: 300000 }),
          other.selectOption('#model-select', 'mnist-cnn'),
        ]);
        await other.waitForFunction(
          () => window.cnnvizExplorer && (window.cnnvizExplorer.ready || !!window.cnnvizExplorer.error),
          null,
          { timeout: 300000 },
        );
        await idle(other);
        assert.strictEqual(await other.evaluate(() => window.cnnvizExplorer.error ?? null), null);
        assert.match((await other.textContent('#model-name')) ?? '', /mnist-cnn.*28x28x1 in, 10 classes/);
        const net = await other.evaluate(() => {
          const app = window.cnnvizExplorer.app;
          const size = app.net as unknown as { width: number; channels: number };
          return { w: size.width, c: size.channels, top: app.top5.map((t) => t.name) };
        });
        assert.deepStrictEqual([net.w, net.c], [28, 1]);
        assert.strictEqual(net.top.length, 5);
        for (const name of net.top) assert.match(name, /^[0-9]$/, `mnist-cnn's classes are digits, got '${name}'`);
        // its max pools take the node side's gradient rule (the first maximum of each window)
        const mnist = await models.load('mnist-cnn');
        const x = tf.tensor4d(
          await other.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync())),
          [1, 28, 28, 1],
        );
        const pageSal = await other.evaluate(async () =>
          Array.from((await window.cnnvizExplorer.app.net.classMaps(window.cnnvizExplorer.app.x, 7)).saliency),
        );
        const nodeSal = await saliency(mnist, x, { target: 7 });
        const d = relDiff(pageSal, nodeSal.dataSync());
        assert.ok(d <= 1e-3, `mnist-cnn saliency differs by ${d} of its largest value`);
        tf.dispose([x, nodeSal]);
        mnist.dispose();
        const id = new URL(other.url()).searchParams.get('model') as string;
        const headers = await pageHeaders(other);
        const switched = (await (
          await fetch(`${url}api/info?model=${encodeURIComponent(id)}`, { headers })
        ).json()) as {
          name: string;
        };
        assert.strictEqual(switched.name, 'mnist-cnn');
        // the first model is still the default, and asking again for mnist-cnn reuses the loaded one
        const first = (await (await fetch(`${url}api/info`, { headers })).json()) as { name: string };
        assert.strictEqual(first.name, 'fashion-cnn');
        const again = await fetch(`${url}api/load`, { method: 'POST', body: 'mnist-cnn', headers });
        assert.strictEqual(((await again.json()) as { model: string }).model, id);
        assert.deepStrictEqual(errors, []);
      } finally {
        await other.close();
      }
    });

    it('works inside an iframe of another page, as show.explorer shows it in a notebook', async () => {
      const outer = await browser.newPage();
      const outerErrors: string[] = [];
      outer.on('console', (m) => {
        if (m.type() === 'error') outerErrors.push(m.text());
      });
      outer.on('pageerror', (e) => outerErrors.push(e.message));
      try {
        await outer.setContent(
          `<p>a notebook</p><iframe src="${url}?backend=wasm" style="width:1400px;height:900px"></iframe>`,
        );
        const frame = outer.frames().find((f) => f.url().startsWith(url));
        assert.ok(frame, 'the iframe loads the explorer');
        await frame.waitForFunction(
          () => window.cnnvizExplorer && (window.cnnvizExplorer.ready || !!window.cnnvizExplorer.error),
          null,
          { timeout: 120000 },
        );
        assert.strictEqual(await frame.evaluate(() => window.cnnvizExplorer.error), undefined);
        assert.strictEqual(await frame.evaluate(() => window.cnnvizExplorer.app.top5.length), 5);
        assert.deepStrictEqual(outerErrors, []);
      } finally {
        await outer.close();
      }
    });

    it("the webcam (Chromium's fake camera) feeds frames through the model; the page keeps no tensors", async () => {
      await page.evaluate(() => {
        window.cnnvizExplorer.app.occlusionOn = false;
      });
      const count = () =>
        page.evaluate(() => (window as unknown as { tf: { memory(): { numTensors: number } } }).tf.memory().numTensors);
      const before = await count();
      await page.click('#webcam');
      await page.waitForFunction(() => window.cnnvizExplorer.app.imageName === 'webcam', null, { timeout: 60000 });
      await page.waitForTimeout(500);
      await page.click('#webcam');
      await idle(page);
      await page.waitForTimeout(300);
      assert.strictEqual(await page.textContent('#webcam'), 'webcam');
      // one new input tensor replaced the old one; nothing else stays
      assert.strictEqual(await count(), before);
      assert.deepStrictEqual(errors, []);
    });
  });

  describe('mobilenet (ImageNet) on wasm: checked once', () => {
    let url: string;
    let page: Page;
    let model: tf.LayersModel;
    const errors: string[] = [];

    before(async () => {
      const s = await startExplorer(['--model', 'mobilenet', '--data-limit', '32']);
      children.push(s.child);
      url = s.url;
      model = await models.load('mobilenet');
      page = await openPage(browser, `${url}?backend=wasm`, errors);
      await idle(page);
      await page.evaluate(() => {
        window.cnnvizExplorer.app.occlusionOn = false;
      });
    });

    after(async () => {
      if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'explorer-mobilenet.png'), fullPage: true });
      model?.dispose();
    });

    it('the top-5 of a sample photo match the node side (within 1e-3)', async () => {
      await page.selectOption('#sample-select', 'dog');
      await page.waitForFunction(() => window.cnnvizExplorer.app.imageName.startsWith('dog'), null, {
        timeout: 120000,
      });
      await idle(page);
      const x = await images.sample('dog', { size: [224, 224] });
      const pagePixels = await page.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync()));
      const nodePixels = x.dataSync();
      assert.ok(
        pagePixels.every((v, i) => v === nodePixels[i]),
        "the page computes on the pixels of images.sample('dog', { size: [224, 224] })",
      );
      const batch = x.expandDims(0) as tf.Tensor4D;
      assertTop5(await page.evaluate(() => window.cnnvizExplorer.app.top5), await nodeTop5(model, batch), 'sample dog');
      tf.dispose([x, batch]);
    });

    it('saliency, Grad-CAM, guided backprop through depthwise convs, batch norm, ReLU6 agree with node', async () => {
      const x = tf.tensor4d(
        await page.evaluate(() => Array.from(window.cnnvizExplorer.app.x.dataSync())),
        [1, 224, 224, 3],
      );
      const cls = await page.evaluate(() => window.cnnvizExplorer.app.top5[0].index);
      const maps = await page.evaluate(async (c) => {
        const app = window.cnnvizExplorer.app;
        const m = await app.net.classMaps(app.x, c);
        return {
          saliency: Array.from(m.saliency),
          gradCam: m.gradCam ? Array.from(m.gradCam) : null,
          camLayer: app.net.camLayer,
          guided: Array.from(await app.net.guided(app.x, 'conv_pw_5_relu', 11)),
        };
      }, cls);
      const sal = await saliency(model, x, { target: cls });
      const d = relDiff(maps.saliency, sal.dataSync());
      assert.ok(d <= 1e-3, `saliency differs by ${d} of its largest value`);
      const cam = await gradCam(model, x, { target: cls });
      const dc = relDiff(maps.gradCam as number[], cam.dataSync());
      assert.ok(dc <= 1e-3, `Grad-CAM (page at ${maps.camLayer}) differs by ${dc} of its largest value`);
      const gb = await guidedBackprop(model, x, { layer: 'conv_pw_5_relu', channel: 11 });
      const dg = relDiff(maps.guided, gb.dataSync());
      assert.ok(dg <= 1e-3, `guided backprop differs by ${dg} of its largest value`);
      tf.dispose([x, sal, cam, gb]);
    });

    it('a class click and a channel click update the maps; patches come from ImageNet photos', async () => {
      const second = await page.evaluate(() => window.cnnvizExplorer.app.top5[1].index);
      await page.click(`#top5 li[data-class="${second}"]`);
      await idle(page);
      assert.strictEqual(await page.evaluate(() => window.cnnvizExplorer.app.cls), second);
      assert.deepStrictEqual(
        await page.evaluate(() => {
          const c = document.getElementById('saliency-canvas') as HTMLCanvasElement;
          return [c.width, c.height];
        }),
        [224, 224],
      );
      await page.selectOption('#layer-select', 'conv_pw_5_relu');
      await idle(page);
      await page.evaluate(() => window.cnnvizExplorer.app.pickChannel(11));
      assert.strictEqual(await page.textContent('#channel-name'), 'conv_pw_5_relu #11');
      await page.waitForFunction(() => document.querySelectorAll('#patches figure').length === 9, null, {
        timeout: 300000,
      });
      assert.match((await page.textContent('#patches-note')) ?? '', /over 32 imagenet-sample images/);
      const t = await page.evaluate(
        () => (window.cnnvizExplorer.app as unknown as { timings: { what: string; ms: number }[] }).timings,
      );
      console.log(
        `      mobilenet on wasm here: ${t
          .filter((x) => !x.what.startsWith('occlusion'))
          .map((x) => `${x.what} ${x.ms.toFixed(0)} ms`)
          .join(', ')}`,
      );
      assert.deepStrictEqual(errors, []);
    });
  });
});
