// The lecture's short forms for notebooks 02-04: neighbours, PCA/t-SNE/UMAP, images in 2-D.
// Each entry is one `show.x(net, ...)` a teacher types: it resolves its arguments (./resolve), computes through the
// techniques with the heavy step cached (./remember), prints the numbers the lecture reads out, and draws.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { SAMPLE_FILES } from '../data/images';
import { editDistance } from '../models/class_names';
import { classNames as modelClassNames } from '../models/zoo';
import { nearestNeighbors } from '../techniques/embedding/neighbors';
import { featureVectors, pixelVectors } from '../techniques/features/features';
import type { Figure } from '../widgets/figure';
import type { ShowNeighborsOptions, NeighborsResult } from '../widgets/gallery';
import { show as widgetShow } from '../widgets/show';
import type { Images } from '../widgets/tensors';
import { namedAsync } from './remember';
import { imageName, imageOf, netOf, Net, ImageRef, netName, netTitle } from './resolve';
import { spaceData, DataRef, SpaceData, SpaceDataOptions } from './space_data';
import { confusions, mapQuality, scatter } from './space_embed';
import { imageMap } from './space_map';
import { invariance } from './space_invariance';

/** A query: an image of the data set by its index or its class name, or any image (sample, path, URL, tensor). */
export type QueryRef = number | ImageRef;

export interface NeighborsShortOptions extends SpaceDataOptions {
  /** neighbours shown per query (default 6) */
  k?: number;
  /** 'pixels' (default): the neighbours in pixel space beside; 'none': feature space only */
  compare?: 'pixels' | 'none';
  /** also print the share over every image of the data set as a query (default: up to 5,000 images) */
  share?: boolean;
  /** the figure's title */
  title?: string;
}

// The widget's show.neighbors, taken before src/index.ts joins the short form onto `show` under the same name.
const widgetNeighbors = widgetShow.neighbors;

const SHARE_K = 5;

interface Query {
  /** how the printed lines name it */
  name: string;
  /** its index in the data set, or undefined for an image from elsewhere */
  index?: number;
  /** an image from elsewhere, at the model's input size */
  image?: tf.Tensor3D;
}

/** A class name of the data set (case-insensitive, or the first of its synonyms) -> its first image. */
function classImage(space: SpaceData, name: string): number | undefined {
  const q = name.trim().toLowerCase();
  const c = space.classNames.findIndex((n) => n.toLowerCase() === q || n.split(',')[0].trim().toLowerCase() === q);
  return c < 0 ? undefined : space.labels.indexOf(c);
}

async function queryOf(model: tf.LayersModel, space: SpaceData, ref: QueryRef, caller: string): Promise<Query> {
  const n = space.labels.length;
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= n) {
      fail(caller, `query index must be an integer in [0, ${n - 1}] (the ${space.title}), got ${ref}`);
    }
    return { name: `image #${ref}`, index: ref };
  }
  if (typeof ref === 'string') {
    const at = classImage(space, ref);
    if (at !== undefined && at >= 0) return { name: ref, index: at };
    const known = SAMPLE_FILES[ref] || /^https?:\/\//i.test(ref) || fs.existsSync(ref);
    if (!known) {
      const q = ref.toLowerCase();
      const close = space.classNames
        .map((c, i) => ({ c, i, d: c.toLowerCase().includes(q) ? -1 : editDistance(q, c.toLowerCase()) }))
        .sort((a, b) => a.d - b.d || a.i - b.i)
        .slice(0, 5)
        .map((x) => `'${x.c}'`);
      fail(
        caller,
        `unknown query '${ref}': not a class of the ${space.title} (closest: ${close.join(', ')}), ` +
          `a sample photo (${Object.keys(SAMPLE_FILES).join(', ')}), a file or an http(s) URL`,
      );
    }
  }
  const fit = space.groups ? 'cover' : 'fill';
  return { name: `photo '${imageName(ref)}'`, image: await imageOf(model, ref, caller, { fit: fit }) };
}

/** The k nearest rows of X to each row of Q, the query's own row (self[i], -1 for none) left out. */
function nearest(X: tf.Tensor2D, Q: tf.Tensor2D, self: number[], k: number) {
  const r = nearestNeighbors(Q, X, { k: k + 1, method: 'brute' });
  const rows = self.map((s, i) =>
    Array.from({ length: k + 1 }, (_, j) => i * (k + 1) + j)
      .filter((at) => r.indices[at] !== s)
      .slice(0, k),
  );
  return {
    indices: rows.map((row) => row.map((at) => r.indices[at])),
    distances: rows.map((row) => row.map((at) => r.distances[at])),
  };
}

