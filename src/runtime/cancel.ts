/**
 * Cancellation and progress for long work. Every long-running function takes the options of
 * `LongWorkOptions` (a `signal` and an `onProgress`), runs its loop through a `Work`, and
 * rejects with an `AbortError` naming itself within a fraction of a second of the abort.
 *
 * Inside the tslab kernel the work also listens to the cell that started it (runtime/cell):
 * interrupting the cell aborts it, with no signal passed by the user.
 */
import { CELL_INTERRUPT, cellSignal, noteAbortError } from './cell';
import { fail } from '../common';

/** Progress of long work, reported through `onProgress`. */
export interface Progress {
  done: number;
  total: number;
}
export type ProgressCallback = (p: Progress) => void | Promise<void>;

/** Options of every function that can be stopped. */
export interface Cancellable {
  /**
   * Aborting it stops the work: the call rejects with an AbortError (`err.name === 'AbortError'`)
   * whose message names the function, and frees what it allocated. In the kernel, interrupting
   * the cell does the same without a signal.
   */
  signal?: AbortSignal;
}

/** Options of every long-running function: stop it (`signal`), watch it (`onProgress`). */
export interface LongWorkOptions extends Cancellable {
  /** Called after each chunk of work with { done, total }; may be async (the work waits for it). */
  onProgress?: ProgressCallback;
}

/** The rejection of aborted work: `name` is 'AbortError', the message starts with the function called. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(
    readonly fn: string,
    readonly reason?: unknown,
  ) {
    // an interrupted cell shows this message as its one line: `AbortError: tsne: interrupted`
    super(
      reason instanceof Error && reason.name === CELL_INTERRUPT
        ? `${fn}: interrupted`
        : `${fn}: aborted${describeReason(reason)}`,
    );
    this.name = 'AbortError';
    noteAbortError(this);
  }
}

function describeReason(reason: unknown): string {
  if (reason === undefined) return '';
  if (reason instanceof Error)
    return reason.name === 'AbortError' && !reason.message.includes(':') ? '' : ` (${reason.message})`;
  return ` (${String(reason)})`;
}

export function isAbortError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'AbortError';
}

/** Throws an AbortError naming `fn` when the signal has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, fn: string): void {
  if (signal?.aborted) throw new AbortError(fn, signal.reason);
}

/**
 * The signal long work obeys: the caller's, joined with the current kernel cell's (if any).
 * Undefined when nothing can abort the work (outside a kernel, no signal given).
 */
export function workSignal(signal: AbortSignal | undefined, fn: string): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(fn, `signal must be an AbortSignal (new AbortController().signal), got ${typeof signal}`);
  }
  const cell = cellSignal();
  if (!cell) return signal;
  if (!signal || signal === cell) return cell;
  return anySignal([signal, cell]);
}

/** AbortSignal.any (Node 20.3+; joined by hand before, at the cost of a listener on each). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native.call(AbortSignal, signals);
  const joined = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      joined.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => joined.abort(s.reason), { once: true });
  }
  return joined.signal;
}

/** Resolves on the next turn of the event loop, after pending I/O (so a SIGINT can be delivered). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Synchronous code that can pause: a generator yields at its safe points. `runSync` drives it to
 * the end at once; `Work.steps` lets the event loop in (and stops on abort) every SLICE_MS.
 */
export type Steps<T> = Generator<void, T, void>;

export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Longest stretch of work between two looks at the event loop, in ms. */
export const SLICE_MS = 40;

/**
 * One run of long work: its signal, its progress callback, and the checkpoints of its loop.
 *
 *   const work = new Work('occlusion', opts);       // throws at once if already aborted
 *   for (...) { ...; await work.progress(done, total); }
 *
 * `tick()` lets the event loop run every SLICE_MS (an abort from a timer or a kernel interrupt
 * can only arrive then) and throws once aborted. With no signal at all it costs nothing.
 */
export class Work {
  readonly signal: AbortSignal | undefined;
  private readonly onProgress: ProgressCallback | undefined;
  private last = performance.now();

  constructor(
    readonly fn: string,
    opts: LongWorkOptions = {},
  ) {
    this.signal = workSignal(opts.signal, fn);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
      fail(fn, `onProgress must be a function ({ done, total }) => void, got ${typeof opts.onProgress}`);
    }
    this.onProgress = opts.onProgress;
    this.check();
  }

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /** Throws the AbortError once aborted. */
  check(): void {
    throwIfAborted(this.signal, this.fn);
  }

  /** A checkpoint inside a loop: yields to the event loop when the slice is used up, then checks. */
  async tick(): Promise<void> {
    this.check();
    if (this.signal && performance.now() - this.last >= SLICE_MS) {
      await nextTurn();
      this.last = performance.now();
      this.check();
    }
  }

  /** A synchronous stretch is over when it has run a slice: the caller then awaits tick(). */
  get due(): boolean {
    return this.signal !== undefined && performance.now() - this.last >= SLICE_MS;
  }

  /** Drives a generator of work, pausing at its yields when a slice is used up. */
  async steps<T>(steps: Steps<T>): Promise<T> {
    try {
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        if (this.due) await this.tick();
      }
    } finally {
      // Stopped at a yield (abort): run the generator's finally blocks, which free its tensors.
      steps.return(undefined as never);
    }
  }

  /** Reports progress (never after an abort) and passes a checkpoint. */
  async progress(done: number, total: number): Promise<void> {
    this.check();
    await this.call('onProgress', this.onProgress, { done, total });
    await this.tick();
  }

  /**
   * Calls a user callback; an exception in it ends the work with an error that says where it
   * came from (the original stays as `cause`).
   */
  async call<A extends unknown[], R>(
    name: string,
    fn: ((...args: A) => R) | undefined,
    ...args: A
  ): Promise<Awaited<R> | undefined> {
    if (!fn) return undefined;
    let out: Awaited<R>;
    try {
      out = await fn(...args);
    } catch (err) {
      // Work nested in the callback stopped for our abort: say so under our name.
      if (isAbortError(err)) throw this.aborted ? new AbortError(this.fn, this.signal!.reason) : err;
      const message = err instanceof Error ? err.message : String(err);
      const wrapped = new Error(`${this.fn}: the ${name} callback threw: ${message}`);
      (wrapped as Error & { cause?: unknown }).cause = err;
      throw wrapped;
    }
    this.check();
    return out;
  }
}
