// show.*: the high level. Takes tensors and technique results, draws with render.*,
// displays the figure in the cell that asked (when in the kernel) and returns it.
import type { Tensor } from '@tensorflow/tfjs';
import { fail, named } from '../common';
import { gridCells, neighborLists, occlusionParts, OcclusionParts } from './adapters';
import { DisplayTarget } from './kernel/bridge';
import { Figure } from './figure';
import { filters, FiltersOptions, FilterBank } from './filters';
import { images as renderImages, ImagesOptions, neighbors as renderNeighbors, NeighborsOptions, NeighborSection } from './gallery';
import { heatmap as renderHeatmap, HeatmapOptions, HeatmapItem, Field } from './heatmap';
import { imageGrid as renderGrid, ImageGridOptions, imageScatter as renderImageScatter, ImageScatterOptions } from './image_layout';
import { occlusion as renderOcclusion, OcclusionOptions } from './occlusion';
import { patches as renderPatches, PatchBox, PatchesOptions } from './patches';
import { resetLibraryEmbed } from './kernel/plotly';
import { ProgressDisplay, ProgressOptions } from './progress';
import { Pixels } from './draw/raster';
import { scatter as renderScatter, ScatterOptions } from './scatter';
import { isTensor, pickImages, toField, toNumbers, toPixelList, toPixels, toPoints } from './tensors';
import type { LayersModel } from '@tensorflow/tfjs';
import type { ExplorerHandle, ShowExplorerOptions } from '../explorer';

type Images = Tensor | (Tensor | Pixels)[];
type Labels = ArrayLike<number> | Tensor;

export interface LabelOptions {
  /** class index per image (of the dataset the indices refer to) */
  labels?: Labels;
  classNames?: readonly string[];
}

function labelsOf(l: Labels | undefined): ArrayLike<number> | undefined {
  return l === undefined ? undefined : toNumbers(l, 'labels');
}

function className(o: LabelOptions, label: number): string {
  return o.classNames?.[label] ?? String(label);
}

/**
 * Runs a show.* body under its public name (errors start with `show.x: `), times it (tensor
 * reading + drawing + encoding), then displays.
 */
function timed<A extends unknown[]>(name: string, fn: (...args: A) => Figure): (...args: A) => Figure {
  const body = named(name, fn);
  return (...args: A) => {
    const t0 = performance.now();
    const fig = body(...args);
    fig.renderMs = performance.now() - t0;
    return fig.show();
  };
}

/** Displays a figure inline (in the kernel) and returns it. */
function showFigure(fig: Figure): Figure {
  if (!(fig instanceof Figure)) fail('show', 'expected a Figure (what render.* and show.* return)');
  return fig.show();
}

function filtersShow(weights: Tensor | FilterBank, o: FiltersOptions = {}): Figure {
  let bank: FilterBank;
  if (isTensor(weights)) {
    if (weights.rank !== 4) throw new Error(`filters must be [n, kh, kw, c]; got shape [${weights.shape.join(', ')}]`);
    const [n, kh, kw, c] = weights.shape;
    bank = { n, kh, kw, c, data: weights.dataSync() as Float32Array };
  } else bank = weights;
  return filters(bank, o);
}

export interface ShowImagesOptions extends ImagesOptions, LabelOptions {
  /** predicted class per image: captions show it, frames mark right (green) / wrong (red) */
  predictions?: Labels;
  /** show only these images of the batch */
  indices?: ArrayLike<number>;
  /** without indices, show at most this many (default 100) */
  max?: number;
}

function countOf(imgs: Images): number {
  if (Array.isArray(imgs)) return imgs.length;
  const s = imgs.shape;
  return s.length === 4 || (s.length === 3 && ![1, 3, 4].includes(s[2])) ? s[0] : 1;
}

function imagesShow(imgs: Images, o: ShowImagesOptions = {}): Figure {
  const total = countOf(imgs);
  const max = o.max ?? 100;
  let idx = o.indices ? Array.from(o.indices) : undefined;
  let title = o.title;
  if (!idx && total > max) {
    // a whole dataset would make a figure thousands of px tall: show the first `max`
    idx = Array.from({ length: max }, (_, i) => i);
    title = `${title ? title + ' ' : ''}(first ${max} of ${total}; pass indices or max for others)`;
  }
  const list = idx ? pickImages(imgs, idx) : toPixelList(imgs);
  const at = (i: number) => (idx ? idx[i] : i);
  const labels = labelsOf(o.labels);
  const preds = labelsOf(o.predictions);
  const captions = o.captions ?? (labels || preds ? list.map((_, i) => {
    const lines: string[] = [];
    if (labels) lines.push(className(o, labels[at(i)]));
    if (preds) lines.push(`pred ${className(o, preds[at(i)])}`);
    return lines;
  }) : undefined);
  const correct = o.correct ?? (labels && preds ? list.map((_, i) => labels[at(i)] === preds[at(i)]) : undefined);
  return renderImages(list, { ...o, captions, correct, title });
}

