/**
 * The page's state and its views: one image flows through the model; the top-5, the class maps
 * (saliency, Grad-CAM, occlusion), the activation grid of one layer and the detail of one channel
 * follow it. Every change (image, class, layer, channel, display) redraws only what depends on
 * it, and records how long the view took to update (window.cnnvizExplorer.timings).
 */
import * as tf from '@tensorflow/tfjs';
import type { HeatmapMode, HeatmapSign } from '../src/widgets/draw/attribution';
import type { ColormapName } from '../src/widgets/draw/colormap';
import { Activation, Net } from './compute';
import { $, api, getJson, say } from './dom';
import {
  channelAt,
  Display,
  drawAttribution,
  drawChannel,
  drawGrid,
  drawSignedImage,
  GridLayout,
  pixelsToRgba,
  putRgba,
} from './draw';
import type { ExplorerInfo } from '../src/explorer/session';

export interface Timing {
  what: string;
  ms: number;
  backend: string;
  at: number;
}

interface JobState<T> {
  state: 'queued' | 'running' | 'done' | 'failed';
  progress?: { done: number; total: number; score?: number; preview?: string };
  result?: T;
  error?: string;
}
interface Patch {
  index: number;
  activation: number;
  label: string;
  box: { top: number; left: number; bottom: number; right: number };
}

export class App {
  net: Net;
  x: tf.Tensor4D | null = null;
  rgba: Uint8ClampedArray | null = null;
  imageName = '';
  probs: Float32Array | null = null;
  top5: { index: number; name: string; prob: number }[] = [];
  cls = -1;
  /** true once the user picked a class: it stays chosen when the image changes */
  clsPinned = false;
  layer: string;
  channel = 0;
  activation: Activation | null = null;
  grid: GridLayout | null = null;
  /** bumps on every change of image, class, layer or channel: late answers of older ones are dropped */
  private epoch = { image: 0, cls: 0, channel: 0 };
  readonly timings: Timing[] = [];
  /** occlusion costs one forward pass per patch position: it fills in after the rest, and can be switched off */
  occlusionOn = true;

  constructor(
    model: tf.LayersModel,
    readonly info: ExplorerInfo,
    readonly backend: string,
  ) {
    this.net = new Net(model);
    const spatial = info.spatialLayers;
    // like the toolbox's conv5: a layer about two thirds of the way in
    this.layer = spatial[Math.min(spatial.length - 1, Math.floor(spatial.length * 0.6))] ?? '';
  }

  private record(what: string, t0: number): number {
    const ms = performance.now() - t0;
    this.timings.push({ what, ms: Math.round(ms * 10) / 10, backend: this.backend, at: Date.now() });
    $('timing').textContent = `${what}: ${ms.toFixed(0)} ms`;
    return ms;
  }

  display(kind: 'saliency' | 'gradcam' | 'occlusion'): Display {
    const signSel = ($('sign') as HTMLSelectElement).value;
    const sign = (
      signSel === 'auto' ? (kind === 'saliency' ? 'absolute' : kind === 'gradcam' ? 'positive' : 'all') : signSel
    ) as HeatmapSign;
    const cmSel = ($('colormap') as HTMLSelectElement).value;
    const colormap = (cmSel === 'auto' ? (sign === 'all' ? 'rdbu' : 'inferno') : cmSel) as ColormapName;
    return { mode: ($('mode') as HTMLSelectElement).value as HeatmapMode, sign, colormap, clip: 99, alpha: 0.5 };
  }

  /** A new image (pixels HWC in [0, 1] at the model's input size): everything is redrawn. */
  async setImage(pixels: Float32Array, name: string): Promise<void> {
    const t0 = performance.now();
    const epoch = ++this.epoch.image;
    this.x?.dispose();
    this.x = this.net.input(pixels);
    const { width: w, height: h, channels: c } = this.net;
    this.rgba = pixelsToRgba(pixels, w, h, c);
    this.imageName = name;
    putRgba($<HTMLCanvasElement>('input-canvas'), this.rgba, w, h);
    $('image-name').textContent = name;
    const first = this.layer
      ? await this.net.predictWith(this.x, this.layer)
      : { probs: await this.net.predict(this.x), activation: undefined };
    this.probs = first.probs;
    if (epoch !== this.epoch.image) return;
    this.showTop5();
    if (!this.clsPinned || this.cls < 0) this.cls = this.top5[0].index;
    this.markClass();
    await Promise.all([this.showClass(), this.showLayer(first.activation)]);
    await this.showChannel(false);
    if (epoch === this.epoch.image) this.record('new image', t0);
  }

