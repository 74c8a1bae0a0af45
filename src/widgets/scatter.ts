// render.scatter: a 2-D embedding as an interactive Plotly chart, one trace per class (the
// legend toggles classes), hover with label and index, and in the HTML front ends the
// image thumbnail of the hovered point (from one sprite sheet, not an image per point).
// WebGL (scattergl) from 1,000 points on, so thousands of points stay smooth.
import { Figure } from './figure';
import { EmbeddingPoints, Images, LabelOptions, labelsOf, toPixelList, toPoints } from './tensors';
import { classColor } from './draw/palette';
import { PlotlySpec } from './kernel/plotly';
import { encodeGrayPng } from './draw/png_encode';
import { Pixels, Rgba, toByte, toRgba } from './draw/raster';
import { scatterPng } from './draw/scatter_static';
import { Sheet } from './draw/sheet';
import type { ScatterInput, ScatterTrace } from './scatter_types';
import { BY_WRAPPER, fail } from '../common';

export type { ScatterInput, ScatterTrace } from './scatter_types';

export interface ScatterOptions {
  title?: string;
  width?: number;
  height?: number;
  /** marker diameter in px (default by N: 8 below 500 points, then 5, then 3) */
  markerSize?: number;
  opacity?: number;
  /** 'auto' (WebGL from 1,000 points), true or false */
  gl?: 'auto' | boolean;
  /** display scale of hover thumbnails (default: makes them ~84 px) */
  thumbnailScale?: number;
  xTitle?: string;
  yTitle?: string;
}

/** Groups points by class, in class order. */
export function scatterTraces(input: ScatterInput): ScatterTrace[] {
  const n = input.points.length / 2;
  if (!Number.isInteger(n)) fail(BY_WRAPPER, `points has ${input.points.length} values; expected x,y pairs (N*2)`);
  if (n === 0) fail(BY_WRAPPER, 'points is empty; expected at least one x,y pair');
  const declared = (input as { n?: unknown }).n;
  if (declared !== undefined && declared !== n)
    fail(BY_WRAPPER, `n is ${String(declared)} but points holds ${n} points (N*2 values)`);
  if (input.labels && input.labels.length !== n)
    fail(BY_WRAPPER, `labels has ${input.labels.length} entries; expected one per point (${n})`);
  const labels = input.labels ?? new Int32Array(n);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) maxLabel = Math.max(maxLabel, labels[i]);
  const nClasses = Math.max(maxLabel + 1, input.classNames?.length ?? 0);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0) fail(BY_WRAPPER, `label ${l} of point ${i} must be a class index >= 0`);
    if (!groups.has(l)) groups.set(l, []);
    (groups.get(l) as number[]).push(i);
  }
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((l) => ({
      label: l,
      name: input.classNames?.[l] ?? (input.labels ? String(l) : 'points'),
      color: classColor(l, nClasses),
      members: groups.get(l) as number[],
    }));
}

function round5(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(5)) : NaN;
}

/** All thumbnails in one PNG grid; slot i sits at column i % cols, row floor(i / cols). */
function spriteSheet(thumbs: Pixels[]): { png: Buffer; cols: number; tw: number; th: number; w: number; h: number } {
  const tw = Math.max(...thumbs.map((t) => t.width));
  const th = Math.max(...thumbs.map((t) => t.height));
  const cols = Math.ceil(Math.sqrt(thumbs.length));
  const rows = Math.ceil(thumbs.length / cols);
  const W = cols * tw;
  const H = rows * th;
  if (thumbs.every((t) => t.channels === 1)) {
    const gray = new Uint8Array(W * H).fill(255);
    thumbs.forEach((t, i) => {
      const x0 = (i % cols) * tw;
      const y0 = Math.floor(i / cols) * th;
      for (let y = 0; y < t.height; y++)
        for (let x = 0; x < t.width; x++) gray[(y0 + y) * W + x0 + x] = toByte(t.data[y * t.width + x]);
    });
    return { png: encodeGrayPng(gray, W, H), cols, tw, th, w: W, h: H };
  }
  const sheet = new Sheet(W, H, '#ffffff');
  thumbs.forEach((t, i) => sheet.put(toRgba(t) as Rgba, (i % cols) * tw, Math.floor(i / cols) * th));
  return { png: sheet.png(), cols, tw, th, w: W, h: H };
}

