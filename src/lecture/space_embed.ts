/**
 * show.scatter(net, data, { method }): a data set's feature vectors (or its pixels) reduced to 2-D by PCA, kernel
 * PCA, t-SNE or UMAP and drawn as a scatter coloured by class (by WordNet group for the ImageNet photos), with
 * hover thumbnails; show.mapQuality(net, data): the t-SNE maps' trustworthiness and 5-NN accuracy as a table;
 * show.confusions(net, data): the pairs of classes whose images sit among each other in feature space.
 * The embeddings are cached under the lecture's names (`cifar-tsne`, `cifar-mobilenet-tsne`, `cifar-pixels-tsne`,
 * `imagenet-umap`: prefix, the network when not the data set's own, 'pixels', method) and keys (weights, data,
 * layer, options), so the notebooks' shipped results are read, not recomputed.
 */
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt, fail } from '../common';
import { cached } from '../runtime/cache';
import { nearestNeighbors } from '../techniques/embedding/neighbors';
import { knnAccuracy, trustworthiness } from '../techniques/embedding/trustworthiness';
import { kernelPca } from '../techniques/embedding/kernel_pca';
import { pca } from '../techniques/embedding/pca';
import { tsne } from '../techniques/embedding/tsne';
import { umap } from '../techniques/embedding/umap';
import type { Figure } from '../widgets/figure';
import type { ShowScatterOptions } from '../widgets/scatter';
import { show as widgetShow } from '../widgets/show';
import type { EmbeddingPoints } from '../widgets/tensors';
import { namedAsync, remember } from './remember';
import { netOf, Net, netName, netTitle } from './resolve';
import { netPart, spaceData, DataRef, SpaceData, SpaceDataOptions } from './space_data';

export const METHODS = ['pca', 'kpca', 'tsne', 'umap'] as const;
export type Method = (typeof METHODS)[number];
export const SPACES = ['features', 'pixels'] as const;
export type Space = (typeof SPACES)[number];

export interface MapOptions extends SpaceDataOptions {
  /** 'pca', 'kpca' (kernel PCA, RBF), 'tsne' (default), 'umap' */
  method?: Method;
  /** 'features' (default): the network's feature vectors; 'pixels': the raw pixels */
  space?: Space;
  /** the method's own options over the lecture's (t-SNE perplexity 30, 1,000 steps; UMAP 15 neighbours) */
  options?: Record<string, number | string>;
}

export interface ScatterShortOptions extends MapOptions {
  /** draw every `every`-th point only, each with its image on hover (default: all points; images up to 1,000) */
  every?: number;
  /** the chart's title */
  title?: string;
}

/** What show.scatter(net, data) returns: the figure, and the 2-D points ({ points, n }) to go on with. */
export type ScatterShort = Figure & { points: Float32Array; n: number };

/** A map of a data set: its points, and what PCA and kernel PCA report. */
export interface MapPoints {
  points: Float32Array;
  n: number;
  method?: string;
  gamma?: number;
  ratio?: number;
}

const DEFAULTS: Record<Method, Record<string, number | string>> = {
  pca: { dims: 2 },
  kpca: { kernel: 'rbf', dims: 2, seed: 0 },
  tsne: { perplexity: 30, iterations: 1000, seed: 0 },
  umap: { nNeighbors: 15, minDist: 0.1, seed: 0 },
};
export const METHOD_TITLES: Record<Method, string> = { pca: 'PCA', kpca: 'kernel PCA', tsne: 't-SNE', umap: 'UMAP' };

const widgetScatter = widgetShow.scatter;
const widgetImages = widgetShow.images;

type Step = { iteration?: number; epoch?: number };

/** A map's resolved choices: method, options (the lecture's defaults under the user's), space, names. */
export interface MapChoice {
  method: Method;
  options: Record<string, number | string>;
  pixels: boolean;
  /** the network's name in cache names ('cifar-cnn', 'mobilenet') */
  net: string;
  /** how printed lines name the space: 'cifar-cnn features', 'MobileNet features', 'raw pixels' */
  what: string;
}

