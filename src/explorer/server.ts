/**
 * The explorer's HTTP server, on loopback only: the page, its libraries from node_modules
 * (tfjs, its wasm backend, plotly), the models as model.json + weights, images prepared at the
 * model's input size, and the node-side jobs. A bad request gets a JSON { error } naming what
 * was wrong; nothing a request does stops the server. Bad input (a file that is no image, a model
 * path with nothing there) is an answer the page shows, so it comes with status 200: the browser
 * then logs no failed load; a refused request is a 403 (405, 429), and the server's own failures are 500s.
 *
 * Only the page may use the API (see guard()): every request must name this server's address as its
 * Host (a DNS-rebinding page names its own), a request with an Origin must come from this server's
 * origin, and every /api/ request carries the page's per-launch token, which only a page served
 * from here can read. No GET starts work: jobs start by POST.
 */
import * as http from 'http';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes, timingSafeEqual } from 'crypto';
import { AddressInfo } from 'net';
import * as tf from '@tensorflow/tfjs';
import { bundlePage } from './bundle';
import { floatToPng, MAX_UPLOAD_BYTES, prepareImage } from './image_input';
import { ExplorerOptions, ExplorerSession } from './session';
import { JobsOptions, QueueFullError } from './jobs';
import { packageRoot } from '../common/package_root';
import { fail } from '../common';

export interface ExplorerServerOptions {
  /** port on 127.0.0.1 (default 0: any free port) */
  port?: number;
  /** loads a model by name or path when the page asks for another one (the CLI passes models.load) */
  loadModel?: (nameOrPath: string) => Promise<{ model: tf.LayersModel; options?: ExplorerOptions }>;
  /** model names the page offers in its model menu (and the only names /api/load takes) */
  modelChoices?: string[];
  /** folders whose model.json files /api/load may load by path (default none: names only) */
  allowDirs?: string[];
  /** the job queue of each model (bound, how long an unpolled job lives) */
  jobs?: JobsOptions;
  /** where the server tells why a model path failed to load (never told to the page); default: nowhere */
  log?: (line: string) => void;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

export class ExplorerServer {
  private readonly server: http.Server;
  private readonly sessions = new Map<string, ExplorerSession>();
  private readonly root = packageRoot('cnnviz explore');
  private nextId = 1;
  private bundle?: string;
  private closing?: Promise<void>;
  /** the per-launch secret the page sends with every API request */
  readonly token = randomBytes(18).toString('base64url');
  defaultId = '';

