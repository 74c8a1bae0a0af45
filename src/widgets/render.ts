// render.*: the low level. Plain data in (Pixels, Fields, arrays), a Figure out; nothing
// is displayed.
import { filters } from './filters';
import { images, neighbors } from './gallery';
import { heatmap } from './heatmap';
import { imageGrid, imageScatter } from './image-layout';
import { occlusion } from './occlusion';
import { patches } from './patches';
import { progress } from './progress';
import { scatter } from './scatter';

export const render = { filters, images, neighbors, heatmap, patches, occlusion, scatter, imageScatter, imageGrid, progress };
