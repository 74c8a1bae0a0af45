/**
 * show.scatter(net, data, { method }): a data set's feature vectors (or its pixels) reduced to 2-D by PCA, kernel
 * PCA, t-SNE or UMAP and drawn as a scatter coloured by class (by WordNet group for the ImageNet photos), with
 * hover thumbnails. The embedding is cached under the lecture's names (`cifar-tsne`, `cifar-mobilenet-tsne`,
 * `cifar-pixels-tsne`, `imagenet-umap`: prefix, the network when not the data set's own, 'pixels', method) and keys
 * (weights, data, layer, options), so the notebooks' shipped results are read, not recomputed.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { knnAccuracy } from '../techniques/embedding/trustworthiness';
import { kernelPca } from '../techniques/embedding/kernel_pca';
import { pca } from '../techniques/embedding/pca';
import { tsne } from '../techniques/embedding/tsne';
import { umap } from '../techniques/embedding/umap';
import type { Figure } from '../widgets/figure';
import type { ShowScatterOptions } from '../widgets/scatter';
import { show as widgetShow } from '../widgets/show';
import type { EmbeddingPoints } from '../widgets/tensors';
import { namedAsync, remember } from './remember';
import { netOf, Net } from './resolve';
import { spaceData, DataRef, SpaceData, SpaceDataOptions } from './space_data';

export const METHODS = ['pca', 'kpca', 'tsne', 'umap'] as const;
export type Method = (typeof METHODS)[number];

export interface ScatterShortOptions extends SpaceDataOptions {
  /** 'pca', 'kpca' (kernel PCA, RBF), 'tsne' (default), 'umap' */
  method?: Method;
  /** 'features' (default): the network's feature vectors; 'pixels': the raw pixels */
  space?: 'features' | 'pixels';
  /** draw every `every`-th point only, each with its image on hover (default: all points; images up to 1,000) */
  every?: number;
  /** the method's own options over the lecture's (t-SNE perplexity 30, 1,000 steps; UMAP 15 neighbours) */
  options?: Record<string, number | string>;
  /** the chart's title */
  title?: string;
}

/** What show.scatter(net, data) returns: the figure, and the 2-D points ({ points, n }) to go on with. */
export type ScatterShort = Figure & { points: Float32Array; n: number };

const DEFAULTS: Record<Method, Record<string, number | string>> = {
  pca: { dims: 2 },
  kpca: { kernel: 'rbf', dims: 2, seed: 0 },
  tsne: { perplexity: 30, iterations: 1000, seed: 0 },
  umap: { nNeighbors: 15, minDist: 0.1, seed: 0 },
};
const TITLES: Record<Method, string> = { pca: 'PCA', kpca: 'kernel PCA', tsne: 't-SNE', umap: 'UMAP' };
/** The network each data set's maps are named without: its own. */
const OWN: Record<string, string> = { cifar: 'cifar-cnn', mnist: 'mnist-cnn', fashion: 'fashion-cnn' };

const widgetScatter = widgetShow.scatter;

type Step = { iteration?: number; epoch?: number; kl?: number };

