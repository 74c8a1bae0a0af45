/**
 * The lecture's short forms: one call a teacher types in class, `await show.gradCam(net, 'dog', 'malamute')`,
 * that resolves a model name, a sample photo and a class name, computes with the heavy step cached on disk and a
 * progress bar, prints the numbers the lecture reads out, and draws. A product above techniques/ and widgets/
 * (src/README); src/index.ts joins these onto `show`. The typed functions underneath stay for those who want
 * control (and for the assignments, where the student writes the plumbing).
 */
import { ATTRIBUTION_SHOWS } from './attribution';
import { SPACE_SHOWS } from './space';
import { UNIT_SHOWS } from './units';

export const LECTURE_SHOWS = { ...SPACE_SHOWS, ...UNIT_SHOWS, ...ATTRIBUTION_SHOWS };
export type { Net, ImageRef, ClassRef } from './resolve';