/** The options every map short form shares, checked: method, space, the method's options. */
export function mapChoice(caller: string, net: Net, model: tf.LayersModel, o: MapOptions): MapChoice {
  const method = checkChoice(caller, 'method', o.method, METHODS, 'tsne');
  const pixels = checkChoice(caller, 'space', o.space, SPACES, 'features') === 'pixels';
  if (o.options !== undefined && (typeof o.options !== 'object' || o.options === null || Array.isArray(o.options))) {
    fail(caller, `options must be an object of the method's options, got ${JSON.stringify(o.options)}`);
  }
  return {
    method,
    options: { ...DEFAULTS[method], ...(o.options ?? {}) },
    pixels,
    net: netName(net, model),
    what: pixels ? 'raw pixels' : `${netTitle(net, model)} features`,
  };
}

/** A map's cache name: `cifar-tsne`, `cifar-mobilenet-tsne`, `cifar-pixels-tsne`, `imagenet-umap`. */
export function mapName(space: SpaceData, c: Pick<MapChoice, 'method' | 'pixels' | 'net'>): string {
  return `${space.prefix}${c.pixels ? '-pixels' : netPart(c.net, space.prefix)}-${c.method}`;
}

/** What a map of the pixels depends on: the data (no network); of features: weights, data, layer. */
export function spaceKey(space: SpaceData, pixels: boolean): object {
  if (!pixels) return space.key;
  const { weights: _w, layer: _l, ...data } = space.key;
  return data;
}

/** `n ... , what D values each, placed by t-SNE`: the line every map short form starts with. */
export function mapHeader(space: SpaceData, c: MapChoice): string {
  const dim = c.pixels ? space.pixelSize[0] * space.pixelSize[1] * space.images.shape[3] : space.dim;
  return `${space.labels.length} ${space.title}, ${c.what} ${dim} values each, placed by ${METHOD_TITLES[c.method]}`;
}

/** The 2-D map: PCA computed now (a second), the others read from the cache or computed once with a bar. */
export async function mapOf(space: SpaceData, c: MapChoice, recompute?: boolean): Promise<MapPoints> {
  const X = async () => (c.pixels ? space.pixels() : await space.features());
  if (c.method === 'pca') {
    const p = pca(await X(), c.options as Parameters<typeof pca>[1]);
    return { points: p.points, n: p.n, ratio: p.explainedVarianceRatio[0] + p.explainedVarianceRatio[1] };
  }
  const n = space.labels.length;
  const options = c.options;
  return remember(
    mapName(space, c),
    { ...spaceKey(space, c.pixels), options },
    async (onProgress) => {
      const onStep = (s: Step) => onProgress({ done: s.iteration ?? s.epoch ?? 0, total: 0 });
      if (c.method === 'kpca') {
        const r = await kernelPca(await X(), options as Parameters<typeof kernelPca>[1]);
        return { points: r.points, n: r.n, method: r.method, gamma: r.gamma };
      }
      const r =
        c.method === 'tsne'
          ? await tsne(await X(), { ...(options as Parameters<typeof tsne>[1]), onStep: onStep, reportEvery: 50 })
          : await umap(await X(), { ...(options as Parameters<typeof umap>[1]), onStep: onStep });
      return { points: r.points, n: n };
    },
    { recompute },
  );
}

/** The 2-D points of the chosen indices only. */
export function pointsAt(map: MapPoints, chosen: readonly number[]): { points: Float32Array; n: number } {
  return {
    points: Float32Array.from(chosen.flatMap((i) => [map.points[2 * i], map.points[2 * i + 1]])),
    n: chosen.length,
  };
}

/** 2nd, 3rd, 5th, 11th, 21st */
function ordinal(k: number): string {
  const teen = k % 100 >= 11 && k % 100 <= 13;
  const end = teen ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[k % 10] ?? 'th');
  return `${k}${end}`;
}

