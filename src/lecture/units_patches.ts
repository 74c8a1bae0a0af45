// Notebook 05's short form: the top activating patches of a channel over a data set, with the receptive field of
// each peak (`show.topPatches('mobilenet', 'conv_pw_11_bn', 218, 'imagenet-sample')`), or, without a channel, a
// survey of the layer that picks the channels worth showing. The heavy steps are stored: MobileNet's strongest
// response per photo and channel (`sampleActivations`, shipped), a cifar-cnn channel's top 9
// (`patches-cifar-cnn-<layer>-<channel>`, shipped).
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt, fail } from '../common';
import { load as loadDataset } from '../data/datasets';
import type { Dataset } from '../data/types';
import { imagenetClasses } from '../data/imagenet/classes';
import { getLayer, layers as layerTable } from '../models/layers';
import type { Progress } from '../runtime/cancel';
import { featureVectors } from '../techniques/features/features';
import { topActivatingPatches } from '../techniques/features/patches';
import type { ActivatingPatch } from '../techniques/features/patches';
import { sampleActivations } from '../techniques/features/sample_activations';
import { topImages } from '../techniques/features/strongest';
import type { Figure } from '../widgets/figure';
import { ProgressDisplay } from '../widgets/progress';
import { show as widgetShow } from '../widgets/show';
import { namedAsync, remember } from './remember';
import { netOf, Net } from './resolve';
import { mapShapeOf } from './units_check';
import { afterAWhile, quietFor, quietResult } from './units_result';

/** The data sets a channel is searched over: the 1,000 ImageNet photos, or CIFAR-10's test images. */
export type PatchData = 'imagenet-sample' | 'cifar-10';
const PATCH_DATA: readonly PatchData[] = ['imagenet-sample', 'cifar-10'];

export interface TopPatchesOptions {
  /** cifar-10: how many test images are searched (default 2,000) */
  count?: number;
  /** images shown (default 9) */
  k?: number;
  /** compute again even when stored */
  recompute?: boolean;
}

/** What a top-patches call found and drew: per channel, its top images and the figures. */
export interface TopPatches {
  channels: { layer: string; channel: number; top: ActivatingPatch[]; share: number; group: string }[];
  figures: Figure[];
}

/** A progress bar that appears on the first report (so a stored result draws none). */
function lazyBar(title: string) {
  let bar: ProgressDisplay | undefined;
  return {
    onProgress: (p: Progress) => {
      bar ??= new ProgressDisplay({ title, total: p.total });
      bar.update(p.done, { done: p.done });
    },
    done: () => bar?.done(),
  };
}

/**
 * The layer a channel is ranked at: a '_relu' layer's '_bn' twin when the model has one (MobileNet's ReLU6 cuts
 * every strong response at 6, so hundreds of photos would tie for first place), else the layer itself.
 */
export function rankLayer(model: tf.LayersModel, layer: string): string {
  const bn = layer.replace(/_relu$/, '_bn');
  return bn !== layer && model.layers.some((l) => l.name === bn) ? bn : layer;
}

/** The strongest response of every channel of `layer` in each of the 1,000 photos (stored with cnnviz). */
async function photoStrongest(model: tf.LayersModel, layer: string) {
  const bar = lazyBar('the 1,000 ImageNet photos through the network (computing once; cached afterwards)');
  try {
    const acts = await sampleActivations(model, { layers: [layer], quiet: true, onProgress: bar.onProgress });
    return acts.strongest[layer];
  } finally {
    bar.done();
  }
}

/** The photos of a channel's top k of the 1,000 (only these are run again) and its top patches in them. */
export async function photoTop(model: tf.LayersModel, layer: string, channel: number, k: number) {
  const idx = topImages(await photoStrongest(model, layer), channel, k);
  const photos = await loadDataset('imagenet-sample', { classes: idx });
  const top = await topActivatingPatches(model, photos.images, { layer, channel, k });
  return { idx, photos, top };
}

/** The group most of the indices share (first met wins a tie), and how many share it. */
function majority(idx: number[], groupOf: (i: number) => string): { group: string; share: number } {
  const counts = new Map<string, number>();
  for (const i of idx) counts.set(groupOf(i), (counts.get(groupOf(i)) ?? 0) + 1);
  const [group, share] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return { group, share };
}

function fieldLine(model: tf.LayersModel, layer: string): { text: string; whole: boolean } {
  const info = layerTable(model).find((l) => l.name === layer)!;
  const [h, w] = (model.inputs[0].shape.slice(1, 3) as number[]).map((v) => v ?? 0);
  const f = info.receptiveField;
  const field = f ? `${f.size.join('x')} px of ${h}x${w}` : 'the whole image';
  return {
    text: `${layer}: output ${info.outputShape.join('x')}, receptive field ${field}`,
    whole: !f || (f.size[0] >= h && f.size[1] >= w),
  };
}

function netLabel(net: Net, model: tf.LayersModel): string {
  return typeof net === 'string' ? (net === 'mobilenet' ? 'MobileNet' : net) : model.name;
}

