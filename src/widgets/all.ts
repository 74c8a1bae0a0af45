// Every widget name, for `import { widgets } from 'cnnviz'` (types and helpers included).
export * from './attribution';
export * from './bridge';
export * from './colormap';
export * from './figure';
export * from './filters';
export * from './gallery';
export * from './heatmap';
export * from './image-layout';
export * from './occlusion';
export * from './patches';
export * from './progress';
export * from './raster';
export * from './scatter';
export type { PlotlySpec } from './plotly';
export type { ShowImagesOptions, ShowNeighborsOptions, ShowHeatmapOptions, ShowScatterOptions, LabelOptions } from './show';
