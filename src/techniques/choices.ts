// The valid choices of the techniques' options, as lists (what an error message names, and a notebook can loop
// over): `choices.REDUCE_CHOICES` etc. from 'cnnviz'.
export { REDUCE_CHOICES } from './attribution/reduce';
export { SMOOTHGRAD_VARIANTS } from './attribution/smoothgrad';
export { INTEGRATION_METHODS } from './attribution/integrated_gradients';
export { FILTER_NORMALIZATIONS } from './features/filters';
export { REGULARIZER_PRESETS } from './features/regularizers';
export { SEGMENT_METHODS } from './attribution/segments';
export { NEIGHBOR_METRICS, NEIGHBOR_METHODS } from './embedding/neighbors';
export { PCA_METHODS } from './embedding/pca';
export { KERNELS, KERNEL_PCA_METHODS } from './embedding/kernel_pca';
export { GRID_METHODS } from './embedding/grid_layout';
