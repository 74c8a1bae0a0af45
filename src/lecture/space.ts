// The lecture's short forms for notebooks 02-04: neighbours, PCA/t-SNE/UMAP, images in 2-D.
// Each entry is one `show.x(net, ...)` a teacher types: it resolves its arguments (./resolve), computes through the
// techniques with the heavy step cached (./remember), prints the numbers the lecture reads out, and draws.
export const SPACE_SHOWS = {};
