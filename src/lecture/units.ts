// The lecture's short forms for notebooks 00, 01, 05, 08: filters, top patches, class and channel images.
// Each entry is one `show.x(net, ...)` a teacher types: it resolves its arguments (./resolve), computes through the
// techniques with the heavy step cached (./remember), prints the numbers the lecture reads out, and draws.
export const UNIT_SHOWS = {};
