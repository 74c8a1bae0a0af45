/**
 * One error style for the whole package: a user-facing error starts with the public name that
 * was called (`saliency: ...`, `show.heatmap: ...`); a broken invariant inside cnnviz is an
 * InternalError, so a test or a bug report can tell the two apart.
 */

/**
 * Throws `caller: message`; `caller` is the public name the user called. Code that runs only
 * under a `named()` wrapper (the widgets) passes BY_WRAPPER and the wrapper adds the name.
 */
export function fail(caller: string, message: string): never {
  throw new Error(caller === BY_WRAPPER ? message : `${caller}: ${message}`);
}

/** The caller of code whose public entry is wrapped by named(): the wrapper names it. */
export const BY_WRAPPER = '';

/** A broken invariant inside cnnviz (a bug here, not bad input). */
export class InternalError extends Error {
  constructor(message: string) {
    super(`internal: ${message}`);
    this.name = 'InternalError';
  }
}

/** `[2, 3, ?]`: a shape for a message, `?` where any size goes (null or negative). */
export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null || d < 0 ? '?' : d)).join(', ')}]`;
}

/**
 * `fn` under its public name: an Error it throws gets `name: ` in front of its message, unless
 * the message already starts with a name of its own (an inner public call, an AbortError).
 */
export function named<A extends unknown[], R>(name: string, fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (err) {
      throw prefixed(name, err);
    }
  };
}

function prefixed(name: string, err: unknown): unknown {
  if (err instanceof Error && !(err instanceof InternalError) && !/^[\w.]+(\([^)]*\))?: /.test(err.message)) {
    err.message = `${name}: ${err.message}`;
  }
  return err;
}