function largestShare(keys: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) counts.set(keys[i], (counts.get(keys[i]) ?? 0) + 1);
  return Math.max(...counts.values()) / keys.length;
}

async function scatterShort(net: Net, data: DataRef, o: ScatterShortOptions = {}): Promise<ScatterShort> {
  const caller = 'show.scatter';
  const model = await netOf(net, caller);
  const c = mapChoice(caller, net, model, o);
  const every = checkInt(caller, 'every', o.every, { dflt: 1 });
  const space = await spaceData(model, data, caller, { imageSize: 32, ...o }, c.net);
  try {
    const r = await mapOf(space, c, o.recompute);
    const n = r.n;
    console.log(mapHeader(space, c));
    if (r.ratio !== undefined) console.log(`the two components explain ${(100 * r.ratio).toFixed(1)}% of the variance`);
    if (r.method !== undefined && r.gamma !== undefined) {
      const how =
        r.method === 'nystrom'
          ? ` (Nystrom approximation with 500 landmarks: ${n.toLocaleString('en-US')} points are above the exact ` +
            `limit of 3,000)`
          : ' (exact)';
      console.log(`kernel PCA: method ${r.method}${how}, gamma ${r.gamma.toFixed(4)}`);
    }
    const colours = space.groups ?? space.labels;
    const colourNames = space.groupNames ?? space.classNames;
    if (c.method === 'tsne' || c.method === 'umap') {
      const acc = knnAccuracy(r, colours, { k: 5 });
      const by = space.groups ? 'WordNet group' : 'class';
      console.log(
        `${space.title}, ${by} by 5-NN vote in 2-D: ${METHOD_TITLES[c.method]} ${acc.toFixed(3)}; ` +
          `largest ${space.groups ? 'group' : 'class'} ${largestShare(colours).toFixed(3)}`,
      );
    }
    const chosen = Array.from({ length: Math.ceil(n / every) }, (_, i) => i * every);
    const thumbs = every > 1 || n <= 1000 ? tf.gather(space.images, chosen) : undefined;
    try {
      const group = space.groups ? ' by WordNet group' : '';
      const count =
        every > 1
          ? `every ${ordinal(every)} image: hover a dot for its image`
          : `${n.toLocaleString('en-US')} ${space.title}${group}`;
      const fig = widgetScatter(every === 1 ? r : pointsAt(r, chosen), {
        labels: chosen.map((i) => colours[i]),
        classNames: colourNames,
        ...(thumbs ? { images: thumbs } : {}),
        ...(every > 1 ? { indices: chosen } : {}),
        ...(c.method === 'pca' ? { xTitle: 'PC 1', yTitle: 'PC 2' } : {}),
        ...(c.method === 'kpca' ? { xTitle: 'component 1', yTitle: 'component 2' } : {}),
        title: o.title ?? `${METHOD_TITLES[c.method]} of ${c.what}, ${count}`,
      });
      return Object.assign(fig, { points: r.points, n: r.n });
    } finally {
      thumbs?.dispose();
    }
  } finally {
    space.dispose();
  }
}

const namedScatter = namedAsync('show.scatter', scatterShort);

/**
 * show.scatter, both ways: `await show.scatter('cifar-cnn', 'cifar-10', { method: 'tsne' })` reduces the data
 * set's features to 2-D (cached) and draws them coloured by class, with the points returned;
 * `show.scatter(points, options)`: the widget, drawing an embedding already made.
 */
export function scatter(net: Net, data: DataRef, o?: ScatterShortOptions): Promise<ScatterShort>;
export function scatter(embedding: EmbeddingPoints, o?: ShowScatterOptions): Figure;
export function scatter(...args: unknown[]): Promise<ScatterShort> | Figure {
  const [first] = args;
  if (typeof first === 'string' || first instanceof tf.LayersModel) {
    return namedScatter(...(args as Parameters<typeof scatterShort>));
  }
  return widgetScatter(...(args as Parameters<typeof widgetScatter>));
}

