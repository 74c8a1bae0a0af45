// The display bridge to the tslab kernel.
//
// tslab hands each cell its own writer (`lastWriteDisplayData` on tslab/dist/jupyter),
// replaced when the next cell starts. A writer sends `display_data` (or, with
// update = true, `update_display_data`) on behalf of the cell it belongs to, even after
// that cell has finished. So: read the writer at the moment a cell asks for output, and
// keep that writer for every later update of the same display, so async work lands in the
// cell that started it.
//
// A cell that has ended (or was interrupted) gets nothing more: work it left running may
// still call its displays, and those calls are dropped (runtime/cell tracks the cells).
import { randomBytes } from 'crypto';
import { Cell, cellOpen, currentCell, kernelWriter } from '../../runtime/cell';

export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
}
export type Writer = (content: DisplayContent, update: boolean) => void;

/** The writer of the cell running now, or null outside a kernel. Read anew on every call. */
export function currentWriter(): Writer | null {
  return kernelWriter() as Writer | null;
}

export function inKernel(): boolean {
  return currentWriter() !== null;
}

export function newDisplayId(): string {
  return 'cnnviz-' + randomBytes(8).toString('hex');
}

/**
 * One output area in one cell: created while that cell runs, updated in place later
 * (display ids), from any async continuation.
 */
export class DisplayTarget {
  private shown = false;
  readonly id: string;

  private constructor(
    private readonly writer: Writer | null,
    private readonly cell: Cell | undefined,
    id?: string,
  ) {
    this.id = id ?? newDisplayId();
  }

  /** Binds to the cell running now; null writer outside a kernel (then nothing is sent). */
  static here(): DisplayTarget {
    const writer = currentWriter();
    return new DisplayTarget(writer, writer ? currentCell() : undefined);
  }

  /** Runs `fn` when this target's cell ends normally, before the kernel reports it idle. */
  beforeCellEnds(fn: () => void): void {
    this.cell?.beforeEnd.add(fn);
  }

  /** the writer of the cell this target belongs to */
  get owner(): Writer | null {
    return this.writer;
  }

  /** True while the cell that created this target can still receive output. */
  get live(): boolean {
    return this.writer !== null && cellOpen(this.cell);
  }

  /** First call displays; later calls replace the same output in place. */
  send(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): boolean {
    if (!this.writer || !cellOpen(this.cell)) return false;
    this.writer({ data, metadata, transient: { display_id: this.id } }, this.shown);
    this.shown = true;
    return true;
  }
}

/** A one-off display in the cell running now (no later updates). */
export function sendToKernel(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): Writer | null {
  const w = currentWriter();
  if (!w || !cellOpen(currentCell())) return null;
  w({ data, metadata }, false);
  return w;
}

/**
 * Returns `marker` and drops the next stdout write if it is exactly that line: an object's
 * inspect() returns it so tslab's echo of a cell's last value prints nothing (the object has
 * shown itself already); any other write passes through.
 */
export function swallowEcho(marker: string): string {
  const stream = process.stdout as unknown as { write: (...a: unknown[]) => boolean };
  const original = stream.write;
  const patched = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    if (stream.write === patched) stream.write = original;
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
    if (text !== null && text.replace(/\n$/, '') === marker) {
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) cb();
      return true;
    }
    return original.call(this, chunk, ...rest);
  };
  stream.write = patched;
  return marker;
}
