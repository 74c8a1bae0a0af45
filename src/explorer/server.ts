/**
 * The explorer's HTTP server, on loopback only: the page, its libraries from node_modules
 * (tfjs, its wasm backend, plotly), the models as model.json + weights, images prepared at the
 * model's input size, and the node-side jobs. A bad request gets a JSON { error } naming what
 * was wrong; nothing a request does stops the server. Bad input (a file that is no image, a model
 * path with nothing there) is an answer the page shows, so it comes with status 200: the browser
 * then logs no failed load; a refused request is a 403, and the server's own failures are 500s.
 */
import * as http from 'http';
import * as fs from 'fs';
import * as path from 'path';
import { AddressInfo } from 'net';
import * as tf from '@tensorflow/tfjs';
import { bundlePage } from './bundle';
import { floatToPng, MAX_UPLOAD_BYTES, prepareImage } from './image_input';
import { ExplorerOptions, ExplorerSession } from './session';
import { packageRoot } from '../common/package_root';

export interface ExplorerServerOptions {
  /** port on 127.0.0.1 (default 0: any free port) */
  port?: number;
  /** loads a model by name or path when the page asks for another one (the CLI passes models.load) */
  loadModel?: (nameOrPath: string) => Promise<{ model: tf.LayersModel; options?: ExplorerOptions }>;
  /** model names the page offers in its model menu */
  modelChoices?: string[];
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
            api && status < 500 && status !== 403 ? 200 : status,
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
    if (!a) throw new Error('cnnviz explore: the server is not listening');
    return `http://127.0.0.1:${a.port}/`;
  }

  /** Adds a model; its page is at url + '?model=' + the returned id. The first one added is the default. */
  add(model: tf.LayersModel, options: ExplorerOptions = {}): string {
    const id = `m${this.nextId++}`;
    this.sessions.set(id, new ExplorerSession(model, options));
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

  close(): Promise<void> {
    for (const s of this.sessions.values()) s.dispose();
    return new Promise((resolve) => this.server.close(() => resolve()));
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

  /**
   * The body of a POST from the page. The page sends a header of ours with it: another site's
   * script cannot (that would need a CORS preflight this server never grants), so it cannot make
   * the server load files or models.
   */
  private async body(req: http.IncomingMessage): Promise<Buffer> {
    if (req.headers[PAGE_HEADER] !== 'page') {
      req.resume();
      throw new HttpError(
        403,
        `cnnviz explore: POST ${req.url} comes without the page's '${PAGE_HEADER}' header; only the explorer page ` +
          `may post`,
      );
    }
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
    if (p === '/' || p === '/index.html') return this.file(res, path.join(this.root, 'explorer', 'index.html'));
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

    if (p === '/api/load' && req.method === 'POST') return this.loadModel(res, (await this.body(req)).toString('utf8'));
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
    if (p === '/api/image' && req.method === 'POST') {
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
      return this.json(res, s.jobs.get(s.patchesJob(layer, channel)));
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
      return this.json(res, s.jobs.get(s.channelImageJob(layer, channel)));
    }
    if (p === '/api/class-image') {
      const c = Number(q.get('class'));
      const n = (await s.info).classNames.length;
      if (!Number.isInteger(c) || c < 0 || c >= n)
        throw new HttpError(
          400,
          `cnnviz explore: class ${q.get('class')} out of range; the model has ${n} classes (0..${n - 1})`,
        );
      return this.json(res, s.jobs.get(s.classImageJob(c)));
    }
    throw new HttpError(404, `cnnviz explore: nothing at ${p}`);
  }

  private async loadModel(res: http.ServerResponse, what: string): Promise<void> {
    const name = what.trim();
    if (!this.opts.loadModel)
      throw new HttpError(400, 'cnnviz explore: this server shows the models it was given; it loads no others');
    if (!name)
      throw new HttpError(
        400,
        `cnnviz explore: give a model name (${(this.opts.modelChoices ?? []).join(', ')}) or a path to a model.json`,
      );
    for (const [id, s] of this.sessions) if (s.loadedAs === name) return this.json(res, { model: id });
    let loaded;
    try {
      loaded = await this.opts.loadModel(name);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const id = this.add(loaded.model, loaded.options);
    this.session(id).loadedAs = name;
    return this.json(res, { model: id });
  }
}

/** The header the page sends with every POST (see body()). */
export const PAGE_HEADER = 'x-cnnviz';

/** Cross-origin isolation lets the wasm backend use threads; everything the page loads is same-origin. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function dataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}