/** One ImageNet channel: its line (group count and classes) and its figure(s). */
async function photoChannel(net: Net, model: tf.LayersModel, layer: string, channel: number, k: number) {
  const classes = imagenetClasses();
  const { idx, photos, top } = await photoTop(model, layer, channel, k);
  const { group, share } = majority(idx, (i) => classes[i].group);
  console.log(
    `  ${layer} channel ${channel}: ${share} of ${k} in '${group}': ${idx.map((i) => classes[i].name).join(', ')}`,
  );
  const whole = fieldLine(model, layer).whole;
  const figures: Figure[] = [];
  const o = { labels: photos.labels, classNames: photos.classNames, cols: 9, size: 96 };
  const of = `top ${k} of 1,000 photos${whole ? ', receptive field' : ''}`;
  const title = `${netLabel(net, model)} ${layer}, channel ${channel}: ${of} (${share} of ${k} ${group})`;
  figures.push(widgetShow.patches(photos.images, top, { ...o, title }));
  if (whole) {
    // The unit sees all of the photo: the 64 x 64 px around its peak's cell say where it responds most.
    const [, mh, mw] = getLayer(model, layer).outputShape as number[];
    const [h, w] = photos.images.shape.slice(1, 3);
    const [sy, sx] = [h / mh, w / mw];
    const centred = top.map((t) => {
      const cy = Math.round((t.y + 0.5) * sy);
      const cx = Math.round((t.x + 0.5) * sx);
      const y0 = Math.min(h - 64, Math.max(0, cy - 32));
      const x0 = Math.min(w - 64, Math.max(0, cx - 32));
      const padding = { top: 0, left: 0, bottom: 0, right: 0 };
      return { ...t, box: { top: y0, left: x0, bottom: y0 + 64, right: x0 + 64, padding } };
    });
    const around = `the 64 x 64 px around each peak's cell of the ${mh} x ${mw} map`;
    figures.push(widgetShow.patches(photos.images, centred, { ...o, title: `channel ${channel}: ${around}` }));
  }
  photos.images.dispose();
  return { channel: { layer, channel, top, share, group }, figures };
}

/**
 * The channels of an ImageNet layer worth showing: for every channel the WordNet group most of its top photos
 * share, and the two most consistent channels of different groups (ties: the channel whose top photos stand
 * furthest above its average response). Dead channels (the same response in every photo) are left out.
 */
async function surveyPhotos(model: tf.LayersModel, layer: string, k: number): Promise<number[]> {
  const s = await photoStrongest(model, layer);
  const classes = imagenetClasses();
  const n = s.values.length / s.channels;
  const rows = Array.from({ length: s.channels }, (_, channel) => {
    const top = topImages(s, channel, k);
    const { group, share } = majority(top, (i) => classes[i].group);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += s.values[i * s.channels + channel] / n;
    const best = top.reduce((m, i) => m + s.values[i * s.channels + channel] / k, 0);
    return { channel, group, share, selectivity: best - mean };
  });
  const alive = rows.filter((r) => r.selectivity > 1e-6);
  const ranked = alive.sort((a, b) => b.share - a.share || b.selectivity - a.selectivity);
  const consistent = ranked.filter((r) => r.share >= 7).length;
  const dead = s.channels - alive.length;
  console.log(
    `${layer}: ${consistent} of ${s.channels} channels have 7 or more of their top ${k} photos in one WordNet group;` +
      ` ${dead} never vary`,
  );
  const second = ranked.find((r) => r.group !== ranked[0].group);
  return [ranked[0].channel, ...(second ? [second.channel] : [])];
}

const cifarSets = new Map<number, Promise<Dataset>>();

/** CIFAR-10's first `count` test images, loaded once per kernel. */
function cifarImages(count: number): Promise<Dataset> {
  let p = cifarSets.get(count);
  if (!p) {
    p = loadDataset('cifar-10', { split: 'test', limit: count });
    cifarSets.set(count, p);
    p.catch(() => cifarSets.delete(count));
  }
  return p;
}

async function cifarChannel(
  net: Net,
  model: tf.LayersModel,
  layer: string,
  channel: number,
  count: number,
  o: TopPatchesOptions,
) {
  const data = await cifarImages(count);
  const k = o.k ?? 9;
  const name = `patches-${netLabel(net, model)}-${layer}-${channel}`;
  const key = { weights: model, data: `cifar-10/test/${count}`, layer, channel, k };
  const top = await remember(
    name,
    key,
    (report) => topActivatingPatches(model, data.images, { layer, channel, k, onProgress: afterAWhile(report) }),
    { recompute: o.recompute, ...quietFor(model) },
  );
  const { group, share } = majority(
    top.map((t) => t.index),
    (i) => data.classNames[data.labels[i]],
  );
  console.log(`  ${layer} channel ${channel}: ${share} of ${k} '${group}'`);
  const of = `top ${k} of ${count.toLocaleString('en')} images (${share} of ${k} ${group})`;
  const title = `${netLabel(net, model)} ${layer} channel ${channel}: ${of}`;
  const figure = widgetShow.patches(data.images, top, {
    labels: data.labels,
    classNames: data.classNames,
    cols: 9,
    title,
  });
  return { channel: { layer, channel, top, share, group }, figures: [figure] };
}

