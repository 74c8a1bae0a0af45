// Embeddings and neighbours (PCA, kernel PCA, t-SNE, UMAP, grid layout, kNN): owned by the embeddings work.
export {};
