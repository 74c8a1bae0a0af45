/**
 * What an interrupted cell shows: one line, the interrupted function's own AbortError
 * (`AbortError: tsne: interrupted`), instead of tslab's `Error: Interrupted asynchronously` and
 * its stack through tslab and commander.
 *
 * On SIGINT tslab's executor ends the cell at once and prints its own error with console.error,
 * through the cell's stderr writer, before the cell replies. So from the cell wrapper (runtime/cell):
 * - `quietTslabInterrupt` filters that one text out of the cell's stderr writer;
 * - when the cell has failed because it was interrupted, `waitForAbort` waits (bounded) for the
 *   AbortError that the cell's cnnviz work rejects with, and its one line goes out before the reply.
 */

/** The text tslab's console.error(interrupted) writes: its message and a stack of `at` lines. */
const TSLAB_INTERRUPT = /^Error: Interrupted asynchronously\r?\n(?:\s+at [^\n]*\n?)*$/;

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

/**
 * Wraps process.stderr.write (tslab has just pointed it at this cell) so that tslab's interrupt
 * text is dropped while `interrupted()` is true. Returns the writer it wrapped (to print our line).
 */
export function quietTslabInterrupt(interrupted: () => boolean): Write {
  const stream = process.stderr as unknown as { write: Write };
  const cellWrite = stream.write;
  stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
    if (text !== null && interrupted() && TSLAB_INTERRUPT.test(text)) return true;
    return cellWrite.call(this, chunk, ...rest);
  };
  return cellWrite;
}

/**
 * Resolves with the last AbortError in `aborts` once none has come for `settleMs` (the outermost
 * function rethrows last), or with undefined after `maxMs` without any (work that does not listen).
 */
export function waitForAbort(aborts: Error[], maxMs = 2000, settleMs = 100): Promise<Error | undefined> {
  const start = Date.now();
  return new Promise((resolve) => {
    let seen = aborts.length;
    let since = Date.now();
    const tick = (): void => {
      const now = Date.now();
      if (aborts.length !== seen) {
        seen = aborts.length;
        since = now;
      }
      if (seen > 0 && now - since >= settleMs) return resolve(aborts[seen - 1]);
      if (now - start >= maxMs) return resolve(seen > 0 ? aborts[seen - 1] : undefined);
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** The one line an interrupted cell shows. */
export function interruptLine(err: Error | undefined): string {
  return err ? `${err.name}: ${err.message}\n` : 'Interrupted: the cell stopped waiting; its work may go on\n';
}
