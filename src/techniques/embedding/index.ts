// Embeddings and neighbours: PCA, kernel PCA, t-SNE, UMAP, grid layout, exact kNN, embedding quality.
export { nearestNeighbors, NEIGHBOR_METRICS, NEIGHBOR_METHODS } from './neighbors';
export type { NearestNeighborsOptions, NearestNeighborsResult, NeighborMetric, NeighborMethod } from './neighbors';
export { pca, PCA_METHODS } from './pca';
export type { PcaOptions, PcaResult, PcaMethod } from './pca';
export { kernelPca, KERNELS, KERNEL_PCA_METHODS } from './kernel_pca';
export type { KernelPcaOptions, KernelPcaResult, KernelName } from './kernel_pca';
export { tsne } from './tsne';
export type { TsneOptions, TsneResult, TsneStep } from './tsne';
export { umap } from './umap';
export type { UmapOptions, UmapResult, UmapStep } from './umap';
export { gridLayout, GRID_METHODS } from './grid_layout';
export type { GridLayoutOptions, GridLayoutResult, GridMethod } from './grid_layout';
export { trustworthiness, knnAccuracy } from './trustworthiness';
export type { TrustworthinessOptions, KnnAccuracyOptions, EmbeddingInput } from './trustworthiness';
export type { DenseMatrix, MatrixInput } from './numerics/matrix';
