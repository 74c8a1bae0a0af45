// The explorer's server against a hostile page and a careless user: a rebinding Host, another
// origin, a GET that would start work, a file-path probe and 1,000 queued jobs are each refused
// while the explorer's own page (Chromium, offline) keeps working; the page lays out to an iframe
// of 600 and 948 px; SIGTERM stops `cnnviz explore` with its jobs.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { createCanvas } from '@napi-rs/canvas';
import { Browser, Page } from 'playwright-core';
import { launchOfflineChromium } from './util/browser';
import { REPO } from './util/notebook';
import { models, tf } from '../src';
import { ExplorerServer } from '../src/explorer/server';
import { Jobs, QueueFullError } from '../src/explorer/jobs';

const ARTIFACTS = path.join(REPO, 'test', 'artifacts');
const CLI = path.join(REPO, 'build', 'src', 'cli.js');

interface Answer {
  status: number;
  body: string;
}

/** A raw request: Host and Origin as an attacker's browser would send them. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

declare const window: {
  cnnvizExplorer: { ready: boolean; error?: string; busy: number; app: { cls: number; top5: unknown[] } };
};

async function ready(page: { waitForFunction: Page['waitForFunction']; evaluate: Page['evaluate'] }): Promise<void> {
  await page.waitForFunction(
    () => window.cnnvizExplorer && (window.cnnvizExplorer.ready || !!window.cnnvizExplorer.error),
    null,
    { timeout: 300000 },
  );
  assert.strictEqual(await page.evaluate(() => window.cnnvizExplorer.error), undefined);
}

describe('explorer jobs: a bounded queue', () => {
  /** A job that runs until aborted (or released), counting its starts. */
  function endless(log: string[], name: string) {
    return (_p: unknown, signal: AbortSignal) =>
      new Promise((resolve, reject) => {
        log.push(name);
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
  }

  it('newer replaces a queued job of its kind; past the bound QueueFullError; close aborts the running', async () => {
    const jobs = new Jobs({ maxQueued: 1, staleMs: 60000 });
    const log: string[] = [];
    jobs.start('a/1', endless(log, 'a/1'));
    await until('a/1 to run', () => jobs.peek('a/1')?.state === 'running');
    for (let i = 2; i <= 1000; i++) jobs.start(`a/${i}`, endless(log, `a/${i}`));
    assert.strictEqual(jobs.queued, 1);
    assert.strictEqual(jobs.get('a/2'), undefined, 'replaced by a newer one');
    assert.deepStrictEqual(jobs.get('a/1000'), { state: 'queued' });
    assert.throws(() => jobs.start('b/1', endless(log, 'b/1')), QueueFullError);
    assert.throws(() => jobs.start('b/1', endless(log, 'b/1')), /1 jobs are waiting \(at most 1\); ask again/);
    await jobs.close();
    assert.deepStrictEqual(log, ['a/1'], 'only the first ever ran');
    assert.strictEqual(jobs.get('a/1'), undefined);
    assert.strictEqual(jobs.queued, 0);
    assert.throws(() => jobs.start('a/1', endless(log, 'a/1')), /the server is stopping/);
  });

  it('a job nobody polls is dropped (queued) or aborted (running): its page went away', async () => {
    const jobs = new Jobs({ staleMs: 200 });
    const log: string[] = [];
    jobs.start('a/1', endless(log, 'a/1'));
    jobs.start('b/1', endless(log, 'b/1'));
    await until('both gone', () => jobs.peek('a/1') === undefined && jobs.queued === 0, 20000);
    // b/1 was dropped from the queue (or, had a/1 gone first, aborted): nothing is left running
    await until('no job', () => jobs.peek('b/1') === undefined, 20000);
    await jobs.close();
  });
});

