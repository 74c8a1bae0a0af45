// render.images and render.neighbors: strips of images with captions; a query beside its
// nearest neighbours, several queries as rows, feature space and pixel space side by side,
// each neighbour framed green (same class as the query) or red (another class).
import { Figure } from './figure';
import { className, Images, isTensor, LabelOptions, Labels, labelsOf, pickImages, toPixelList } from './tensors';
import type { NearestNeighborsResult } from '../techniques/embedding/neighbors';
import { Normalize, Pixels, scaleFor, toRgba, upscale } from './draw/raster';
import { ColumnGroup, drawTiles, Tile } from './draw/tiles';
import { BY_WRAPPER, fail } from '../common';

export const CORRECT_COLOR = '#1a9850';
export const WRONG_COLOR = '#d73027';
export const QUERY_COLOR = '#2166ac';

export interface ImagesOptions {
  /** one caption line, or several lines, per image */
  captions?: (string | string[])[];
  /** true = framed green, false = framed red, null/undefined = no frame */
  correct?: (boolean | null | undefined)[];
  cols?: number;
  /** integer nearest-neighbour upscaling; default makes each image at least `size` px */
  scale?: number;
  size?: number;
  /** 'none' (values already in [0, 1], default), 'minmax' per image, 'symmetric' (0 -> gray) */
  normalize?: Normalize;
  title?: string;
}

function lines(c: string | string[] | undefined): string[] | undefined {
  if (c === undefined) return undefined;
  return Array.isArray(c) ? c : [c];
}

function mark(ok: boolean | null | undefined): string | undefined {
  return ok === true ? CORRECT_COLOR : ok === false ? WRONG_COLOR : undefined;
}

export function images(imgs: Pixels[], o: ImagesOptions = {}): Figure {
  if (imgs.length === 0) fail(BY_WRAPPER, 'images needs at least one image');
  if (o.captions && o.captions.length !== imgs.length)
    fail(BY_WRAPPER, `captions has ${o.captions.length} entries; expected one per image (${imgs.length})`);
  if (o.correct && o.correct.length !== imgs.length)
    fail(BY_WRAPPER, `correct has ${o.correct.length} entries; expected one per image (${imgs.length})`);
  const maxSide = Math.max(...imgs.map((i) => Math.max(i.width, i.height)));
  const scale = o.scale ?? scaleFor(maxSide, maxSide, o.size ?? 84);
  const tiles: Tile[] = imgs.map((img, i) => ({
    img: upscale(toRgba(img, o.normalize ?? 'none'), scale),
    caption: lines(o.captions?.[i]),
    frame: mark(o.correct?.[i]),
  }));
  const cols = o.cols ?? Math.min(imgs.length, 10);
  const rows: Tile[][] = [];
  for (let i = 0; i < tiles.length; i += cols) rows.push(tiles.slice(i, i + cols));
  const { sheet, geometry } = drawTiles({ rows, title: o.title });
  return new Figure({
    kind: 'images',
    width: geometry.width,
    height: geometry.height,
    png: sheet.png(),
    text: `images: ${imgs.length} at x${scale}`,
    info: { scale, cells: geometry.cells, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight },
  });
}

/** Neighbours of every query in one space (feature space, pixel space, ...). */
export interface NeighborSection {
  title: string;
  /** [query][rank] */
  images: Pixels[][];
  captions?: (string | string[])[][];
  correct?: (boolean | null)[][];
}

export interface NeighborsInput {
  queries: Pixels[];
  queryCaptions?: (string | string[])[];
  sections: NeighborSection[];
}

export interface NeighborsOptions {
  scale?: number;
  size?: number;
  normalize?: Normalize;
  title?: string;
}

