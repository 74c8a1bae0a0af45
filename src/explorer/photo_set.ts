/**
 * The ImageNet models' data set in the explorer: the 1,000 photos of 'imagenet-sample', never all
 * in memory. A data-set image is read on its own when asked for; a channel's top patches come from
 * the stored strongest activation of each photo and channel (`sampleActivations`, computed once
 * per layer with progress, shipped for MobileNet), so only the k best photos are run again.
 */
import * as tf from '@tensorflow/tfjs';
import * as datasets from '../data';
import { labelMap } from '../data/imagenet/classes';
import { card } from '../models/zoo';
import type { ProgressCallback } from '../runtime/cancel';
import { ActivatingPatch, topActivatingPatches } from '../techniques/features/patches';
import { sampleActivations } from '../techniques/features/sample_activations';
import { topImages } from '../techniques/features/strongest';

export const PHOTO_SET = 'imagenet-sample';

/** Whose class order the photos' labels follow: Darknet's for darknet-tiny, else the standard one. */
function order(model: tf.LayersModel): string {
  return card(model).name === 'darknet-tiny' ? 'darknet-tiny' : 'mobilenet';
}

/** Labels and class names of the first `count` photos in the model's class order, without reading a photo. */
export function photoSetLabels(model: tf.LayersModel, count: number): { labels: Int32Array; classNames: string[] } {
  const map = labelMap(order(model), 'cnnviz explore');
  const classNames = new Array<string>(map.length);
  datasets.imagenetClasses().forEach((c, i) => (classNames[map[i]] = c.name));
  return { labels: Int32Array.from(map.subarray(0, Math.min(count, map.length))), classNames };
}

/** Photos `indices` at [height, width] (the caller disposes). */
export async function readPhotos(indices: number[], size: [number, number]): Promise<tf.Tensor4D> {
  return (await datasets.load(PHOTO_SET, { classes: indices, size })).images;
}

/** The top-k photos of one channel among the first `count`, with the receptive field of each peak. */
export async function photoPatches(
  model: tf.LayersModel,
  where: { layer: string; channel: number; k: number },
  count: number,
  size: [number, number],
  onProgress: ProgressCallback,
  signal?: AbortSignal,
): Promise<ActivatingPatch[]> {
  const { layer, channel, k } = where;
  const acts = await sampleActivations(model, {
    layers: [layer],
    count,
    size: size[0],
    quiet: true,
    onProgress,
    signal,
  });
  const best = topImages(acts.strongest[layer], channel, k);
  const photos = await readPhotos(best, size);
  try {
    const top = await topActivatingPatches(model, photos, { layer, channel, k, signal });
    return top.map((p) => ({ ...p, index: best[p.index] }));
  } finally {
    photos.dispose();
  }
}