/**
 * The channels of a cifar-cnn layer by how many of their top images share one class (one pass of the images, the
 * strongest response per image and channel, stored): the count, the ten most class-specific, and the most and the
 * least class-specific live channels to draw.
 */
async function surveyCifar(model: tf.LayersModel, layer: string, count: number, o: TopPatchesOptions) {
  const data = await cifarImages(count);
  const [, h, w, c] = getLayer(model, layer).outputShape as number[];
  const strongest = await remember(
    `cifar-${layer}-strongest`,
    { weights: model, data: `cifar-10/test/${count}` },
    async () => {
      const acts = await featureVectors(model, data.images, { layer, batchSize: 500 });
      const m = tf.tidy(
        () =>
          acts
            .reshape([count, h * w, c])
            .max(1)
            .transpose() as tf.Tensor2D,
      );
      acts.dispose();
      return m;
    },
    { recompute: o.recompute, ...quietFor(model) },
  );
  const k = o.k ?? 9;
  const best = tf.tidy(() => tf.topk(strongest, k).indices.arraySync() as number[][]);
  const purity = best.map((idx, channel) => {
    const { group, share } = majority(idx, (i) => data.classNames[data.labels[i]]);
    return { channel, class: group, [`of top ${k}`]: share };
  });
  const shareOf = (p: Record<string, string | number>) => p[`of top ${k}`] as number;
  const alive = tf.tidy(() => Array.from(strongest.max(1).greater(0).dataSync()));
  strongest.dispose();
  const specific = purity.filter((p) => shareOf(p) >= 7).length;
  const dead = alive.filter((a) => !a).length;
  console.log(
    `${specific} of ${c} ${layer} channels have 7 or more top images of one class; ${dead} never fire (dead)`,
  );
  console.table([...purity].sort((a, b) => shareOf(b) - shareOf(a)).slice(0, 10));
  const ranked = purity.filter((p) => alive[p.channel]).sort((a, b) => shareOf(b) - shareOf(a));
  return [ranked[0].channel, ranked[ranked.length - 1].channel];
}

async function topPatches(
  net: Net,
  layer: string,
  channelOrData?: number | PatchData,
  dataOrOptions?: PatchData | TopPatchesOptions,
  options: TopPatchesOptions = {},
): Promise<TopPatches> {
  const caller = 'show.topPatches';
  const model = await netOf(net, caller);
  const channel = typeof channelOrData === 'number' ? channelOrData : undefined;
  const data = (typeof channelOrData === 'string' ? channelOrData : dataOrOptions) ?? 'imagenet-sample';
  const o = (typeof dataOrOptions === 'object' ? dataOrOptions : options) ?? {};
  checkChoice(caller, 'data set', data, PATCH_DATA);
  const [, , units] = mapShapeOf(model, layer, caller);
  if (channel !== undefined && (!Number.isInteger(channel) || channel < 0 || channel >= units)) {
    fail(caller, `channel must be a whole number in [0, ${units - 1}] (${layer} has ${units}), got ${channel}`);
  }
  const k = checkInt(caller, 'k', o.k, { max: 36, dflt: 9 });
  const count = checkInt(caller, 'count', o.count, { min: k, max: 10000, dflt: 2000 });
  console.log(fieldLine(model, layer).text);
  const out: TopPatches = { channels: [], figures: [] };
  if (data === 'imagenet-sample') {
    const at = rankLayer(model, layer);
    const chosen = channel !== undefined ? [channel] : await surveyPhotos(model, at, k);
    for (const c of chosen) {
      const r = await photoChannel(net, model, at, c, k);
      out.channels.push(r.channel);
      out.figures.push(...r.figures);
    }
  } else {
    const chosen = channel !== undefined ? [channel] : await surveyCifar(model, layer, count, o);
    for (const c of chosen) {
      const r = await cifarChannel(net, model, layer, c, count, o);
      out.channels.push(r.channel);
      out.figures.push(...r.figures);
    }
  }
  return quietResult(out, `top patches of ${out.channels.map((c) => `${c.layer}:${c.channel}`).join(', ')}`);
}

export const PATCHES_SHOWS = {
  /**
   * The top 9 images of a channel over a data set ('imagenet-sample': the 1,000 photos; 'cifar-10': 2,000 test
   * images), with the receptive field of each peak and its crop; the printed line gives how many of the nine share
   * a WordNet group (or class). Without a channel, a survey of the layer picks the channels to draw.
   */
  topPatches: namedAsync('show.topPatches', topPatches) as {
    (net: Net, layer: string, channel: number, data?: PatchData, o?: TopPatchesOptions): Promise<TopPatches>;
    (net: Net, layer: string, data?: PatchData, o?: TopPatchesOptions): Promise<TopPatches>;
  },
};
