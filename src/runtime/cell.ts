/**
 * Which kernel cell started which work, so that interrupting a cell stops its work and an ended
 * cell receives nothing more.
 *
 * How tslab runs a cell: `JupyterHandlerImpl.handleExecuteImpl` points `lastWriteDisplayData`
 * (on tslab/dist/jupyter) at the new cell's writer, then runs the code. Interrupt is SIGINT to
 * the kernel process; tslab's handler ends the cell at once ("Interrupted asynchronously") but
 * whatever the cell started goes on running. tslab offers no hook, so from our side:
 * - a SIGINT listener of our own (beside tslab's) aborts the cells' AbortControllers;
 * - `handleExecuteImpl` is wrapped on tslab's prototype at run time (its files are untouched):
 *   the cell runs inside an AsyncLocalStorage context, so work keeps its cell across awaits and
 *   timers, and the cell is marked ended before tslab sends the reply and the idle status.
 * Cells that ran before cnnviz was loaded are told apart by their writer (one per cell).
 *
 * Nothing here runs outside a kernel: no listener is added (a SIGINT listener would stop
 * Node's default exit on Ctrl-C).
 */
import { AsyncLocalStorage } from 'async_hooks';
import { interruptLine, quietTslabInterrupt, waitForAbort } from './interrupt_line';
import { quietHistoryRequests, trackStatus } from './kernel_status';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelWriter = (...args: any[]) => void;

interface HandlerPrototype {
  handleExecuteImpl?: (...args: unknown[]) => Promise<unknown>;
}

interface TslabJupyterModule {
  lastWriteDisplayData?: KernelWriter | null;
  JupyterHandlerImpl?: { prototype: HandlerPrototype };
  ZmqServer?: {
    prototype: {
      close?: (...args: unknown[]) => unknown;
      publishStatus?: (status: string, parent: unknown) => unknown;
    };
  };
}

/** One executed cell: its abort controller and whether it has ended. */
export interface Cell {
  readonly controller: AbortController;
  ended: boolean;
  /** Run when the cell ends normally, before the kernel reports it idle (e.g. draw a pending frame). */
  readonly beforeEnd: Set<() => void>;
  /** AbortErrors made by this cell's work (the last one names the function that was interrupted) */
  readonly aborts: Error[];
}

const INTERRUPTED = 'the cell was interrupted';
/** The name of the abort reason an interrupt gives: an AbortError then reads `fn: interrupted`. */
export const CELL_INTERRUPT = 'CellInterrupt';
const WRAPPED = Symbol.for('cnnviz.cellTracking');

const byWriter = new WeakMap<KernelWriter, Cell>();
/** Cells whose work has not been aborted: an interrupt aborts them all. */
const unaborted = new Set<Cell>();
const context = new AsyncLocalStorage<Cell>();
let known: TslabJupyterModule[] = [];
/** Where each found module sits in require.cache. */
const knownKeys = new WeakMap<TslabJupyterModule, string>();
let installed = false;
/** The cell tslab is executing now (started, not yet ended), if any. */
let running: Cell | null = null;

function findTslabModules(): TslabJupyterModule[] {
  const found: TslabJupyterModule[] = [];
  for (const [key, mod] of Object.entries(require.cache)) {
    if (mod && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key) && mod.exports) {
      found.push(mod.exports as TslabJupyterModule);
      knownKeys.set(mod.exports as TslabJupyterModule, key);
    }
  }
  return found;
}

/**
 * The active tslab module: a globally installed tslab may start the kernel and defer to a local
 * copy, and only the active one has a writer. The module is looked up in require.cache rather
 * than required: outside a kernel, requiring tslab would load its TypeScript compiler for nothing.
 */
function activeModule(): TslabJupyterModule | null {
  // A module that has left require.cache (a test's stand-in, say) is forgotten.
  if (known.length === 0 || !known.every((m) => require.cache[knownKeys.get(m) ?? '']?.exports === m))
    known = findTslabModules();
  for (const m of known) if (typeof m.lastWriteDisplayData === 'function') return m;
  const again = findTslabModules();
  if (again.length !== known.length) {
    known = again;
    for (const m of known) if (typeof m.lastWriteDisplayData === 'function') return m;
  }
  return null;
}