async function embed(
  space: SpaceData,
  method: Method,
  options: Record<string, number | string>,
  pixels: boolean,
  netName: string,
  recompute: boolean | undefined,
): Promise<{ points: Float32Array; n: number; method?: string; gamma?: number; ratio?: number }> {
  const X = async () => (pixels ? space.pixels() : await space.features());
  if (method === 'pca') {
    const p = pca(await X(), options as Parameters<typeof pca>[1]);
    return { points: p.points, n: p.n, ratio: p.explainedVarianceRatio[0] + p.explainedVarianceRatio[1] };
  }
  const own = space.prefix === 'imagenet' ? 'mobilenet' : OWN[space.prefix];
  const who = pixels ? '-pixels' : netName === own ? '' : `-${netName}`;
  const name = `${space.prefix}${who}-${method}`;
  const key = pixels ? { data: space.key.data, options } : { ...space.key, options };
  const n = space.labels.length;
  return remember(
    name,
    key,
    async (onProgress) => {
      const onStep = (s: Step) => onProgress({ done: s.iteration ?? s.epoch ?? 0, total: 0 });
      if (method === 'kpca') {
        const r = await kernelPca(await X(), options as Parameters<typeof kernelPca>[1]);
        return { points: r.points, n: r.n, method: r.method, gamma: r.gamma };
      }
      const r =
        method === 'tsne'
          ? await tsne(await X(), { ...(options as Parameters<typeof tsne>[1]), onStep: onStep, reportEvery: 50 })
          : await umap(await X(), { ...(options as Parameters<typeof umap>[1]), onStep: onStep });
      return { points: r.points, n: n };
    },
    { recompute },
  );
}

async function scatterShort(net: Net, data: DataRef, o: ScatterShortOptions = {}): Promise<ScatterShort> {
  const caller = 'show.scatter';
  const method = o.method ?? 'tsne';
  if (!METHODS.includes(method)) fail(caller, `method must be one of ${METHODS.join(', ')}, got ${String(method)}`);
  if (o.space !== undefined && o.space !== 'features' && o.space !== 'pixels') {
    fail(caller, `space must be 'features' or 'pixels', got ${JSON.stringify(o.space)}`);
  }
  const every = o.every ?? 1;
  if (!Number.isInteger(every) || every < 1) fail(caller, `every must be a positive integer, got ${every}`);
  const model = await netOf(net, caller);
  const space = await spaceData(model, data, caller, { imageSize: 32, ...o });
  try {
    const options = { ...DEFAULTS[method], ...(o.options ?? {}) };
    const pixels = o.space === 'pixels';
    const netName = typeof net === 'string' ? net : model.name;
    const who = typeof net === 'string' && net === 'mobilenet' ? 'MobileNet' : netName;
    const r = await embed(space, method, options, pixels, netName, o.recompute);
    const n = r.n;
    const what = pixels ? 'the raw pixels' : `${who} features`;
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
    if (method === 'tsne' || method === 'umap') {
      const counts = new Map<number, number>();
      for (const c of colours) counts.set(c, (counts.get(c) ?? 0) + 1);
      const largest = Math.max(...counts.values()) / n;
      const by = space.groups ? 'WordNet group' : 'class';
      const acc = knnAccuracy(r, colours, { k: 5 });
      console.log(
        `${space.title}, ${by} by 5-NN vote in 2-D: ${TITLES[method]} of ${what} ${acc.toFixed(3)}; ` +
          `largest ${space.groups ? 'group' : 'class'} ${largest.toFixed(3)}`,
      );
    }
    const chosen = Array.from({ length: Math.ceil(n / every) }, (_, i) => i * every);
    const shownPoints =
      every === 1
        ? r
        : {
            points: Float32Array.from(chosen.flatMap((i) => [r.points[2 * i], r.points[2 * i + 1]])),
            n: chosen.length,
          };
    const thumbs = every > 1 || n <= 1000 ? tf.gather(space.images, chosen) : undefined;
    try {
      const group = space.groups ? ' by WordNet group' : '';
      const count =
        every > 1
          ? `every ${every}th image: hover a dot for its image`
          : `${n.toLocaleString('en-US')} ${space.title}${group}`;
      const fig = widgetScatter(shownPoints, {
        labels: chosen.map((i) => colours[i]),
        classNames: colourNames,
        ...(thumbs ? { images: thumbs } : {}),
        ...(every > 1 ? { indices: chosen } : {}),
        ...(method === 'pca' ? { xTitle: 'PC 1', yTitle: 'PC 2' } : {}),
        ...(method === 'kpca' ? { xTitle: 'component 1', yTitle: 'component 2' } : {}),
        title: o.title ?? `${TITLES[method]} of ${what}, ${count}`,
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