export interface MapQualityOptions extends SpaceDataOptions {
  /** other networks whose t-SNE maps of the same data join the table (5-NN accuracy only; default none) */
  compare?: Net[];
  /** the t-SNE options over the lecture's (perplexity 30, 1,000 steps) */
  options?: Record<string, number | string>;
}

/** One row of show.mapQuality's table. */
export interface MapQualityRow {
  map: string;
  /** are a point's 2-D neighbours its true ones (1: all); undefined where the vectors were not computed */
  trustworthiness?: number;
  knn: number;
}

type Quality = Record<string, { trust?: number; knn: number }>;

/**
 * How good is each t-SNE map: trustworthiness (k = 10) and the accuracy of a 5-nearest-neighbour vote for the
 * class in 2-D, for the network's features, each compared network's features and the raw pixels; printed as a
 * table (and nothing returned, so a cell shows the table alone). Cached as `cifar-map-quality` under the
 * network's map key (the compared networks join the key when other than the lecture's MobileNet).
 */
async function mapQualityShort(net: Net, data: DataRef, o: MapQualityOptions = {}): Promise<void> {
  const caller = 'show.mapQuality';
  const model = await netOf(net, caller);
  const others = o.compare ?? [];
  if (!Array.isArray(others)) fail(caller, `compare must be a list of networks, got ${JSON.stringify(others)}`);
  const otherModels: tf.LayersModel[] = [];
  for (const other of others) otherModels.push(await netOf(other, caller));
  const c = mapChoice(caller, net, model, { options: o.options });
  const space = await spaceData(model, data, caller, o, c.net);
  const spaces: SpaceData[] = [space];
  try {
    const otherNames = others.map((other, i) => netName(other, otherModels[i]));
    const lecture = otherNames.length === 1 && otherNames[0] === 'mobilenet';
    const key = { ...space.key, options: c.options, ...(lecture ? {} : { compare: otherNames }) };
    const keys = space.groups ?? space.labels;
    const quality = await cached(
      `${space.prefix}${netPart(c.net, space.prefix)}-map-quality`,
      key,
      async (): Promise<Quality> => {
        const own = await mapOf(space, c, o.recompute);
        const pixels = await mapOf(space, { ...c, pixels: true }, o.recompute);
        const q: Quality = {
          features: {
            trust: trustworthiness(await space.features(), own, { k: 10 }),
            knn: knnAccuracy(own, keys, { k: 5 }),
          },
        };
        for (let i = 0; i < others.length; i++) {
          const s = await spaceData(otherModels[i], data, caller, o, otherNames[i]);
          spaces.push(s);
          const map = await mapOf(s, { ...c, net: otherNames[i] }, o.recompute);
          q[otherNames[i]] = { knn: knnAccuracy(map, keys, { k: 5 }) };
        }
        q.pixels = {
          trust: trustworthiness(space.pixels(), pixels, { k: 10 }),
          knn: knnAccuracy(pixels, keys, { k: 5 }),
        };
        return q;
      },
      { quiet: true, recompute: o.recompute },
    );
    const rows: MapQualityRow[] = [
      { map: `t-SNE of ${c.what}`, trustworthiness: quality.features.trust, knn: quality.features.knn },
      ...others.map((other, i) => ({
        map: `t-SNE of ${netTitle(other, otherModels[i])} features`,
        knn: quality[otherNames[i]].knn,
      })),
      { map: 't-SNE of pixels', trustworthiness: quality.pixels.trust, knn: quality.pixels.knn },
    ];
    console.table(
      rows.map((r) => ({
        map: r.map,
        trustworthiness: r.trustworthiness === undefined ? '-' : r.trustworthiness.toFixed(3),
        '5-NN accuracy in 2-D': r.knn.toFixed(3),
      })),
    );
  } finally {
    for (const s of spaces) s.dispose();
  }
}

export const mapQuality = namedAsync('show.mapQuality', mapQualityShort);

