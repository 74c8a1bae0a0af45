// The figures, listed once: each file owns its render.x (plain data in) and its show.x (technique
// results and tensors in). render.ts and show.ts build render.* and show.* from this list, under
// their public names. A new widget: its file, one entry here (and its `export *` in all.ts when it
// has option types to publish).
import type { Figure } from './figure';
import { curves } from './curves';
import { filters, showFilters } from './filters';
import { images, neighbors, showImages, showNeighbors } from './gallery';
import { heatmap, showHeatmap } from './heatmap';
import { imageGrid, imageScatter, showImageGrid, showImageScatter } from './image_layout';
import { occlusion, showOcclusion } from './occlusion';
import { patches, showPatches } from './patches';
import { progress } from './progress';
import { scatter, showScatter } from './scatter';

export const FIGURES = {
  filters: { render: filters, show: showFilters },
  // plain data in: show.curves draws the same as render.curves
  curves: { render: curves, show: curves },
  images: { render: images, show: showImages },
  neighbors: { render: neighbors, show: showNeighbors },
  heatmap: { render: heatmap, show: showHeatmap },
  patches: { render: patches, show: showPatches },
  occlusion: { render: occlusion, show: showOcclusion },
  scatter: { render: scatter, show: showScatter },
  imageScatter: { render: imageScatter, show: showImageScatter },
  imageGrid: { render: imageGrid, show: showImageGrid },
  // show.progress is a live display (show.ts), not a one-off figure.
  progress: { render: progress },
};

type Figures = typeof FIGURES;

/** render.x for every figure. */
export type Renderers = { [K in keyof Figures]: Figures[K]['render'] };

/** show.x for every figure that has one. */
export type Showers = {
  [K in keyof Figures as Figures[K] extends { show: unknown } ? K : never]: Figures[K] extends { show: infer S }
    ? S
    : never;
};

/** Each entry's `part` (render or show), wrapped under its public name `prefix.key`. */
export function eachFigure(
  part: 'render' | 'show',
  wrap: (name: string, fn: (...args: never[]) => Figure) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(FIGURES) as Array<[string, Record<string, unknown>]>) {
    const fn = entry[part];
    if (typeof fn === 'function') out[key] = wrap(`${part}.${key}`, fn as (...args: never[]) => Figure);
  }
  return out;
}
