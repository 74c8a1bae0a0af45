// A Figure is what every renderer returns: a MIME bundle that can show itself in the
// kernel (as a cell's value, through show(fig), or in place of an earlier display) and
// save itself to a file anywhere.
import * as fs from 'fs';
import * as path from 'path';
import { inspect } from 'util';
import { currentWriter, DisplayTarget, newDisplayId, sendToKernel, swallowEcho, Writer } from './kernel/bridge';
import { claimLibraryEmbed, htmlPage, plotHtml, PlotlySpec } from './kernel/plotly';
import { BY_WRAPPER, fail } from '../common';

/** Plotly's JSON MIME type: what fig.save('x.json') writes; not in a notebook bundle (see kernel/plotly). */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface FigureInit {
  /** renderer name, e.g. 'heatmap' */
  kind: string;
  width: number;
  height: number;
  /** a raster figure */
  png?: Buffer;
  /** an interactive figure */
  plotly?: PlotlySpec;
  /** HTML placed inside the chart's container (interactive figures) */
  extraHtml?: string;
  /** JS run after the chart is drawn, with `gd` and `root` in scope */
  afterPlot?: string;
  /** a static picture of an interactive figure, made only when asked for */
  staticPng?: () => Buffer;
  /**
   * the picture inside an interactive figure's HTML, shown where scripts do not run: a WebP
   * (about a third of the PNG's bytes); without it, staticPng is used
   */
  fallbackImage?: () => Buffer;
  /** one line of text/plain */
  text?: string;
  /** values a caller may want back (e.g. the clipping threshold a heat map used) */
  info?: Record<string, unknown>;
}

export const SAVE_FORMATS = ['.png', '.html', '.json'];

export class Figure {
  readonly kind: string;
  readonly width: number;
  readonly height: number;
  readonly plotly?: PlotlySpec;
  readonly info: Record<string, unknown>;
  /** how long show.* took to make this figure from its inputs (ms), when it made it */
  renderMs?: number;
  private readonly init: FigureInit;
  private pngCache?: Buffer;
  /** the writer (one per cell) that last displayed this figure */
  private shownBy: Writer | null = null;

  constructor(init: FigureInit) {
    if (!init.png && !init.plotly) fail(BY_WRAPPER, `figure '${init.kind}' needs png or plotly content`);
    this.init = init;
    this.kind = init.kind;
    this.width = Math.round(init.width);
    this.height = Math.round(init.height);
    this.plotly = init.plotly;
    this.pngCache = init.png;
    this.info = init.info ?? {};
  }

  get interactive(): boolean {
    return this.plotly !== undefined;
  }

  /** PNG bytes (for interactive figures, a static rendering made on first use). */
  get png(): Buffer {
    if (!this.pngCache) {
      if (!this.init.staticPng) fail(BY_WRAPPER, `figure '${this.kind}' has no PNG form; save it as .html or .json`);
      this.pngCache = this.init.staticPng();
    }
    return this.pngCache;
  }

  /** The fallback picture of an interactive figure as a data: URL, or undefined. */
  private fallback(): string | undefined {
    if (this.init.fallbackImage) return 'data:image/webp;base64,' + this.init.fallbackImage().toString('base64');
    if (this.init.staticPng) return 'data:image/png;base64,' + this.png.toString('base64');
    return undefined;
  }

  get text(): string {
    return (
      this.init.text ?? `${this.kind} figure ${this.width}x${this.height}${this.interactive ? ' (interactive)' : ''}`
    );
  }

  /**
   * The MIME bundle. Interactive figures carry plotly.js in their HTML only when
   * `includeLibrary` (a page or the first chart of a session).
   */
  bundle(includeLibrary = false): { data: Record<string, unknown>; metadata: Record<string, unknown> } {
    const data: Record<string, unknown> = { 'text/plain': this.text };
    if (this.plotly) {
      data['text/html'] = plotHtml(this.plotly, {
        divId: newDisplayId(),
        width: this.width,
        height: this.height,
        includeLibrary,
        extraHtml: this.init.extraHtml,
        afterPlot: this.init.afterPlot,
        fallback: this.fallback(),
        alt: this.text,
      });
    } else {
      data['image/png'] = this.png.toString('base64');
    }
    // our own metadata key: front ends ignore it; tests and benchmarks read it
    const meta: Record<string, unknown> = { kind: this.kind, width: this.width, height: this.height };
    if (this.plotly) meta.interactive = true;
    if (this.renderMs !== undefined) meta.render_ms = Math.round(this.renderMs * 10) / 10;
    return { data, metadata: { cnnviz: meta } };
  }

  /** Displays the figure in the cell running now (no-op outside a kernel). Returns itself. */
  show(): this {
    const w = currentWriter();
    if (!w) return this;
    const { data, metadata } = this.bundle(this.interactive && claimLibraryEmbed());
    sendToKernel(data, metadata);
    this.shownBy = w;
    return this;
  }

  /** Sends the figure to a display target (in-place updates). */
  showIn(target: DisplayTarget): this {
    const { data, metadata } = this.bundle(this.interactive && claimLibraryEmbed());
    target.send(data, metadata);
    this.shownBy = target.owner;
    return this;
  }

  /** Writes .png, .html (self-contained, plotly.js included) or .json (Plotly spec). */
  save(file: string): string {
    const ext = path.extname(file).toLowerCase();
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    if (ext === '.png') {
      fs.writeFileSync(file, this.png);
    } else if (ext === '.html') {
      const body = this.plotly
        ? (this.bundle(true).data['text/html'] as string)
        : `<img alt="${this.kind}" width="${this.width}" height="${this.height}" ` +
          `style="image-rendering:pixelated" src="data:image/png;base64,${this.png.toString('base64')}">`;
      fs.writeFileSync(file, htmlPage(`cnnviz ${this.kind}`, body));
    } else if (ext === '.json') {
      if (!this.plotly) fail(BY_WRAPPER, `figure '${this.kind}' is a PNG figure; save it as .png or .html`);
      fs.writeFileSync(file, JSON.stringify(this.plotly));
    } else {
      fail('fig.save', `cannot save '${file}': unknown extension '${ext}'; valid choices: ${SAVE_FORMATS.join(', ')}`);
    }
    return file;
  }

  toString(): string {
    return this.text;
  }

  /**
   * tslab prints a cell's value with console.log, which asks util.inspect. In a kernel we
   * display the figure instead (unless this cell already showed it) and drop the line that
   * console.log would print for it, so the output holds the picture alone.
   */
  [inspect.custom](): string {
    const w = currentWriter();
    if (!w) return `Figure<${this.text}>`;
    if (this.shownBy !== w) this.show();
    return swallowEcho(MARKER);
  }
}

const MARKER = '\u2063cnnviz-figure\u2063';
