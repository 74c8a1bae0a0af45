/**
 * cnnviz: see inside convolutional networks from a TypeScript notebook.
 * The names exported here are the public contract (see the design note).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExplorerHandle, ShowExplorerOptions } from './explorer';
import * as datasets from './data';
import * as images from './data/image_api';
import * as models from './models';
import { show as figures } from './widgets';
import { LECTURE_SHOWS } from './lecture';

export { tf, datasets, images, models };
export { setup, ensureBackend, currentBackend, threadCount } from './runtime/backend';
export type { SetupOptions, SetupResult, BackendChoice } from './runtime/backend';
export { AbortError, isAbortError } from './runtime/cancel';
export type { Cancellable, LongWorkOptions } from './runtime/cancel';
export * from './techniques/methods';
export * as choices from './choices';
export * as stats from './techniques/core/stats';
export * from './widgets';
/**
 * show.* of widgets/, and show.explorer: the live explorer of `model` in this cell (an iframe to this kernel's
 * explorer server, started on demand). The explorer sits above widgets/ (src/README), so it is joined on here;
 * loaded on first use, as its server is. The lecture's short forms (src/lecture:
 * `show.gradCam(net, 'dog', 'malamute')`) are joined on the same way; where one shares a widget's name it takes the
 * widget's call too.
 */
export const show = Object.assign(figures, LECTURE_SHOWS, {
  explorer: async (model: tf.LayersModel, o: ShowExplorerOptions = {}): Promise<ExplorerHandle> =>
    (await import('./explorer')).showExplorer(model, o),
});
export type { Net, ImageRef, ClassRef } from './lecture';
export * as check from './check';
export { cached, cachedWithInfo, clearCache, fingerprint } from './runtime/cache';
export type { CacheOptions, CacheHit } from './runtime/cache';
