/**
 * cnnviz: see inside convolutional networks from a TypeScript notebook.
 * The names exported here are the public contract (see the design note).
 */
import * as tf from '@tensorflow/tfjs';
import * as datasets from './data';
import * as images from './data/image_api';
import * as models from './models';

export { tf, datasets, images, models };
export { setup, ensureBackend, currentBackend, threadCount, BACKEND_CHOICES } from './runtime/backend';
export type { SetupOptions, SetupResult, BackendChoice } from './runtime/backend';
export { AbortError, isAbortError } from './runtime/cancel';
export type { Cancellable, LongWorkOptions } from './runtime/cancel';
export * from './techniques';
export * from './widgets';
export * as check from './check';
export { cached, cachedWithInfo, clearCache, fingerprint } from './runtime/cache';
export type { CacheOptions, CacheHit } from './runtime/cache';
