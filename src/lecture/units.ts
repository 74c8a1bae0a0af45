// The lecture's short forms for notebooks 00, 01, 05, 08: filters, top patches, class and channel images.
// Each entry is one `show.x(net, ...)` a teacher types: it resolves its arguments (./resolve), computes through the
// techniques with the heavy step cached (./remember), prints the numbers the lecture reads out, and draws.
import { CLASSVIS_SHOWS } from './units_classvis';
import { FILTERS_SHOWS } from './units_filters';
import { PATCHES_SHOWS } from './units_patches';
import { SETUP_SHOWS } from './units_setup';

export const UNIT_SHOWS = { ...SETUP_SHOWS, ...FILTERS_SHOWS, ...PATCHES_SHOWS, ...CLASSVIS_SHOWS };
