/**
 * show.imageMap(net, data): the images themselves drawn at their 2-D positions (notebook 04), or, with `grid`,
 * snapped to the cells of a grid so that each image gets its own cell and map neighbours stay grid neighbours
 * (`gridLayout`, a linear assignment). The map is show.scatter's (same names and keys, so the shipped t-SNE maps
 * are read); the grid is cached as `imagenet-tsne-grid`, `cifar-pixels-tsne-grid`, ... Prints how often adjacent
 * cells hold one WordNet group (against random cells) or one class (and how alike their colours are).
 */
import * as tf from '@tensorflow/tfjs';
import { checkInt, fail } from '../common';
import { cached } from '../runtime/cache';
import { gridLayout } from '../techniques/embedding/grid_layout';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { namedAsync } from './remember';
import { netOf, Net } from './resolve';
import { spaceData, DataRef, SpaceData } from './space_data';
import {
  mapChoice,
  mapHeader,
  mapName,
  mapOf,
  pointsAt,
  spaceKey,
  MapChoice,
  MapOptions,
  METHOD_TITLES,
} from './space_embed';

export interface ImageMapOptions extends MapOptions {
  /** place every `every`-th image only (default 1: all) */
  every?: number;
  /**
   * snap the images to a grid: its side (32: 32 x 32 cells), [rows, cols], or true (about square, one cell per
   * image); the first rows x cols of the chosen images are placed. Default: no grid, the images at their points
   */
  grid?: boolean | number | readonly [number, number];
  /** the picture's width in pixels (default 1,600 for the ImageNet photos, 1,100 for small images) */
  size?: number;
  /** the picture's title */
  title?: string;
}

const widgetImageScatter = widgetShow.imageScatter;
const widgetImageGrid = widgetShow.imageGrid;

/** [rows, cols] of the grid for `count` images, or undefined for none. */
function gridShape(caller: string, grid: ImageMapOptions['grid'], count: number): [number, number] | undefined {
  if (grid === undefined || grid === false) return undefined;
  if (grid === true) {
    const rows = Math.max(1, Math.floor(Math.sqrt(count)));
    return [rows, Math.ceil(count / rows)];
  }
  const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 200;
  if (typeof grid === 'number' && ok(grid)) return [grid, grid];
  if (Array.isArray(grid) && grid.length === 2 && grid.every(ok)) return [grid[0], grid[1]];
  fail(
    caller,
    `grid must be true, a side (32) or [rows, cols], each an integer in [1, 200], got ${JSON.stringify(grid)}`,
  );
}

/**
 * The grid's cache key, as the lecture's shipped grids were stored: all images of the data set placed ->
 * weights (for features), data, options, rows, cols; a choice of them -> the map's key, options, the chosen
 * indices and the grid's side (or rows and cols).
 */
function gridKey(space: SpaceData, c: MapChoice, picked: number[], rows: number, cols: number): object {
  const flipY = true;
  if (picked.length === space.labels.length && picked.every((p, i) => p === i)) {
    const { layer: _l, ...key } = spaceKey(space, c.pixels) as { layer?: string };
    return { ...key, options: c.options, rows, cols, flipY };
  }
  const shape = rows === cols ? { side: rows } : { rows, cols };
  return { ...spaceKey(space, c.pixels), options: c.options, picked, ...shape, flipY };
}

/** Shares of horizontally and vertically adjacent cells whose images agree (`same(a, b)`); `each` sees them all. */
function adjacent(
  cells: ArrayLike<number>,
  rows: number,
  cols: number,
  same: (a: number, b: number) => boolean,
  each?: (a: number, b: number) => void,
): number {
  const at = new Map<number, number>();
  Array.from(cells).forEach((cell, i) => at.set(cell, i));
  let pairs = 0;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < cols; col++) {
      const a = at.get(r * cols + col);
      for (const [dr, dc] of [
        [0, 1],
        [1, 0],
      ]) {
        const b = r + dr < rows && col + dc < cols ? at.get((r + dr) * cols + col + dc) : undefined;
        if (a === undefined || b === undefined) continue;
        pairs++;
        if (same(a, b)) agree++;
        each?.(a, b);
      }
    }
  }
  return pairs ? agree / pairs : 0;
}

/** A seeded shuffle of 0..m-1 (Park-Miller, seed 1): the random cells the grid's share is measured against. */
function randomCells(m: number): number[] {
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const cells = Array.from({ length: m }, (_, i) => i);
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cells[i], cells[j]] = [cells[j], cells[i]];
  }
  return cells;
}