export function scatter(input: ScatterInput, o: ScatterOptions = {}): Figure {
  const traces = scatterTraces(input);
  const n = input.points.length / 2;
  const gl = o.gl === undefined || o.gl === 'auto' ? n >= 1000 : o.gl;
  const size = o.markerSize ?? (n < 500 ? 8 : n < 5000 ? 5 : 3);
  const width = o.width ?? 760;
  const height = o.height ?? 560;
  if (input.thumbnails && input.thumbnails.length !== n) {
    fail(BY_WRAPPER, `thumbnails has ${input.thumbnails.length} images; expected one per point (${n})`);
  }
  const index = (i: number) => (input.indices ? input.indices[i] : i);
  const data = traces.map((t) => ({
    type: gl ? 'scattergl' : 'scatter',
    mode: 'markers',
    name: t.name,
    x: t.members.map((i) => round5(input.points[2 * i])),
    y: t.members.map((i) => round5(input.points[2 * i + 1])),
    customdata: t.members.map((i) => [t.name, index(i), i]),
    hovertemplate: 'label: %{customdata[0]}<br>index: %{customdata[1]}<extra></extra>',
    marker: { color: t.color, size, opacity: o.opacity ?? 0.8 },
  }));
  const layout: Record<string, unknown> = {
    width,
    height,
    margin: { l: 50, r: 20, t: o.title ? 40 : 16, b: 40 },
    hovermode: 'closest',
    legend: { itemsizing: 'constant', title: { text: input.classNames || input.labels ? 'class' : '' } },
    xaxis: { zeroline: false, title: { text: o.xTitle ?? '' } },
    yaxis: { zeroline: false, title: { text: o.yTitle ?? '' } },
    font: { family: 'DejaVu Sans, Arial, sans-serif', size: 13 },
    plot_bgcolor: '#ffffff',
  };
  if (o.title) layout.title = { text: o.title };
  const spec: PlotlySpec = { data, layout, config: { responsive: false, displaylogo: false } };

  let extraHtml: string | undefined;
  let afterPlot: string | undefined;
  if (input.thumbnails && n > 0) {
    const sprite = spriteSheet(input.thumbnails);
    const s = o.thumbnailScale ?? Math.max(1, Math.ceil(84 / Math.max(sprite.tw, sprite.th)));
    extraHtml =
      `<div class="cnnviz-thumb" style="position:absolute;display:none;pointer-events:none;` +
      `width:${sprite.tw * s}px;height:${sprite.th * s}px;border:2px solid #444;background-color:#fff;` +
      `background-image:url(data:image/png;base64,${sprite.png.toString('base64')});` +
      `background-size:${sprite.w * s}px ${sprite.h * s}px;image-rendering:pixelated;z-index:10"></div>`;
    afterPlot = `var box = root.querySelector('.cnnviz-thumb');
      gd.on('plotly_hover', function (ev) {
        var pt = ev.points && ev.points[0];
        if (!pt || !pt.customdata) return;
        var slot = pt.customdata[2], cols = ${sprite.cols}, w = ${sprite.tw * s}, h = ${sprite.th * s};
        box.style.backgroundPosition = (-(slot % cols) * w) + 'px ' + (-Math.floor(slot / cols) * h) + 'px';
        var r = root.getBoundingClientRect(), e = ev.event || {};
        var x = (e.clientX !== undefined ? e.clientX - r.left : 60) + 16;
        var y = (e.clientY !== undefined ? e.clientY - r.top : 60) + 16;
        if (x + w > r.width) x = Math.max(0, x - w - 32);
        box.style.left = x + 'px'; box.style.top = y + 'px'; box.style.display = 'block';
        box.setAttribute('data-slot', String(slot));
      });
      gd.on('plotly_unhover', function () { box.style.display = 'none'; });`;
  }
  return new Figure({
    kind: 'scatter',
    width,
    height,
    plotly: spec,
    extraHtml,
    afterPlot,
    staticPng: () => scatterPng(input, traces, { width, height, markerSize: size, title: o.title }),
    fallbackImage: () => scatterPng(input, traces, { width, height, markerSize: size, title: o.title }, 'webp'),
    text: `scatter: ${n} points in ${traces.length} classes${gl ? ' (WebGL)' : ''}`,
    info: { gl, points: n, traces: traces.map((t) => ({ name: t.name, color: t.color, count: t.members.length })) },
  });
}

export interface ShowScatterOptions extends ScatterOptions, LabelOptions {
  /** images (same order as the points) for hover thumbnails */
  images?: Images;
  /** dataset index of each point, for hover */
  indices?: ArrayLike<number>;
}

/** show.scatter: an embedding (pca, kernelPca, tsne, umap) as a chart, a trace per class. */
export function showScatter(embedding: EmbeddingPoints, o: ShowScatterOptions = {}): Figure {
  const points = toPoints(embedding);
  const thumbnails = o.images ? toPixelList(o.images, 'images') : undefined;
  return scatter(
    {
      points,
      labels: labelsOf(o.labels),
      classNames: o.classNames ? [...o.classNames] : undefined,
      indices: o.indices,
      thumbnails,
    },
    o,
  );
}