  private showTop5(): void {
    const p = this.probs as Float32Array;
    const order = Array.from(p.keys())
      .sort((a, b) => p[b] - p[a])
      .slice(0, 5);
    this.top5 = order.map((i) => ({ index: i, name: this.info.classNames[i] ?? String(i), prob: p[i] }));
    const ol = $('top5');
    ol.replaceChildren(
      ...this.top5.map((t) => {
        const li = document.createElement('li');
        li.dataset.class = String(t.index);
        li.innerHTML =
          `<span class="name"></span> <span class="muted">${(t.prob * 100).toFixed(2)}%</span>` +
          `<span class="bar" style="width:${Math.max(1, t.prob * 100)}%"></span>`;
        (li.querySelector('.name') as HTMLElement).textContent = t.name;
        li.addEventListener('click', () => void this.pickClass(t.index));
        return li;
      }),
    );
  }

  private markClass(): void {
    for (const li of Array.from($('top5').children) as HTMLElement[])
      li.classList.toggle('selected', Number(li.dataset.class) === this.cls);
    const p = this.probs ? this.probs[this.cls] : 0;
    $('class-name').textContent = `${this.info.classNames[this.cls] ?? this.cls} (${(p * 100).toFixed(2)}%)`;
  }

  async pickClass(cls: number): Promise<void> {
    this.cls = cls;
    this.clsPinned = true;
    this.markClass();
    const t0 = performance.now();
    await this.showClass();
    this.record('class click', t0);
  }

  /** Saliency and Grad-CAM now; occlusion fills in as its batches finish. */
  async showClass(): Promise<void> {
    if (!this.x || !this.rgba || this.cls < 0) return;
    const epoch = ++this.epoch.cls;
    const imageEpoch = this.epoch.image;
    const { width: w, height: h } = this.net;
    const x = this.x;
    const { saliency: sal, gradCam: cam } = await this.net.classMaps(x, this.cls);
    if (epoch !== this.epoch.cls) return;
    this.lastMaps = { saliency: sal, gradcam: cam, occlusion: null };
    this.redrawMaps();
    $('gradcam-note').textContent = this.net.camLayer ? `at ${this.net.camLayer}` : '(no convolution)';
    $('class-image-note').textContent = '';
    this.resetClassImage();
    if (this.occlusionOn) {
      const t0 = performance.now();
      void this.net
        .occlusion(
          x,
          this.cls,
          (drop, done, total) => {
            if (epoch !== this.epoch.cls || imageEpoch !== this.epoch.image) return;
            (this.lastMaps as { occlusion: Float32Array | null }).occlusion = drop;
            drawAttribution(
              $<HTMLCanvasElement>('occlusion-canvas'),
              drop,
              this.rgba as Uint8ClampedArray,
              w,
              h,
              this.display('occlusion'),
            );
            $('occlusion-note').textContent =
              done < total
                ? `${done}/${total} positions`
                : `${total} positions, ${(performance.now() - t0).toFixed(0)} ms`;
          },
          () => epoch !== this.epoch.cls || imageEpoch !== this.epoch.image,
        )
        .then((drop) => {
          if (drop) this.record('occlusion (all positions)', t0);
        })
        .catch((err: Error) => say(`occlusion: ${err.message}`));
    } else {
      const c = $<HTMLCanvasElement>('occlusion-canvas');
      c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
      $('occlusion-note').textContent = '(off)';
    }
  }

  lastMaps: { saliency: Float32Array; gradcam: Float32Array | null; occlusion: Float32Array | null } | null = null;

  /** Redraws the class maps with the current display settings (no recomputation). */
  redrawMaps(): void {
    if (!this.lastMaps || !this.rgba) return;
    const { width: w, height: h } = this.net;
    const m = this.lastMaps;
    const t = drawAttribution(
      $<HTMLCanvasElement>('saliency-canvas'),
      m.saliency,
      this.rgba,
      w,
      h,
      this.display('saliency'),
    );
    $('saliency-note').textContent = `clip ${t.toPrecision(3)}`;
    if (m.gradcam)
      drawAttribution($<HTMLCanvasElement>('gradcam-canvas'), m.gradcam, this.rgba, w, h, this.display('gradcam'));
    if (m.occlusion)
      drawAttribution(
        $<HTMLCanvasElement>('occlusion-canvas'),
        m.occlusion,
        this.rgba,
        w,
        h,
        this.display('occlusion'),
      );
  }

  async pickLayer(layer: string): Promise<void> {
    const t0 = performance.now();
    this.layer = layer;
    this.channel = 0;
    await this.showLayer();
    await this.showChannel(true);
    this.record('layer click', t0);
  }