/** The printed lines about a grid: groups against random cells, or classes and colours. */
function gridLines(
  space: SpaceData,
  c: MapChoice,
  cells: ArrayLike<number>,
  picked: number[],
  rows: number,
  cols: number,
) {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const method = METHOD_TITLES[c.method];
  if (space.groups) {
    const g = space.groups;
    const same = (a: number, b: number) => g[picked[a]] === g[picked[b]];
    const random = randomCells(rows * cols).slice(0, picked.length);
    console.log(
      `${method} grid: ${pct(adjacent(cells, rows, cols, same))} of adjacent photos in one WordNet group; ` +
        `random cells: ${pct(adjacent(random, rows, cols, same))}`,
    );
    return;
  }
  const images = tf.gather(space.images, picked);
  const colours = tf.tidy(() => images.mean([1, 2]).arraySync() as number[][]);
  images.dispose();
  const labels = space.labels;
  const names = space.classNames;
  const unlike = new Map<string, number>();
  let diff = 0;
  let pairs = 0;
  const share = adjacent(
    cells,
    rows,
    cols,
    (a, b) => labels[picked[a]] === labels[picked[b]],
    (a, b) => {
      pairs++;
      diff += Math.hypot(...colours[a].map((v, ch) => v - colours[b][ch]));
      const [la, lb] = [labels[picked[a]], labels[picked[b]]].sort((x, y) => x - y);
      if (la !== lb) unlike.set(`${names[la]} / ${names[lb]}`, (unlike.get(`${names[la]} / ${names[lb]}`) ?? 0) + 1);
    },
  );
  const name = c.pixels ? 'pixels' : 'features';
  console.log(
    `${name} grid: ${pct(share)} of adjacent images share a class; ` +
      `mean colour difference of adjacent images ${(diff / pairs).toFixed(3)}`,
  );
  const borders = [...unlike.entries()].sort((x, y) => y[1] - x[1]).slice(0, 4);
  console.log(
    `${name} grid, the most frequent neighbours of two classes: ` +
      `${borders.map(([pair, k]) => `${pair} (${k})`).join(', ')}`,
  );
}

async function imageMapShort(net: Net, data: DataRef, o: ImageMapOptions = {}): Promise<Figure> {
  const caller = 'show.imageMap';
  const model = await netOf(net, caller);
  const c = mapChoice(caller, net, model, o);
  const every = checkInt(caller, 'every', o.every, { dflt: 1 });
  const space = await spaceData(model, data, caller, { imageSize: 48, ...o }, c.net);
  try {
    const n = space.labels.length;
    const available = Math.ceil(n / every);
    const shape = gridShape(caller, o.grid, available);
    const count = shape ? Math.min(available, shape[0] * shape[1]) : available;
    const size = checkInt(caller, 'size', o.size, { dflt: space.groups ? 1600 : 1100, min: 200, max: 8000 });
    const map = await mapOf(space, c, o.recompute);
    console.log(mapHeader(space, c));
    const picked = Array.from({ length: count }, (_, i) => i * every);
    const images = tf.gather(space.images, picked) as tf.Tensor4D;
    const labels = space.groups ? {} : { labels: picked.map((i) => space.labels[i]) };
    try {
      if (!shape) {
        return widgetImageScatter(pointsAt(map, picked), images, {
          ...labels,
          size,
          frames: !space.groups,
          title: o.title ?? `${count} ${space.title} at their ${METHOD_TITLES[c.method]} positions: ${c.what}`,
        });
      }
      const [rows, cols] = shape;
      // y negated: grid row 0 is drawn at the top, where the scatter has its largest y.
      const flipped = Float32Array.from(picked.flatMap((i) => [map.points[2 * i], -map.points[2 * i + 1]]));
      const grid = await cached(`${mapName(space, c)}-grid`, gridKey(space, c, picked, rows, cols), () =>
        gridLayout({ points: flipped, n: count }, { rows, cols }),
      );
      gridLines(space, c, grid.cells, picked, rows, cols);
      return widgetImageGrid(grid, images, {
        ...labels,
        frames: !space.groups,
        title: o.title ?? `${count} ${space.title} on a ${rows} x ${cols} ${METHOD_TITLES[c.method]} grid: ${c.what}`,
      });
    } finally {
      images.dispose();
    }
  } finally {
    space.dispose();
  }
}

/**
 * `await show.imageMap('mobilenet', 'imagenet-sample')`: each image drawn at its t-SNE position in the network's
 * feature space (`space: 'pixels'`: in pixel space; `method`: another map); `{ grid: [25, 40] }` snaps them to
 * a grid; `every: 5` places every 5th image only.
 */
export const imageMap = namedAsync('show.imageMap', imageMapShort);