/** The share of each image's `k` nearest (itself left out) that share its key (class or group), and chance. */
export function neighbourShare(X: tf.Tensor2D, keyOf: ArrayLike<number>, k = SHARE_K): number {
  const r = nearestNeighbors(X, X, { k: k, method: 'brute' });
  const n = keyOf.length;
  let same = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) same += keyOf[r.indices[i * k + j]] === keyOf[i] ? 1 : 0;
  return same / (k * n);
}

function chanceOf(keyOf: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < keyOf.length; i++) counts.set(keyOf[i], (counts.get(keyOf[i]) ?? 0) + 1);
  const n = keyOf.length;
  return [...counts.values()].reduce((s, m) => s + m * (m - 1), 0) / (n * (n - 1));
}

const pct1 = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The short form of show.neighbors: each query beside its nearest neighbours in feature space and pixel space. */
async function neighborsShort(
  net: Net,
  queries: QueryRef | readonly QueryRef[],
  data: DataRef,
  o: NeighborsShortOptions = {},
): Promise<Figure> {
  const caller = 'show.neighbors';
  const model = await netOf(net, caller);
  const k = o.k ?? 6;
  if (!Number.isInteger(k) || k < 1) fail(caller, `k must be a positive integer, got ${k}`);
  if (o.compare !== undefined && o.compare !== 'pixels' && o.compare !== 'none') {
    fail(caller, `compare must be 'pixels' or 'none', got ${JSON.stringify(o.compare)}`);
  }
  const list = (Array.isArray(queries) ? queries : [queries]) as QueryRef[];
  if (list.length === 0) fail(caller, 'expected at least one query');
  const space = await spaceData(model, data, caller, o, netName(net, model));
  const made: tf.Tensor[] = [];
  try {
    const features = await space.features();
    const pixels = space.pixels();
    const qs: Query[] = [];
    for (const q of list) qs.push(await queryOf(model, space, q, caller));
    made.push(...qs.flatMap((q) => (q.image ? [q.image] : [])));
    const who = netTitle(net, model);
    const n = space.labels.length;
    const g = space.groupNames;
    if (g && space.groups) {
      const sizes = g.map((_, i) => space.groups!.filter((x) => x === i).length);
      const listed = g.map((name, i) => `${name} ${sizes[i]}`).join(', ');
      console.log(`database: ${n} ImageNet photos, one per class, in ${g.length} WordNet groups: ${listed}`);
    } else {
      console.log(`database: ${n} ${space.title} of ${space.classNames.length} classes`);
    }
    const pixelShape = `${pixels.shape.join(' x ')}`;
    const top1 = space.top1;
    const right = top1 ? top1.filter((t, i) => t === space.labels[i]).length : 0;
    const topLine = top1 ? `; ${who}'s top-1 class is right for ${right} of ${n} photos` : '';
    console.log(`${who} features ${features.shape.join(' x ')}, pixels ${pixelShape}${topLine}`);
    // Images from elsewhere: their class is the model's best guess when the model knows the data set's classes.
    const sameClasses = modelClassNames(model).length === space.classNames.length;
    const labelOf = (q: Query): number | undefined => {
      if (q.index !== undefined) return space.labels[q.index];
      if (!sameClasses) return undefined;
      return tf.tidy(() => (model.predict(q.image!.expandDims(0)) as tf.Tensor).argMax(-1).dataSync()[0]);
    };
    const qLabels = qs.map(labelOf);
    qs.forEach((q, i) => {
      const l = qLabels[i];
      if (q.image && l !== undefined) {
        const group = g && space.groups ? ` (${g[groupOfClass(space, l)]})` : '';
        console.log(`the ${q.name}: ${who}'s best class: ${space.classNames[l]}${group}`);
      }
    });
    const onlyIndices = qs.every((q) => q.index !== undefined);
    const [h, w] = [space.images.shape[1], space.images.shape[2]];
    const parts = await Promise.all(
      qs.map(async (q) =>
        q.index !== undefined
          ? tf.slice(features, [q.index, 0], [1, -1])
          : featureVectors(model, q.image!, { layer: space.layer }),
      ),
    );
    const qf = tf.concat(parts) as tf.Tensor2D;
    tf.dispose(parts);
    made.push(qf);
    const qp = tf.tidy(
      () =>
        tf.concat(
          qs.map((q) =>
            q.index !== undefined
              ? tf.slice(pixels, [q.index, 0], [1, -1])
              : pixelVectors(tf.image.resizeBilinear(q.image!.expandDims(0) as tf.Tensor4D, space.pixelSize)),
          ),
        ) as tf.Tensor2D,
    );
    made.push(qp);
    const self = qs.map((q) => q.index ?? -1);
    const byFeatures = nearest(features, qf, self, k);
    const byPixels = o.compare === 'none' ? undefined : nearest(pixels, qp, self, k);
    let queryImages: number[] | tf.Tensor4D = self;
    if (!onlyIndices) {
      queryImages = tf.tidy(
        () =>
          tf.concat(
            qs.map((q) =>
              q.index !== undefined
                ? tf.slice(space.images, [q.index, 0, 0, 0], [1, -1, -1, -1])
                : tf.image.resizeBilinear(q.image!.expandDims(0) as tf.Tensor4D, [h, w]),
            ),
          ) as tf.Tensor4D,
      );
      made.push(queryImages);
    }
    const keyOfQuery = (i: number) => {
      const l = qLabels[i];
      if (l === undefined) return undefined;
      return space.groups ? groupOfClass(space, l) : l;
    };
    const known = qLabels.every((l) => l !== undefined);
    const groupTitle = '(green: same WordNet group as the query)';
    const fig = widgetNeighbors(space.images, byFeatures, {
      queries: queryImages,
      labels: space.labels,
      classNames: space.classNames,
      ...(known ? { queryLabels: qLabels as number[] } : {}),
      ...(space.groups ? { groups: space.groups, queryGroups: qs.map((_, i) => keyOfQuery(i) ?? -1) } : {}),
      ...(byPixels ? { pixelSpace: byPixels } : {}),
      featureTitle: `${who} features`,
      ...(space.groups ? { pixelTitle: `pixels (${space.pixelSize.join('x')})`, size: 96 } : {}),
      title:
        o.title ??
        (space.groups
          ? `nearest neighbours among ${n.toLocaleString('en-US')} ${space.title} ${groupTitle}`
          : `${space.name} nearest neighbours: ${who} features${byPixels ? ' vs pixels' : ''}`),
    });
    const keyOf = space.groups ?? space.labels;
    const what = space.groups ? 'in its group' : 'of its class';
    qs.forEach((q, i) => {
      const key = keyOfQuery(i);
      if (key === undefined) return;
      const count = (row: number[]) => row.filter((j) => keyOf[j] === key).length;
      const about = space.groups ? g![key] : space.classNames[key];
      const inPixels = byPixels ? `, ${count(byPixels.indices[i])} of ${k} pixel-space neighbours` : '';
      console.log(
        `${q.name} (${about}): ${count(byFeatures.indices[i])} of ${k} feature-space neighbours ${what}${inPixels}`,
      );
    });
    if (o.share ?? n <= 5000) {
      const f = neighbourShare(features, keyOf);
      const p = neighbourShare(pixels, keyOf);
      const chance = chanceOf(keyOf);
      if (space.groups) {
        console.log(
          `in the query's WordNet group among the ${SHARE_K} nearest: pixel space ${pct1(p)}, ${who} features ` +
            `${pct1(f)}, chance ${pct1(chance)}`,
        );
      } else {
        console.log(
          `${space.name}, same class among the ${SHARE_K} nearest: pixel space ${pct1(p)}, ${who} features ` +
            `${pct1(f)} (chance ${pct1(chance)})`,
        );
      }
    }
    return fig;
  } finally {
    for (const t of made) t.dispose();
    space.dispose();
  }
}