  /** The grid of the current layer (its activation computed here unless given). */
  async showLayer(given?: Activation): Promise<void> {
    if (!this.x || !this.layer) return;
    const layer = this.layer;
    const a = given ?? (await this.net.activation(this.x, layer));
    if (layer !== this.layer) return;
    this.activation = a;
    if (this.channel >= a.channels) this.channel = 0;
    this.grid = drawGrid($<HTMLCanvasElement>('grid-canvas'), a.data, a.height, a.width, a.channels, this.channel);
    const info = this.info.layers.find((l) => l.name === layer);
    const sees = info?.field ? `, sees ${info.field[0]}x${info.field[1]} px` : '';
    $('layer-note').textContent = `${info?.type ?? ''} ${a.height}x${a.width}, ${a.channels} channels${sees}`;
  }

  /** The channel under a click on the grid, or -1. */
  channelAt(ev: MouseEvent): number {
    if (!this.grid || !this.activation) return -1;
    return channelAt($<HTMLCanvasElement>('grid-canvas'), this.grid, this.activation.channels, ev.clientX, ev.clientY);
  }

  async pickChannel(c: number): Promise<void> {
    const t0 = performance.now();
    this.channel = c;
    const a = this.activation as Activation;
    this.grid = drawGrid($<HTMLCanvasElement>('grid-canvas'), a.data, a.height, a.width, a.channels, c);
    await this.showChannel(true);
    this.record('channel click', t0);
  }

  /** The selected channel large, its guided backprop for this image, and (once) its patches. */
  async showChannel(patches: boolean): Promise<void> {
    const a = this.activation;
    if (!a || !this.x) return;
    const epoch = ++this.epoch.channel;
    const { layer, channel } = this;
    $('channel-name').textContent = `${layer} #${channel}`;
    const r = drawChannel(
      $<HTMLCanvasElement>('channel-canvas'),
      a.data,
      a.height,
      a.width,
      a.channels,
      channel,
      'inferno',
    );
    $('channel-note').textContent = `activation, ${a.height}x${a.width}, max ${r.max.toPrecision(3)}`;
    try {
      const g = await this.net.guided(this.x, layer, channel);
      if (epoch !== this.epoch.channel) return;
      drawSignedImage($<HTMLCanvasElement>('guided-canvas'), g, this.net.width, this.net.height, this.net.channels);
      $('guided-note').textContent = 'guided backprop';
    } catch (err) {
      $('guided-note').textContent = (err as Error).message;
    }
    if (patches || $('patches').dataset.key !== `${layer}/${channel}`) void this.loadPatches(layer, channel, epoch);
  }

  private channelImageEpoch = 0;