describe('explorer server: only its page may use it', function () {
  this.timeout(900000);
  let server: ExplorerServer;
  let url: string;
  let id: string;
  let model: tf.LayersModel;
  let browser: Browser;
  let page: Page;
  let token: string;
  const errors: string[] = [];
  const allowed = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-allowed-'));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-cache-'));
  const oldCache = process.env.CNNVIZ_CACHE;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // nothing computed before answers from the disk cache: every job here really runs
    process.env.CNNVIZ_CACHE = cache;
    model = await models.load('mnist-cnn');
    server = new ExplorerServer({
      port: 0,
      modelChoices: ['mnist-cnn'],
      allowDirs: [allowed],
      jobs: { maxQueued: 2, staleMs: 1500 },
      loadModel: async (what) => ({ model: await models.load(what), options: { data: null } }),
    });
    id = server.add(model, { name: 'mnist-cnn', data: null });
    url = await server.listen();
    browser = await launchOfflineChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(`${url}?backend=wasm`, { timeout: 300000 });
    await ready(page);
    token = (await page.getAttribute('meta[name="cnnviz-token"]', 'content')) ?? '';
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    model?.dispose();
    if (oldCache === undefined) delete process.env.CNNVIZ_CACHE;
    else process.env.CNNVIZ_CACHE = oldCache;
    fs.rmSync(allowed, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('the page carries a token of this launch, and the API refuses a request without it', async () => {
    assert.match(token, /^[\w-]{20,}$/);
    assert.strictEqual(token, server.token);
    const bare = await request(`${url}api/info`);
    assert.strictEqual(bare.status, 403);
    assert.match(bare.body, /GET \/api\/info comes without this server's page token/);
    const wrong = await request(`${url}api/info`, { headers: { 'X-Cnnviz': 'page' } });
    assert.strictEqual(wrong.status, 403);
    const good = await request(`${url}api/info`, { headers: { 'X-Cnnviz': token } });
    assert.strictEqual(good.status, 200);
    assert.strictEqual(JSON.parse(good.body).name, 'mnist-cnn');
  });

  it('a rebinding Host is refused, for the page (its token) and for the API', async () => {
    const port = new URL(url).port;
    for (const p of ['', 'api/info', 'app.js']) {
      const a = await request(`${url}${p}`, { headers: { Host: `evil.example:${port}`, 'X-Cnnviz': token } });
      assert.strictEqual(a.status, 403, p);
      assert.match(a.body, /Host 'evil\.example:\d+' is not this server's address \(127\.0\.0\.1:\d+ or localhost/);
      assert.ok(!a.body.includes(token), 'the token is not served to another name');
    }
    // localhost is the same server
    const local = await request(`${url}api/info`, { headers: { Host: `localhost:${port}`, 'X-Cnnviz': token } });
    assert.strictEqual(local.status, 200);
  });

  it('another origin is refused, even with the token', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`]) {
      const a = await request(`${url}api/load`, {
        method: 'POST',
        headers: { Origin: origin, 'X-Cnnviz': token },
        body: 'mnist-cnn',
      });
      assert.strictEqual(a.status, 403, origin);
      assert.match(a.body, /a request from '.*' is refused; only the explorer's own page/);
    }
  });

  it('no GET starts work: an <img> of another site (GET, with or without the token) queues no job', async () => {
    const s = server.session(id);
    for (const headers of [{}, { 'X-Cnnviz': token }] as Record<string, string>[]) {
      for (const p of ['api/class-image?class=3', 'api/patches?layer=conv1&channel=0']) {
        const a = await request(`${url}${p}`, { headers });
        assert.ok(a.status === 403 || a.status === 405, `${p}: ${a.status}`);
        if (a.status === 405) assert.match(a.body, /GET \/api\/\S+ is refused; it starts work, so only POST may/);
      }
    }
    assert.strictEqual(s.jobs.peek('class-image/3'), undefined);
    assert.strictEqual(s.jobs.queued, 0);
  });

  it('a file-path probe learns nothing: the same answer for a missing, a secret and a non-model file', async () => {
    const secret = path.join(allowed, 'notes.json');
    fs.writeFileSync(secret, 'SECRET-CONTENT: root:*:202\n');
    fs.symlinkSync('/etc/passwd', path.join(allowed, 'passwd.json'));
    const load = (body: string) => request(`${url}api/load`, { method: 'POST', headers: { 'X-Cnnviz': token }, body });
    const answers = new Map<string, string>();
    for (const p of ['/etc/shadow', '/etc/passwd', '/no/such/file', '../../etc/hostname']) {
      const a = await load(p);
      assert.strictEqual(a.status, 200);
      const msg = JSON.parse(a.body).error as string;
      assert.ok(!/root:|SECRET/.test(msg), msg);
      answers.set(p, msg.replace(JSON.stringify(p), 'P'));
    }
    assert.strictEqual(new Set(answers.values()).size, 1, [...answers.values()].join('\n'));
    assert.match(answers.get('/etc/shadow')!, /^cnnviz explore: P is not a model name \(mnist-cnn\) or the path of/);
    // under the allowed folder: a missing file, a file that is no model and a link out of it answer alike
    const inside = new Map<string, string>();
    for (const p of [path.join(allowed, 'missing.json'), secret, path.join(allowed, 'passwd.json'), allowed]) {
      const a = await load(p);
      const msg = JSON.parse(a.body).error as string;
      assert.ok(!/root:|SECRET/.test(msg), msg);
      inside.set(p, msg.replace(JSON.stringify(p), 'P'));
    }
    assert.strictEqual(new Set(inside.values()).size, 1, [...inside.values()].join('\n'));
    assert.match(inside.get(secret)!, /^cnnviz explore: P could not be loaded as a model; give a model name/);
    // a real model under the folder loads
    const m = await models.load('mnist-cnn');
    await models.save(m, path.join(allowed, 'mine'));
    m.dispose();
    const ok = await load(path.join(allowed, 'mine'));
    assert.match(JSON.parse(ok.body).model, /^m\d+$/);
  });

  it('an upload cut short is refused with its name, not shown with black where the data ends', async () => {
    const c = createCanvas(64, 48);
    const ctx = c.getContext('2d');
    for (let k = 0; k < 200; k++) {
      ctx.fillStyle = `hsl(${(k * 37) % 360}, 70%, 50%)`;
      ctx.fillRect((k * 13) % 64, (k * 7) % 48, 6, 6);
    }
    const png = c.toBuffer('image/png');
    const jpg = c.toBuffer('image/jpeg');
    for (const [name, bytes] of [
      ['cut.png', png.subarray(0, png.length >> 1)],
      ['cut.jpg', jpg.subarray(0, jpg.length >> 1)],
    ] as const) {
      const a = await request(`${url}api/image?name=${name}&model=${id}`, {
        method: 'POST',
        headers: { 'X-Cnnviz': token },
        body: bytes as unknown as string,
      });
      const format = name.endsWith('png') ? 'PNG' : 'JPEG';
      assert.match(
        JSON.parse(a.body).error,
        new RegExp(`^cnnviz explore: '${name.replace('.', '\\.')}' is a truncated ${format} file \\(`),
      );
    }
  });

  it('1,000 queued requests: a bounded queue, newer replacing older, the server answering throughout', async () => {
    const s = server.session(id);
    const statuses = new Map<number, number>();
    let most = 0;
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          request(`${url}api/class-image?class=${(i + k) % 10}`, { method: 'POST', headers: { 'X-Cnnviz': token } }),
        ),
      );
      for (const a of batch) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      most = Math.max(most, s.jobs.queued);
    }
    assert.deepStrictEqual([...statuses.keys()], [200], `statuses: ${[...statuses.entries()].join(' ')}`);
    assert.ok(most <= 1, `at most one class-image job waits (the newest): ${most}`);
    const info = await request(`${url}api/info`, { headers: { 'X-Cnnviz': token } });
    assert.strictEqual(info.status, 200);
    // nobody polls them: dropped (queued) and aborted (running) once stale
    await until('the unpolled jobs to go', () => s.jobs.queued === 0);
    await until('no job running', async () => {
      const states = Array.from({ length: 10 }, (_, c) => s.jobs.peek(`class-image/${c}`)?.state);
      return !states.includes('running') && !states.includes('queued');
    });
  });

  it('the page keeps working after all that: a class image forms on the server', async () => {
    assert.ok(await page.evaluate(() => window.cnnvizExplorer.ready));
    await page.click('#class-image-go');
    await page.waitForFunction(
      () => /steps of gradient ascent/.test(document.getElementById('class-image-caption')!.textContent ?? ''),
      null,
      { timeout: 300000 },
    );
    assert.deepStrictEqual(errors, []);
  });

  it('lays out to an iframe of 948 and 600 px: no panel cut off', async () => {
    for (const width of [948, 600]) {
      const outer = await browser.newPage({ viewport: { width: width + 40, height: 1000 } });
      try {
        await outer.setContent(
          `<iframe src="${url}?backend=wasm" style="width:${width}px;height:950px;border:1px solid #ccc"></iframe>`,
        );
        await until('the frame', () => outer.frames().some((f) => f.url().startsWith(url)));
        const frame = outer.frames().find((f) => f.url().startsWith(url))!;
        await ready(frame);
        const fit = await frame.evaluate(() => {
          const right = (id: string) => document.getElementById(id)!.getBoundingClientRect().right;
          return {
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            panels: ['image-panel', 'class-panel', 'activation-panel', 'channel-panel'].map(right),
          };
        });
        assert.ok(fit.scroll <= fit.client, `${width} px: the page is ${fit.scroll} px wide in ${fit.client}`);
        for (const r of fit.panels) assert.ok(r <= fit.client, `${width} px: a panel ends at ${r} of ${fit.client}`);
        await outer.screenshot({ path: path.join(ARTIFACTS, `explorer-iframe-${width}.png`), fullPage: true });
      } finally {
        await outer.close();
      }
    }
  });
});

describe('cnnviz explore: SIGTERM stops the jobs and exits', function () {
  this.timeout(600000);
  it('one SIGTERM while a job runs: the process exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'explore', '--model', 'mnist-cnn', '--data', 'none', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CNNVIZ_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-cache-')) },
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      await until('the URL', () => /at (http:\/\/127\.0\.0\.1:\d+\/)/.test(out), 300000);
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1];
      const html = (await request(url)).body;
      const token = /<meta name="cnnviz-token" content="([\w-]+)">/.exec(html)![1];
      const job = await request(`${url}api/class-image?class=1`, { method: 'POST', headers: { 'X-Cnnviz': token } });
      assert.match(JSON.parse(job.body).state, /queued|running/);
      // wait until it is really computing, then stop the server
      await until('the job to run', async () => {
        const a = await request(`${url}api/class-image?class=1`, { method: 'POST', headers: { 'X-Cnnviz': token } });
        return /running|done/.test(JSON.parse(a.body).state as string);
      });
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 60000))]);
      assert.strictEqual(code, 0, out);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