export interface ShowNeighborsOptions extends NeighborsOptions, LabelOptions {
  /** the queries: indices into the database (default 0..n-1), or their images */
  queries?: ArrayLike<number> | Images;
  /** class of each query when queries are images */
  queryLabels?: Labels;
  /** neighbours in pixel space (nearestNeighbors on raw pixels), drawn beside */
  pixelSpace?: unknown;
  featureTitle?: string;
  pixelTitle?: string;
  /** neighbours shown per query (default all that the result holds) */
  k?: number;
}

function neighborsShow(database: Images, result: unknown, o: ShowNeighborsOptions = {}): Figure {
  const labels = labelsOf(o.labels);
  const spaces: [string, unknown][] = [[o.featureTitle ?? (o.pixelSpace ? 'feature space' : 'neighbours'), result]];
  if (o.pixelSpace) spaces.push([o.pixelTitle ?? 'pixel space', o.pixelSpace]);
  const lists = spaces.map(([t, r]) => ({ title: t, ...neighborLists(r, t) }));
  const nq = lists[0].indices.length;
  let queryIdx: number[] | undefined;
  let queries: Pixels[];
  const q = o.queries;
  if (q === undefined || (!isTensor(q) && !Array.isArray(q) ? true : Array.isArray(q) && typeof q[0] === 'number')) {
    queryIdx = q === undefined ? Array.from({ length: nq }, (_, i) => i) : Array.from(q as ArrayLike<number>);
    queries = pickImages(database, queryIdx, 'database');
  } else {
    queries = toPixelList(q as Images, 'queries');
  }
  if (queries.length !== nq) throw new Error(`${queries.length} queries but the result has neighbours for ${nq}`);
  const qLabels = o.queryLabels ? labelsOf(o.queryLabels) : labels && queryIdx ? queryIdx.map((i) => labels[i]) : undefined;
  const sections: NeighborSection[] = lists.map((l) => {
    const rows = l.indices.map((r) => r.slice(0, o.k ?? r.length));
    return {
      title: l.title,
      images: rows.map((r) => pickImages(database, r, 'database')),
      captions: rows.map((r, qi) => r.map((di, j) => {
        const lines = labels ? [className(o, labels[di])] : [`#${di}`];
        if (l.distances) lines.push(`d ${Number(l.distances[qi][j].toPrecision(3))}`);
        return lines;
      })),
      correct: rows.map((r, qi) => r.map((di) => (labels && qLabels ? labels[di] === qLabels[qi] : null))),
    };
  });
  const queryCaptions = queries.map((_, i) => (qLabels ? [className(o, qLabels[i])] : queryIdx ? [`#${queryIdx[i]}`] : []));
  return renderNeighbors({ queries, queryCaptions, sections }, o);
}

export interface ShowHeatmapOptions extends HeatmapOptions {
  /** row titles (one per image) */
  labels?: string[];
}

function heatmapShow(attribution: Tensor | Field | (Tensor | Field)[], image?: Images | Tensor | Pixels | null, o: ShowHeatmapOptions = {}): Figure {
  // a batch is a [N, H, W, C] tensor or an array; a rank-3 tensor is one image
  const imgs = !image ? []
    : Array.isArray(image) || (isTensor(image) && image.rank === 4 && image.shape[0] > 1) ? toPixelList(image as Images, 'image')
    : [toPixels(image as Tensor | Pixels, 'image')];
  let fields: Field[];
  if (Array.isArray(attribution)) fields = attribution.map((a, i) => toField(a, `attribution[${i}]`));
  else if (isTensor(attribution) && imgs.length > 1) {
    if (attribution.rank < 3 || attribution.shape[0] !== imgs.length) {
      throw new Error(`attribution has shape [${attribution.shape.join(', ')}] for ${imgs.length} images; expected [${imgs.length}, H, W] or [${imgs.length}, H, W, C]`);
    }
    const data = attribution.dataSync() as Float32Array;
    const [n, h, w, c = 1] = attribution.shape;
    const size = h * w * c;
    fields = Array.from({ length: n }, (_, i) => ({ height: h, width: w, channels: c, data: data.subarray(i * size, (i + 1) * size) }));
  } else fields = [toField(attribution as Tensor | Field)];
  if (imgs.length && imgs.length !== fields.length) throw new Error(`${fields.length} attributions but ${imgs.length} images`);
  const items: HeatmapItem[] = fields.map((f, i) => ({ attribution: f, image: imgs[i], label: o.labels?.[i] }));
  return renderHeatmap(items, o);
}

