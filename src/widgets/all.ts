// Every widget name, for `import { widgets } from 'cnnviz'`: renderers, their option types and the
// drawing helpers a new widget builds on. Kernel transport (widgets/kernel/) stays internal.
export * from './draw/attribution';
export * from './draw/colormap';
export * from './curves';
export * from './figure';
export * from './filters';
export * from './gallery';
export * from './heatmap';
export * from './image_layout';
export * from './occlusion';
export * from './patches';
export * from './progress';
export * from './draw/raster';
export * from './scatter';
export type { PlotlySpec } from './kernel/plotly';
export type { Images, Labels, LabelOptions, EmbeddingPoints } from './tensors';
