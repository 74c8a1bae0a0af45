// One file per technique; this barrel re-exports them by name.
export * from './embeddings';