/** The display writer of the cell running now (or the last one run), or null outside a kernel. */
export function kernelWriter(): KernelWriter | null {
  return activeModule()?.lastWriteDisplayData ?? null;
}

function newCell(): Cell {
  const cell: Cell = { controller: new AbortController(), ended: false, beforeEnd: new Set(), aborts: [] };
  unaborted.add(cell);
  return cell;
}

function cellOfWriter(w: KernelWriter): Cell {
  let cell = byWriter.get(w);
  if (!cell) byWriter.set(w, (cell = newCell()));
  return cell;
}

function endCell(cell: Cell): void {
  if (cell.ended) return;
  if (!cell.controller.signal.aborted) {
    for (const hook of cell.beforeEnd) {
      try {
        hook();
      } catch {
        // a display that cannot draw its last frame must not fail the cell's reply
      }
    }
  }
  cell.beforeEnd.clear();
  cell.ended = true;
}

/** Aborts the work of every cell (the interrupted one and any earlier cell's leftover work). */
function interrupt(reason = INTERRUPTED): void {
  for (const cell of unaborted) {
    cell.ended = true;
    cell.beforeEnd.clear();
    const err = new Error(reason);
    if (reason === INTERRUPTED) err.name = CELL_INTERRUPT;
    cell.controller.abort(err);
  }
  unaborted.clear();
}

/**
 * At shutdown tslab closes its sockets, but the process lives on while work remains, and its
 * stdout/stderr still point at the closed iopub socket: a late write or display then throws
 * EBADF "Socket is closed" from zeromq. So before the sockets close: stop all cnnviz work, end
 * every cell (displays send nothing), and give stdout/stderr back to the process.
 *
 * tslab also closes the sockets in the same turn as it publishes the shutdown's 'idle' status,
 * whose send (never awaited) can still be in flight: when it is, zeromq rejects it with "Socket is
 * closed" and tslab prints an unhandled rejection; a cell still running at shutdown replies on
 * closed sockets, and so does a display writer that user code kept. So the sockets close one
 * timer tick later, and a send on them that fails because they closed is dropped.
 */
function wrapClose(mod: TslabJupyterModule): void {
  const proto = mod.ZmqServer?.prototype as
    ({ close?: (...args: unknown[]) => unknown } & { [WRAPPED]?: boolean }) | undefined;
  const original = proto?.close;
  if (!proto || typeof original !== 'function' || proto[WRAPPED]) return;
  proto[WRAPPED] = true;
  proto.close = function (this: unknown, ...args: unknown[]): unknown {
    interrupt('the kernel is shutting down');
    mod.lastWriteDisplayData = null;
    for (const stream of [process.stdout, process.stderr]) {
      // tslab sets `write` on the stream object itself; the prototype's is the real one.
      if (Object.prototype.hasOwnProperty.call(stream, 'write'))
        delete (stream as unknown as { write?: unknown }).write;
    }
    for (const name of ['iopub', 'shell', 'control', 'stdin', 'hb'])
      quietWhenClosed((this as Record<string, unknown>)[name]);
    setTimeout(() => original.apply(this, args), 20);
    return undefined;
  };
}

/**
 * Makes zeromq's `send` drop its "Socket is closed" error (thrown or rejected): nothing could
 * deliver the message. zeromq's sockets are sealed and `send` is a read-only property of their
 * base prototype, so the wrapper replaces it there (once); any other error passes unchanged.
 */
