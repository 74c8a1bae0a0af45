/**
 * `cnnviz explore` and `show.explorer(model)`: a page on localhost where one image flows through a
 * model and every layer, channel and class can be looked at live (the Deep Visualization Toolbox's
 * picture), computed by TensorFlow.js in the browser.
 */
import type * as tf from '@tensorflow/tfjs';
import { inspect } from 'util';
import { currentWriter, DisplayTarget, swallowEcho } from '../widgets/kernel/bridge';
import { ExplorerServer } from './server';
import type { ExplorerOptions } from './session';
import { fail } from '../common';

export { ExplorerServer } from './server';
export type { ExplorerServerOptions } from './server';
export { ExplorerSession, defaultDataset } from './session';
export type { ExplorerOptions, ExplorerInfo } from './session';

/** A model's page on the explorer server of this process. */
export class ExplorerHandle {
  constructor(
    /** the page of this model */
    readonly url: string,
    readonly server: ExplorerServer,
  ) {}

  /** Stops the server (every explorer of this process). */
  async close(): Promise<void> {
    if (shared === this.server) shared = undefined;
    await this.server.close();
  }

  toString(): string {
    return `cnnviz explorer: ${this.url}`;
  }

  /** As a cell's value in the kernel it prints nothing: show.explorer has displayed it already. */
  [inspect.custom](): string {
    return currentWriter() ? swallowEcho(MARKER) : this.toString();
  }
}

const MARKER = '\u2063cnnviz-explorer\u2063';

let shared: ExplorerServer | undefined;

/** The explorer server of this process, started on first use (port: env CNNVIZ_EXPLORER_PORT, else any free one). */
export async function explorerServer(): Promise<ExplorerServer> {
  if (!shared) {
    const port = Number(process.env.CNNVIZ_EXPLORER_PORT ?? 0);
    const s = new ExplorerServer({ port: Number.isInteger(port) ? port : 0 });
    await s.listen();
    shared = s;
  }
  return shared;
}

/** Serves `model` in the explorer of this process; resolves to its page's URL. */
export async function openExplorer(model: tf.LayersModel, opts: ExplorerOptions = {}): Promise<ExplorerHandle> {
  const server = await explorerServer();
  const id = server.add(model, opts);
  return new ExplorerHandle(`${server.url}?model=${id}`, server);
}

export interface ShowExplorerOptions extends ExplorerOptions {
  /** height of the iframe in px (default 900) */
  height?: number;
}

/**
 * show.explorer(model): the explorer in the cell's output, an iframe to this kernel's explorer
 * server (started on demand), with a plain link for front ends that block iframes.
 */
export async function showExplorer(model: tf.LayersModel, opts: ShowExplorerOptions = {}): Promise<ExplorerHandle> {
  if (
    !model ||
    typeof (model as { predict?: unknown }).predict !== 'function' ||
    !Array.isArray((model as { layers?: unknown }).layers)
  ) {
    fail(
      'show.explorer',
      `expected a tf.LayersModel (from models.load), got ${model === null ? 'null' : typeof model}`,
    );
  }
  const height = opts.height ?? 900;
  if (!(Number.isInteger(height) && height > 100))
    fail('show.explorer', `height ${opts.height} must be a whole number of pixels above 100`);
  // the cell that asked, read before the first await
  const target = DisplayTarget.here();
  let handle: ExplorerHandle;
  try {
    handle = await openExplorer(model, opts);
  } catch (err) {
    fail('show.explorer', (err as Error).message.replace(/^cnnviz explore: /, ''));
  }
  const url = handle.url;
  target.send({
    'text/plain': `cnnviz explorer: ${url}`,
    'text/html':
      `<div class="cnnviz-explorer"><iframe src="${url}" title="cnnviz explorer" ` +
      `style="width:100%;height:${height}px;border:1px solid #ccc"></iframe>` +
      `<p>The explorer runs in this kernel: <a href="${url}" target="_blank" rel="noopener">${url}</a> (open it in ` +
      `a tab if the frame above stays empty).</p></div>`,
  });
  return handle;
}