  /** Asks the server for the selected channel's feature-visualization image and shows it forming. */
  async channelImage(): Promise<void> {
    const { layer, channel } = this;
    const epoch = ++this.channelImageEpoch;
    const bar = $<HTMLProgressElement>('channel-image-progress');
    const img = $<HTMLImageElement>('channel-image');
    img.removeAttribute('src');
    for (;;) {
      let s: JobState<{ png: string; steps: number }>;
      try {
        s = await getJson(api(`api/channel-image?layer=${encodeURIComponent(layer)}&channel=${channel}`), {
          method: 'POST',
        });
      } catch (err) {
        $('channel-image-note').textContent = (err as Error).message;
        return;
      }
      if (epoch !== this.channelImageEpoch) return;
      const pr = s.progress;
      if (pr?.preview) img.src = pr.preview;
      if (s.state === 'failed' || (s.state === 'done' && s.result)) {
        bar.hidden = true;
        if (s.result) img.src = s.result.png;
        $('channel-image-note').textContent =
          s.state === 'failed'
            ? (s.error ?? 'failed')
            : `${layer} #${channel}: ${s.result!.steps} steps of feature visualization (node side, cached)`;
        return;
      }
      bar.hidden = false;
      bar.value = pr ? pr.done / pr.total : 0;
      $('channel-image-note').textContent =
        s.state === 'queued' ? 'waiting for the server…' : `step ${pr?.done ?? 0} of ${pr?.total ?? '?'}`;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async loadPatches(layer: string, channel: number, epoch: number): Promise<void> {
    const box = $('patches');
    const bar = $<HTMLProgressElement>('patches-progress');
    const note = $('patches-note');
    if (!this.info.dataset) {
      note.textContent = this.info.datasetProblem
        ? `no data set: ${this.info.datasetProblem}`
        : 'no data set (started with --data none)';
      return;
    }
    box.replaceChildren();
    box.dataset.key = '';
    for (;;) {
      let s: JobState<{ patches: Patch[]; dataset: string; searched: number }>;
      try {
        // a POST starts the job or polls it
        s = await getJson(api(`api/patches?layer=${encodeURIComponent(layer)}&channel=${channel}`), {
          method: 'POST',
        });
      } catch (err) {
        note.textContent = (err as Error).message;
        return;
      }
      if (epoch !== this.epoch.channel) return;
      if (s.state === 'failed') {
        bar.hidden = true;
        note.textContent = s.error ?? 'failed';
        return;
      }
      if (s.state === 'done' && s.result) {
        bar.hidden = true;
        note.textContent = `over ${s.result.searched} ${s.result.dataset} images`;
        await this.drawPatches(s.result.patches, epoch);
        box.dataset.key = `${layer}/${channel}`;
        return;
      }
      bar.hidden = false;
      bar.value = s.progress ? s.progress.done / s.progress.total : 0;
      note.textContent = s.state === 'queued' ? 'waiting for the server…' : 'computing on the server…';
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async drawPatches(patches: Patch[], epoch: number): Promise<void> {
    const figs = await Promise.all(
      patches.map(async (p) => {
        const img = new Image();
        // through getJson: the API wants the page's token, which an <img> cannot send
        img.src = (await getJson<{ png: string }>(api(`api/dataset/${p.index}`))).png;
        await img.decode();
        const c = document.createElement('canvas');
        const bw = p.box.right - p.box.left,
          bh = p.box.bottom - p.box.top;
        c.width = bw;
        c.height = bh;
        (c.getContext('2d') as CanvasRenderingContext2D).drawImage(img, p.box.left, p.box.top, bw, bh, 0, 0, bw, bh);
        c.className = 'pixelated';
        const fig = document.createElement('figure');
        const cap = document.createElement('figcaption');
        cap.textContent = `#${p.index} ${p.label} ${p.activation.toPrecision(3)}`;
        fig.append(c, cap);
        return fig;
      }),
    );
    if (epoch === this.epoch.channel) $('patches').replaceChildren(...figs);
  }

  private classImageEpoch = 0;

  private resetClassImage(): void {
    this.classImageEpoch++;
    $<HTMLImageElement>('class-image').removeAttribute('src');
    $('class-image-caption').textContent = '';
    $('class-image-progress').hidden = true;
  }

  /** Asks the server for the class's gradient-ascent image and shows it forming. */
  async classImage(): Promise<void> {
    const cls = this.cls;
    const epoch = ++this.classImageEpoch;
    const bar = $<HTMLProgressElement>('class-image-progress');
    const scores: number[] = [];
    for (;;) {
      let s: JobState<{ png: string; steps: number; scores: number[] }>;
      try {
        s = await getJson(api(`api/class-image?class=${cls}`), { method: 'POST' });
      } catch (err) {
        $('class-image-note').textContent = (err as Error).message;
        return;
      }
      if (epoch !== this.classImageEpoch) return;
      const pr = s.progress;
      if (pr?.score !== undefined && scores.length < pr.done) scores[pr.done - 1] = pr.score;
      if (pr?.preview) $<HTMLImageElement>('class-image').src = pr.preview;
      if (s.state === 'failed') {
        bar.hidden = true;
        $('class-image-note').textContent = s.error ?? 'failed';
        return;
      }
      if (s.state === 'done' && s.result) {
        bar.hidden = true;
        $<HTMLImageElement>('class-image').src = s.result.png;
        $('class-image-caption').textContent =
          `${this.info.classNames[cls]}: ${s.result.steps} steps of gradient ascent (node side, cached)`;
        $('class-image-note').textContent = '';
        this.plotScores(s.result.scores);
        return;
      }
      bar.hidden = false;
      bar.value = pr ? pr.done / pr.total : 0;
      $('class-image-note').textContent =
        s.state === 'queued' ? 'waiting for the server…' : `step ${pr?.done ?? 0} of ${pr?.total ?? '?'}`;
      this.plotScores(scores);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private plotScores(scores: number[]): void {
    const P = (
      window as unknown as {
        Plotly?: { react: (el: HTMLElement, data: unknown[], layout: unknown, config: unknown) => void };
      }
    ).Plotly;
    const pts = scores.map((v, i) => [i + 1, v]).filter(([, v]) => v !== undefined);
    if (!P || pts.length < 2) return;
    P.react(
      $('class-image-chart'),
      [{ x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: 'lines', line: { color: '#3a6ea5' } }],
      {
        margin: { l: 40, r: 10, t: 24, b: 30 },
        title: { text: 'class score per step', font: { size: 12 } },
        xaxis: { title: { text: 'step' } },
      },
      { displayModeBar: false, staticPlot: false },
    );
  }
}