function quietWhenClosed(socket: unknown): void {
  let owner = socket as object | null;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send'))
    owner = Object.getPrototypeOf(owner) as object | null;
  const send = owner ? (owner as { send?: unknown }).send : undefined;
  if (!owner || typeof send !== 'function' || (send as { [WRAPPED]?: boolean })[WRAPPED]) return;
  const closed = (err: unknown): boolean => err instanceof Error && /Socket is closed/.test(err.message);
  const quiet = function (this: unknown, ...a: unknown[]): unknown {
    let out: Promise<unknown> | undefined;
    try {
      out = send.apply(this, a) as Promise<unknown> | undefined;
    } catch (err) {
      // A send after the close throws at once (a late reply, a writer kept by user code).
      if (closed(err)) return undefined;
      throw err;
    }
    if (out && typeof out.catch === 'function') {
      return out.catch((err: unknown) => {
        if (closed(err)) return undefined;
        throw err;
      });
    }
    return out;
  };
  (quiet as { [WRAPPED]?: boolean })[WRAPPED] = true;
  try {
    Object.defineProperty(owner, 'send', { value: quiet, configurable: true, writable: false });
  } catch {
    // Not configurable in this zeromq: the delayed close alone still lets the last send finish.
  }
}

function install(mod: TslabJupyterModule): void {
  if (installed) return;
  installed = true;
  // Not now: cnnviz is usually loaded by a cell's import, and while a cell's code runs
  // synchronously tslab's vm call (breakOnSigint) has taken the SIGINT listeners off and put
  // a watchdog in their place; a listener added then starts a signal handler that the
  // watchdog's exit overwrites, and the next Ctrl-C (or jupyter's interrupt at shutdown)
  // would kill the kernel. On the next turn of the event loop the listeners are back.
  setImmediate(() => process.on('SIGINT', () => interrupt()));
  wrapClose(mod);
  trackStatus(mod.ZmqServer?.prototype, () => running !== null && !running.ended);
  quietHistoryRequests();
  const proto = mod.JupyterHandlerImpl?.prototype as (HandlerPrototype & { [WRAPPED]?: boolean }) | undefined;
  const original = proto?.handleExecuteImpl;
  if (!proto || typeof original !== 'function' || proto[WRAPPED]) return;
  proto[WRAPPED] = true;
  proto.handleExecuteImpl = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    // A new cell starts: every earlier one has ended (tslab runs one cell at a time).
    const previous = mod.lastWriteDisplayData;
    if (previous) endCell(cellOfWriter(previous));
    const cell = newCell();
    running = cell;
    const result = context.run(cell, () => original.apply(this, args));
    // tslab's handleExecuteImpl pointed process.stderr at this cell before its first await.
    const interrupted = (): boolean => (cell.controller.signal.reason as Error | undefined)?.name === CELL_INTERRUPT;
    const cellStderr = quietTslabInterrupt(interrupted);
    // handleExecuteImpl set the new writer before its first await.
    const w = mod.lastWriteDisplayData;
    if (w && w !== previous) byWriter.set(w, cell);
    const end = (): void => {
      endCell(cell);
      if (running === cell) running = null;
    };
    return result.then(
      (v) => (end(), v),
      async (e: unknown) => {
        if (interrupted()) {
          // interrupted: the cell's one line, before tslab replies and reports idle
          cellStderr.call(process.stderr, interruptLine(await waitForAbort(cell.aborts)));
        }
        end();
        throw e;
      },
    );
  };
}

/** The kernel cell that started the current work, or undefined outside a kernel. */
export function currentCell(): Cell | undefined {
  const mod = activeModule();
  const w = mod?.lastWriteDisplayData;
  if (!mod || !w) return undefined;
  install(mod);
  return context.getStore() ?? cellOfWriter(w);
}

/** Records an AbortError made by the work of the cell running it (its message is what an interrupt shows). */
export function noteAbortError(err: Error): void {
  context.getStore()?.aborts.push(err);
}

/** The signal that the current cell's interrupt aborts; undefined outside a kernel. */
export function cellSignal(): AbortSignal | undefined {
  return currentCell()?.controller.signal;
}

/** False once the cell has ended or was interrupted: its displays send nothing more. */
export function cellOpen(cell: Cell | undefined): boolean {
  return cell === undefined || (!cell.ended && !cell.controller.signal.aborted);
}

// Loaded inside a kernel (by a cell's import): start tracking now, so the importing cell's
// successors are wrapped from the start.
{
  const mod = activeModule();
  if (mod?.lastWriteDisplayData) install(mod);
}