export interface ConfusionsOptions extends SpaceDataOptions {
  /** neighbours that vote for each image's class (default 10) */
  k?: number;
  /** images of the most confused pair drawn (default 16) */
  count?: number;
}

/** A pair of classes and the images of either that sit among the other. */
export interface ConfusedPair {
  classes: string;
  images: number[];
}

/** What show.confusions returns: the figure of the first pair's images, and every pair, most images first. */
export type Confusions = Figure & { pairs: ConfusedPair[] };

/**
 * Which classes does the network confuse? Each image's k nearest neighbours in feature space (itself left out)
 * vote for a class; an image whose vote goes to another class sits in that class's cluster. The pairs are
 * counted and ranked (a table and the top three printed) and the images of the first pair drawn with their label
 * and the network's prediction. The neighbours are cached (`cifar-features-knn`).
 */
async function confusionsShort(net: Net, data: DataRef, o: ConfusionsOptions = {}): Promise<Confusions | undefined> {
  const caller = 'show.confusions';
  const model = await netOf(net, caller);
  const k = checkInt(caller, 'k', o.k, { dflt: 10, max: 100 });
  const count = checkInt(caller, 'count', o.count, { dflt: 16, max: 100 });
  const name = netName(net, model);
  const space = await spaceData(model, data, caller, o, name);
  try {
    const n = space.labels.length;
    if (k >= n) fail(caller, `k must be below the number of images (${n}), got ${k}`);
    const nn = await cached(
      `${space.prefix}${netPart(name, space.prefix)}-features-knn`,
      { ...space.key, k },
      async () => {
        const features = await space.features();
        const idx = nearestNeighbors(features, features, { k, excludeSelf: true }).indices;
        return n < 32768 ? Int16Array.from(idx) : Int32Array.from(idx);
      },
      { quiet: true, recompute: o.recompute },
    );
    const keys = space.groups ?? space.labels;
    const names = space.groupNames ?? space.classNames;
    const pairs = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const votes = new Array<number>(names.length).fill(0);
      for (let j = 0; j < k; j++) votes[keys[nn[i * k + j]]]++;
      const top = votes.indexOf(Math.max(...votes));
      if (top !== keys[i]) {
        const pair = [keys[i], top]
          .sort((a, b) => a - b)
          .map((x) => names[x])
          .join(' / ');
        pairs.set(pair, [...(pairs.get(pair) ?? []), i]);
      }
    }
    const ranked = [...pairs.entries()].sort((a, b) => b[1].length - a[1].length);
    if (ranked.length === 0) {
      console.log(`no image sits among another ${space.groups ? 'group' : 'class'} (k = ${k})`);
      return undefined;
    }
    console.table(
      ranked.slice(0, 8).map(([pair, idx]) => ({ classes: pair, 'images among the other class': idx.length })),
    );
    console.log(
      `most confused pairs: ${ranked
        .slice(0, 3)
        .map(([pair]) => pair)
        .join(', ')}`,
    );
    const [worstPair, worstIdx] = ranked[0];
    const shown = worstIdx.slice(0, count);
    const images = tf.gather(space.images, shown) as tf.Tensor4D;
    try {
      const predicted = tf.tidy(() => (model.predict(images) as tf.Tensor2D).argMax(-1).dataSync());
      const ownClasses = predicted.every((p) => p < space.classNames.length) && !space.groups;
      const fig = widgetImages(images, {
        labels: shown.map((i) => space.labels[i]),
        ...(ownClasses ? { predictions: Array.from(predicted) } : {}),
        classNames: space.classNames,
        cols: 8,
        title: `${worstPair}: images that live among the other class${ownClasses ? ' (label / prediction)' : ''}`,
      });
      return Object.assign(fig, { pairs: ranked.map(([classes, idx]) => ({ classes, images: idx })) });
    } finally {
      images.dispose();
    }
  } finally {
    space.dispose();
  }
}

export const confusions = namedAsync('show.confusions', confusionsShort);