function groupOfClass(space: SpaceData, c: number): number {
  // ImageNet photos: one per class, so the photo of class c carries the group of c.
  return space.groups![space.labels.indexOf(c)];
}

/**
 * show.neighbors, both ways:
 * `await show.neighbors('mobilenet', ['African elephant', 'dog'], 'imagenet-sample')`: each query (an image of the
 * data set by index or class name, a sample photo, a path) beside its nearest neighbours in the network's feature
 * space and in pixel space, with the counts of same-group (same-class) neighbours printed;
 * `show.neighbors(database, nearestNeighbors(...), options)`: the widget, drawing neighbours already found.
 */
function neighbors(
  net: Net,
  queries: QueryRef | readonly QueryRef[],
  data: DataRef,
  o?: NeighborsShortOptions,
): Promise<Figure>;
function neighbors(database: Images, result: NeighborsResult, o?: ShowNeighborsOptions): Figure;
function neighbors(...args: unknown[]): Promise<Figure> | Figure {
  const [first] = args;
  if (typeof first === 'string' || first instanceof tf.LayersModel) {
    return namedNeighbors(...(args as Parameters<typeof neighborsShort>));
  }
  return widgetNeighbors(...(args as Parameters<typeof widgetNeighbors>));
}
const namedNeighbors = namedAsync('show.neighbors', neighborsShort);

export const SPACE_SHOWS = {
  neighbors,
  invariance,
  scatter,
  mapQuality,
  confusions,
  imageMap,
};