  constructor(private readonly opts: ExplorerServerOptions = {}) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const api = (req.url ?? '').startsWith('/api/');
        if (!res.headersSent)
          this.json(
            res,
            { error: err instanceof Error ? err.message : String(err) },
            api && status < 500 && !REFUSED.includes(status) ? 200 : status,
          );
        else res.end();
      });
    });
  }

  /** Starts listening on 127.0.0.1; resolves to the base URL. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(
                `cnnviz explore: port ${this.opts.port} is in use; choose another with --port N (or --port 0 for ` +
                  `any free port)`,
              )
            : err,
        );
      });
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve(this.url));
    });
  }

  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a) fail('cnnviz explore', 'the server is not listening');
    return `http://127.0.0.1:${a.port}/`;
  }

  /** Adds a model; its page is at url + '?model=' + the returned id. The first one added is the default. */
  add(model: tf.LayersModel, options: ExplorerOptions = {}): string {
    const id = `m${this.nextId++}`;
    this.sessions.set(id, new ExplorerSession(model, options, this.opts.jobs));
    if (!this.defaultId) this.defaultId = id;
    return id;
  }

  session(id: string | null): ExplorerSession {
    const s = this.sessions.get(id || this.defaultId);
    if (!s)
      throw new HttpError(
        404,
        `cnnviz explore: no model '${id}' on this server; models: ${[...this.sessions.keys()].join(', ') || 'none'}`,
      );
    return s;
  }

  /** Stops every job (the running one at its next step), closes every connection, stops listening. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await Promise.all([...this.sessions.values()].map((s) => s.dispose()));
      await closed;
    })();
    return this.closing;
  }

  /** host:port names of this server a browser may use (what it listens on, and localhost). */
  private get hosts(): string[] {
    const port = (this.server.address() as AddressInfo | null)?.port;
    return [`127.0.0.1:${port}`, `localhost:${port}`];
  }

  /**
   * Refuses a request not from the page: another Host (DNS rebinding: the attacker's name now
   * points here, so its page is "same-origin" with us, but its requests still carry its name),
   * another Origin, and an API request without the token of this launch.
   */
  private guard(req: http.IncomingMessage, p: string): void {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.hosts.includes(host))
      throw new HttpError(
        403,
        `cnnviz explore: Host '${host.slice(0, 100)}' is not this server's address (${this.hosts.join(' or ')}); ` +
          `open the explorer at ${this.url}`,
      );
    const origin = req.headers.origin;
    if (origin !== undefined && !this.hosts.some((h) => origin === `http://${h}`))
      throw new HttpError(
        403,
        `cnnviz explore: a request from '${origin.slice(0, 100)}' is refused; only the explorer's own page ` +
          `(http://${this.hosts[0]}) may use this server`,
      );
    if (!p.startsWith('/api/')) return;
    const got = Buffer.from(String(req.headers[PAGE_HEADER] ?? ''));
    const want = Buffer.from(this.token);
    if (got.length !== want.length || !timingSafeEqual(got, want))
      throw new HttpError(
        403,
        `cnnviz explore: ${req.method} ${p} comes without this server's page token (header '${PAGE_HEADER}'); ` +
          `only the explorer page, opened at ${this.url}, may use the API`,
      );
  }

  private json(res: http.ServerResponse, body: unknown, status = 200): void {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...ISOLATION });
    res.end(JSON.stringify(body));
  }

  private send(res: http.ServerResponse, body: Buffer | string, type: string, cache = false): void {
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': cache ? 'max-age=3600' : 'no-store', ...ISOLATION });
    res.end(body);
  }

  private file(res: http.ServerResponse, file: string): void {
    if (!fs.existsSync(file))
      throw new HttpError(404, `cnnviz explore: ${path.relative(this.root, file)} is missing (run 'npm ci')`);
    this.send(res, fs.readFileSync(file), TYPES[path.extname(file)] ?? 'application/octet-stream', true);
  }

  /** The body of a POST from the page (guard() has checked its token). */
  private async body(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      // keep reading (so the browser sees the answer) but hold nothing past the limit
      if (size <= MAX_UPLOAD_BYTES) chunks.push(c as Buffer);
    }
    if (size > MAX_UPLOAD_BYTES) {
      throw new HttpError(
        413,
        `cnnviz explore: the upload is ${(size / 1e6).toFixed(1)} MB; images up ` +
          `to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB are accepted`,
      );
    }
    return Buffer.concat(chunks);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = u.pathname;
    const q = u.searchParams;
    const nm = path.join(this.root, 'node_modules');
    try {
      this.guard(req, p);
    } catch (err) {
      req.resume();
      throw err;
    }
    if (p === '/' || p === '/index.html') return this.page(res);
    if (p === '/style.css') return this.file(res, path.join(this.root, 'explorer', 'style.css'));
    if (p === '/app.js') {
      // built once per server (the page code does not change while it runs)
      this.bundle ??= bundlePage(path.join(this.root, 'build', 'explorer', 'main.js'));
      return this.send(res, this.bundle, TYPES['.js']);
    }
    if (p === '/lib/tf.min.js') return this.file(res, path.join(nm, '@tensorflow', 'tfjs', 'dist', 'tf.min.js'));
    if (p === '/lib/tf-backend-wasm.min.js')
      return this.file(res, path.join(nm, '@tensorflow', 'tfjs-backend-wasm', 'dist', 'tf-backend-wasm.min.js'));
    const wasm = /^\/lib\/wasm\/(tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm)$/.exec(p);
    if (wasm) return this.file(res, path.join(nm, '@tensorflow', 'tfjs-backend-wasm', 'dist', wasm[1]));
    if (p === '/lib/plotly.min.js') return this.file(res, path.join(nm, 'plotly.js-dist-min', 'plotly.min.js'));
    if (p === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }

    if (p === '/api/load') return this.loadModel(res, (await this.body(this.post(req, p))).toString('utf8'));
    const s = this.session(q.get('model'));
    if (p === '/api/info')
      return this.json(res, {
        ...(await s.info),
        models: this.opts.modelChoices ?? [],
        canLoad: !!this.opts.loadModel,
      });
    // The weights' path stays 'weights.bin': tf.loadLayersModel resolves it against model.json's URL
    // and appends that URL's query (?model=ID) itself.
    if (p === '/api/model/model.json') return this.send(res, (await s.modelFiles()).json, TYPES['.json']);
    if (p === '/api/model/weights.bin') return this.send(res, (await s.modelFiles()).weights, TYPES['.bin']);
    const [h, w] = s.inputShape;
    if (p === '/api/image') {
      this.post(req, p);
      const name = q.get('name') || 'the upload';
      const img = await prepareImage(await this.body(req), name, [h, w]).catch((err: Error) => {
        throw new HttpError(422, err.message);
      });
      return this.json(res, { png: dataUrl(img.png), name, original: img.original });
    }
    if (p === '/api/sample') {
      const name = q.get('name') ?? '';
      const sample = s.sample(name);
      if (!sample)
        throw new HttpError(
          404,
          `cnnviz explore: unknown sample '${name}'; samples: ${(await s.info).samples.join(', ') || 'none'}`,
        );
      const t = await sample.read([h, w]);
      const data = t.dataSync();
      t.dispose();
      return this.json(res, {
        png: dataUrl(floatToPng(data, h, w, 3)),
        name: sample.shows ? `${name}: ${sample.shows}` : name,
      });
    }
    const ds = /^\/api\/dataset\/(\d+)(\.png)?$/.exec(p);
    if (ds) {
      const png = await s.datasetPng(Number(ds[1])).catch((err: Error) => {
        throw new HttpError(400, err.message);
      });
      if (ds[2]) return this.send(res, png, TYPES['.png'], true);
      const data = await s.dataset();
      const label = data ? data.classNames[data.labels[Number(ds[1])]] : undefined;
      return this.json(res, { png: dataUrl(png), name: `${data?.name} #${ds[1]}${label ? ` (${label})` : ''}` });
    }
    if (p === '/api/patches') {
      const layer = q.get('layer') ?? '';
      const channel = Number(q.get('channel'));
      const info = (await s.info).layers.find((l) => l.name === layer);
      if (!info)
        throw new HttpError(
          400,
          `cnnviz explore: unknown layer '${layer}'; layers: ${(await s.info).layers.map((l) => l.name).join(', ')}`,
        );
      const depth = info.outputShape[info.outputShape.length - 1];
      if (!Number.isInteger(channel) || channel < 0 || channel >= depth)
        throw new HttpError(
          400,
          `cnnviz explore: channel ${q.get('channel')} out of range; layer '${layer}' has ${depth} channels ` +
            `(0..${depth - 1})`,
        );
      this.post(req, p);
      return this.json(
        res,
        this.job(s, () => s.patchesJob(layer, channel)),
      );
    }
    if (p === '/api/channel-image') {
      const layer = q.get('layer') ?? '';
      const channel = Number(q.get('channel'));
      const info = (await s.info).layers.find((l) => l.name === layer);
      const depth = info?.outputShape[info.outputShape.length - 1];
      if (!info || info.outputShape.length !== 3 || !Number.isInteger(channel) || channel < 0 || channel >= depth!)
        throw new HttpError(
          400,
          `cnnviz explore: layer '${layer}' channel ${q.get('channel')}: give a convolutional layer and a channel ` +
            `0..${depth === undefined ? '?' : depth - 1}`,
        );
      this.post(req, p);
      return this.json(
        res,
        this.job(s, () => s.channelImageJob(layer, channel)),
      );
    }
    if (p === '/api/class-image') {
      const c = Number(q.get('class'));
      const n = (await s.info).classNames.length;
      if (!Number.isInteger(c) || c < 0 || c >= n)
        throw new HttpError(
          400,
          `cnnviz explore: class ${q.get('class')} out of range; the model has ${n} classes (0..${n - 1})`,
        );
      this.post(req, p);
      return this.json(
        res,
        this.job(s, () => s.classImageJob(c)),
      );
    }
    throw new HttpError(404, `cnnviz explore: nothing at ${p}`);
  }

  /** The page, with this launch's token in it (never cached: the token changes with each launch). */
  private page(res: http.ServerResponse): void {
    const file = path.join(this.root, 'explorer', 'index.html');
    if (!fs.existsSync(file)) throw new HttpError(404, `cnnviz explore: explorer/index.html is missing (run 'npm ci')`);
    const html = fs
      .readFileSync(file, 'utf8')
      .replace('<meta name="cnnviz-token" content="">', `<meta name="cnnviz-token" content="${this.token}">`);
    this.send(res, html, TYPES['.html']);
  }

  /** Work starts by POST only: a GET (an <img> or link of another site) starts nothing. */
  private post(req: http.IncomingMessage, p: string): http.IncomingMessage {
    if (req.method !== 'POST') {
      req.resume();
      throw new HttpError(405, `cnnviz explore: ${req.method} ${p} is refused; it starts work, so only POST may`);
    }
    return req;
  }

  /** Starts (or polls) a job and answers its state. */
  private job(s: ExplorerSession, start: () => string): unknown {
    try {
      return s.jobs.get(start());
    } catch (err) {
      throw new HttpError(err instanceof QueueFullError ? 429 : 503, (err as Error).message);
    }
  }

  /**
   * /api/load: a name of the model menu, or the path of a model.json (or its folder) under a folder
   * the command line allowed. What went wrong with a path is never told to the page (a parse error
   * quotes the file's first bytes), and a file outside the folders is refused before it is looked
   * at, so the answer says nothing of what exists.
   */
  private async loadModel(res: http.ServerResponse, what: string): Promise<void> {
    const name = what.trim();
    const choices = this.opts.modelChoices ?? [];
    const dirs = (this.opts.allowDirs ?? []).map((d) => path.resolve(d));
    const valid =
      `a model name (${choices.join(', ') || 'none'})` +
      (dirs.length ? ` or the path of a model.json under ${dirs.join(', ')}` : '');
    if (!this.opts.loadModel)
      throw new HttpError(400, 'cnnviz explore: this server shows the models it was given; it loads no others');
    if (!name) throw new HttpError(400, `cnnviz explore: give ${valid}`);
    for (const [id, s] of this.sessions) if (s.loadedAs === name) return this.json(res, { model: id });
    const shown = JSON.stringify(name.slice(0, 200));
    let target = name;
    if (!choices.includes(name)) {
      const full = path.resolve(name);
      const under = (f: string) => dirs.some((d) => f === d || f.startsWith(d + path.sep));
      if (!under(full))
        throw new HttpError(
          400,
          `cnnviz explore: ${shown} is not ${valid}` +
            (dirs.length ? '' : ' (start cnnviz explore with --allow-dir DIR to load models from a folder)'),
        );
      const notLoadable = new HttpError(400, `cnnviz explore: ${shown} could not be loaded as a model; give ${valid}`);
      let real: string;
      try {
        real = fs.realpathSync(full);
        if (fs.statSync(real).isDirectory()) real = fs.realpathSync(path.join(real, 'model.json'));
      } catch {
        throw notLoadable;
      }
      // a link inside the folder may point out of it; a model.json is a .json file
      if (!under(real) || !real.endsWith('.json')) throw notLoadable;
      target = real;
      try {
        const loaded = await this.opts.loadModel(target);
        return this.json(res, { model: this.register(loaded, name) });
      } catch (err) {
        this.opts.log?.(`cnnviz explore: ${target}: ${(err as Error).message}`);
        throw notLoadable;
      }
    }
    let loaded;
    try {
      loaded = await this.opts.loadModel(target);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    return this.json(res, { model: this.register(loaded, name) });
  }

  private register(loaded: { model: tf.LayersModel; options?: ExplorerOptions }, name: string): string {
    const id = this.add(loaded.model, loaded.options);
    this.session(id).loadedAs = name;
    return id;
  }
}

/** The header with the page's token, sent with every API request (see guard()). */
export const PAGE_HEADER = 'x-cnnviz';

/** Cross-origin isolation lets the wasm backend use threads; everything the page loads is same-origin. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Refusals keep their status (the others of 4xx are bad input the page shows, answered 200). */
const REFUSED = [403, 405, 429];

function dataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}
