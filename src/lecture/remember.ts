/**
 * The plumbing every short form shares: its public name on every error (also from async work), the heavy step
 * cached on disk by weights and data (`cached`), and a progress bar that appears only when the work reports
 * progress, so a result loaded from the cache draws no bar.
 */
import { cachedWithInfo } from '../runtime/cache';
import type { Progress } from '../runtime/cancel';
import { ProgressDisplay } from '../widgets/progress';

/** An async public function under its name: a rejection gets `name: ` in front unless it carries a name. */
export function namedAsync<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof Error && err.name !== 'InternalError' && !/^[\w.]+(\([^)]*\))?: /.test(err.message)) {
        err.message = `${name}: ${err.message}`;
      }
      throw err;
    }
  };
}

export interface RememberOptions {
  /** compute again even when a stored result exists (default false) */
  recompute?: boolean;
  /** the progress bar's title while computing */
  title?: string;
  /** print no line saying where the result came from (results of seconds, on the small networks) */
  quiet?: boolean;
}

/**
 * The stored result of `compute` for `key` (weights, data, options), or computed now with a progress bar fed by
 * the `onProgress` it is given. `name` names the cache file (`occlusion-mobilenet-dog-malamute`).
 */
export async function remember<T>(
  name: string,
  key: unknown,
  compute: (onProgress: (p: Progress) => void) => Promise<T> | T,
  o: RememberOptions = {},
): Promise<T> {
  let bar: ProgressDisplay | undefined;
  const onProgress = (p: Progress) => {
    bar ??= new ProgressDisplay({ title: o.title ?? `${name} (computing once; cached afterwards)`, total: p.total });
    bar.update(p.done, { done: p.done });
  };
  try {
    return (await cachedWithInfo(name, key, () => compute(onProgress), { recompute: o.recompute, quiet: o.quiet }))
      .value;
  } finally {
    bar?.done();
  }
}