export function neighbors(input: NeighborsInput, o: NeighborsOptions = {}): Figure {
  const { queries, sections } = input;
  if (queries.length === 0) fail(BY_WRAPPER, 'neighbors needs at least one query');
  if (sections.length === 0) fail(BY_WRAPPER, 'neighbors needs at least one section of neighbours');
  sections.forEach((s) => {
    if (s.images.length !== queries.length) {
      fail(
        BY_WRAPPER,
        `section '${s.title}' has neighbours for ${s.images.length} queries; expected ${queries.length}`,
      );
    }
  });
  const all = [...queries, ...sections.flatMap((s) => s.images.flat())];
  const maxSide = Math.max(...all.map((i) => Math.max(i.width, i.height)));
  const scale = o.scale ?? scaleFor(maxSide, maxSide, o.size ?? 84);
  const norm = o.normalize ?? 'none';
  const ks = sections.map((s) => Math.max(...s.images.map((row) => row.length)));
  const groups: ColumnGroup[] = [{ title: 'query', start: 0, count: 1 }];
  let start = 1;
  sections.forEach((s, i) => {
    groups.push({ title: s.title, start, count: ks[i] });
    start += ks[i];
  });
  const rows: Tile[][] = queries.map((q, r) => {
    const row: Tile[] = [
      {
        img: upscale(toRgba(q, norm), scale),
        caption: lines(input.queryCaptions?.[r]),
        frame: QUERY_COLOR,
      },
    ];
    sections.forEach((s, si) => {
      for (let j = 0; j < ks[si]; j++) {
        const img = s.images[r][j];
        row.push(
          img
            ? {
                img: upscale(toRgba(img, norm), scale),
                caption: lines(s.captions?.[r]?.[j]),
                frame: mark(s.correct?.[r]?.[j]),
              }
            : { img: null },
        );
      }
    });
    return row;
  });
  const { sheet, geometry } = drawTiles({ rows, groups, title: o.title, groupGap: 24 });
  return new Figure({
    kind: 'neighbors',
    width: geometry.width,
    height: geometry.height,
    png: sheet.png(),
    text: `neighbors: ${queries.length} queries x ${sections.map((s, i) => `${ks[i]} in ${s.title}`).join(', ')}`,
    info: { scale, cells: geometry.cells, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight },
  });
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

/** show.images: a batch (or some of it) as a grid, with labels and right/wrong predictions. */
export function showImages(imgs: Images, o: ShowImagesOptions = {}): Figure {
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
  const captions =
    o.captions ??
    (labels || preds
      ? list.map((_, i) => {
          const lines: string[] = [];
          if (labels) lines.push(className(o, labels[at(i)]));
          if (preds) lines.push(`pred ${className(o, preds[at(i)])}`);
          return lines;
        })
      : undefined);
  const correct = o.correct ?? (labels && preds ? list.map((_, i) => labels[at(i)] === preds[at(i)]) : undefined);
  return images(list, { ...o, captions, correct, title });
}

/**
 * Neighbours as show.neighbors takes them: nearestNeighbors' result (row i of k in flat
 * arrays), or one list per query ({ indices: number[][], distances?: number[][] }).
 */
export type NeighborsResult =
  | (Pick<NearestNeighborsResult, 'indices' | 'k'> & Partial<Pick<NearestNeighborsResult, 'distances' | 'n'>>)
  | { indices: ArrayLike<number>[]; distances?: ArrayLike<number>[] };

interface NeighborLists {
  indices: number[][];
  distances?: number[][];
}

function neighborLists(r: NeighborsResult, what: string): NeighborLists {
  if (!r || typeof r !== 'object' || !r.indices) {
    fail(
      BY_WRAPPER,
      `section '${what}': expected nearestNeighbors' result { indices, distances, k } or { indices: number[][] } ` +
        `per query`,
    );
  }
  if ('k' in r && typeof r.k === 'number') {
    const k = r.k;
    if (!(Number.isInteger(k) && k >= 1)) fail(BY_WRAPPER, `section '${what}': k ${k} must be a positive integer`);
    const rows = (flat: ArrayLike<number>): number[][] =>
      Array.from({ length: Math.ceil(flat.length / k) }, (_, i) => Array.from(flat).slice(i * k, (i + 1) * k));
    return { indices: rows(r.indices), distances: r.distances ? rows(r.distances) : undefined };
  }
  const perQuery = r as { indices: ArrayLike<number>[]; distances?: ArrayLike<number>[] };
  if (!Array.from(perQuery.indices as ArrayLike<unknown>).every((q) => q !== null && typeof q === 'object')) {
    fail(
      BY_WRAPPER,
      `section '${what}': flat indices need k; expected nearestNeighbors' result { indices, distances, k } or { ` +
        `indices: number[][] } per query`,
    );
  }
  return {
    indices: perQuery.indices.map((q) => Array.from(q)),
    distances: perQuery.distances ? perQuery.distances.map((q) => Array.from(q)) : undefined,
  };
}

export interface ShowNeighborsOptions extends NeighborsOptions, LabelOptions {
  /** the queries: indices into the database (default 0..n-1), or their images */
  queries?: ArrayLike<number> | Images;
  /** class of each query when queries are images */
  queryLabels?: Labels;
  /** neighbours in pixel space (nearestNeighbors on raw pixels), drawn beside */
  pixelSpace?: NeighborsResult;
  featureTitle?: string;
  pixelTitle?: string;
  /** neighbours shown per query (default all that the result holds) */
  k?: number;
  /**
   * group of each database image (e.g. a WordNet group when every class is there once): frames
   * then say whether a neighbour is in the query's group rather than of its class
   */
  groups?: Labels;
  /** group of each query when queries are images (with `groups`) */
  queryGroups?: Labels;
}

/** show.neighbors: each query beside its nearest neighbours (feature space, and pixel space beside it). */
export function showNeighbors(database: Images, result: NeighborsResult, o: ShowNeighborsOptions = {}): Figure {
  const labels = labelsOf(o.labels);
  const spaces: [string, NeighborsResult][] = [
    [o.featureTitle ?? (o.pixelSpace ? 'feature space' : 'neighbours'), result],
  ];
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
  if (queries.length !== nq) fail(BY_WRAPPER, `${queries.length} queries but the result has neighbours for ${nq}`);
  const qLabels = o.queryLabels
    ? labelsOf(o.queryLabels)
    : labels && queryIdx
      ? queryIdx.map((i) => labels[i])
      : undefined;
  const groups = labelsOf(o.groups);
  const qGroups = o.queryGroups
    ? labelsOf(o.queryGroups)
    : groups && queryIdx
      ? queryIdx.map((i) => groups[i])
      : undefined;
  const same = (di: number, qi: number) =>
    groups ? (qGroups ? groups[di] === qGroups[qi] : null) : labels && qLabels ? labels[di] === qLabels[qi] : null;
  const sections: NeighborSection[] = lists.map((l) => {
    const rows = l.indices.map((r) => r.slice(0, o.k ?? r.length));
    return {
      title: l.title,
      images: rows.map((r) => pickImages(database, r, 'database')),
      captions: rows.map((r, qi) =>
        r.map((di, j) => {
          const lines = labels ? [className(o, labels[di])] : [`#${di}`];
          if (l.distances) lines.push(`d ${Number(l.distances[qi][j].toPrecision(3))}`);
          return lines;
        }),
      ),
      correct: rows.map((r, qi) => r.map((di) => same(di, qi))),
    };
  });
  const queryCaptions = queries.map((_, i) =>
    qLabels ? [className(o, qLabels[i])] : queryIdx ? [`#${queryIdx[i]}`] : [],
  );
  return neighbors({ queries, queryCaptions, sections }, o);
}