interface PatchResult { index: number; activation?: number; y?: number; x?: number; box: PatchBox }

function patchesShow(dataset: Images, result: PatchResult[], o: PatchesOptions & LabelOptions = {}): Figure {
  if (!Array.isArray(result) || !result.every((r) => r && r.box && typeof r.index === 'number')) {
    throw new Error('expected topActivatingPatches output [{ index, activation, box: { top, left, bottom, right, padding } }]');
  }
  const imgs = pickImages(dataset, result.map((r) => r.index), 'images');
  const labels = labelsOf(o.labels);
  return renderPatches(result.map((r, i) => ({
    image: imgs[i], box: r.box, index: r.index, activation: r.activation,
    caption: labels ? [`#${r.index} ${className(o, labels[r.index])}`, ...(r.activation !== undefined ? [`act ${Number(r.activation.toPrecision(3))}`] : [])] : undefined,
  })), o);
}

function occlusionShow(result: unknown, image: Tensor | Pixels, o: OcclusionOptions & Partial<OcclusionParts> = {}): Figure {
  const parts = occlusionParts(result, o);
  const map = isTensor(parts.map) ? toField(parts.map, 'occlusion map') : parts.map;
  return renderOcclusion({ ...parts, image: toPixels(image), map }, o);
}

export interface ShowScatterOptions extends ScatterOptions, LabelOptions {
  /** images (same order as the points) for hover thumbnails */
  images?: Images;
  /** dataset index of each point, for hover */
  indices?: ArrayLike<number>;
}

function scatterShow(embedding: unknown, o: ShowScatterOptions = {}): Figure {
  const points = toPoints(embedding);
  const thumbnails = o.images ? toPixelList(o.images, 'images') : undefined;
  return renderScatter({
    points, labels: labelsOf(o.labels), classNames: o.classNames ? [...o.classNames] : undefined,
    indices: o.indices, thumbnails,
  }, o);
}

function imageScatterShow(embedding: unknown, imgs: Images, o: ImageScatterOptions & LabelOptions = {}): Figure {
  return renderImageScatter({ points: toPoints(embedding), thumbnails: toPixelList(imgs), labels: labelsOf(o.labels) }, o);
}

function imageGridShow(grid: unknown, imgs: Images, o: ImageGridOptions & LabelOptions & { rows?: number; cols?: number } = {}): Figure {
  const g = gridCells(grid, o);
  return renderGrid({ ...g, thumbnails: toPixelList(imgs), labels: labelsOf(o.labels) }, o);
}

/** A live display in this cell: create it now, update(fig) from anywhere later. */
export class LiveDisplay {
  private readonly target = DisplayTarget.here();
  update(fig: Figure): Figure {
    return fig.showIn(this.target);
  }
}

export const show = Object.assign(showFigure, {
  filters: timed('show.filters', filtersShow),
  images: timed('show.images', imagesShow),
  neighbors: timed('show.neighbors', neighborsShow),
  heatmap: timed('show.heatmap', heatmapShow),
  patches: timed('show.patches', patchesShow),
  occlusion: timed('show.occlusion', occlusionShow),
  scatter: timed('show.scatter', scatterShow),
  imageScatter: timed('show.imageScatter', imageScatterShow),
  imageGrid: timed('show.imageGrid', imageGridShow),
  /** live (step, value, image) display; pass its onStep to classVisualization or a training loop */
  progress: (o: ProgressOptions = {}) => new ProgressDisplay(o),
  live: () => new LiveDisplay(),
  /** the live explorer of `model` in this cell (an iframe to this kernel's explorer server, started on demand) */
  explorer: async (model: LayersModel, o: ShowExplorerOptions = {}): Promise<ExplorerHandle> => (await import('../explorer')).showExplorer(model, o),
  /** the next chart carries plotly.js again (after the cell that carried it was cleared) */
  resetPlotly: resetLibraryEmbed,
});
