// render.*: the low level. Plain data in (Pixels, Fields, arrays), a Figure out; nothing
// is displayed.
import { filters } from './filters';
import { images, neighbors } from './gallery';
import { heatmap } from './heatmap';
import { imageGrid, imageScatter } from './image_layout';
import { occlusion } from './occlusion';
import { patches } from './patches';
import { progress } from './progress';
import { scatter } from './scatter';

import { named } from '../common';

/** Each renderer under its public name, so its errors start with `render.x: `. */
export const render = {
  filters: named('render.filters', filters),
  images: named('render.images', images),
  neighbors: named('render.neighbors', neighbors),
  heatmap: named('render.heatmap', heatmap),
  patches: named('render.patches', patches),
  occlusion: named('render.occlusion', occlusion),
  scatter: named('render.scatter', scatter),
  imageScatter: named('render.imageScatter', imageScatter),
  imageGrid: named('render.imageGrid', imageGrid),
  progress: named('render.progress', progress),
};
