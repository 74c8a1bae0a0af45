import { fail } from '../common';
/**
 * Node-side work the page asks for (patches, class images): one job at a time, so two requests
 * never fight over the two cores, each with its progress for the page to poll, and its result
 * (or error) kept so asking again answers at once.
 *
 * The queue is bounded, and a page's newer request of a kind (its id's first segment: 'patches',
 * 'class-image') replaces a queued one of that kind, so clicking through 1,000 classes queues one
 * job, not 1,000. The page polls a job while it wants it; a job nobody polled for `staleMs` is
 * dropped (queued) or aborted (running): its page went away.
 */
export interface JobProgress {
  done: number;
  total: number;
  [extra: string]: unknown;
}

export type JobState =
  | { state: 'queued' }
  | { state: 'running'; progress?: JobProgress }
  | { state: 'done'; result: unknown }
  | { state: 'failed'; error: string };

export interface JobsOptions {
  /** jobs waiting at most (default 4); one more is refused with a QueueFullError */
  maxQueued?: number;
  /** a job not polled for this long is dropped or aborted (default 15 s; the page polls every 0.3 s) */
  staleMs?: number;
  /** finished jobs whose results are kept (default 256; the oldest go first) */
  keepDone?: number;
}

/** The queue is at its bound (answered 429). */
export class QueueFullError extends Error {}

type Run = (progress: (p: JobProgress) => void, signal: AbortSignal) => Promise<unknown>;

interface Entry {
  id: string;
  kind: string;
  run: Run;
  state: JobState;
  seen: number;
  controller: AbortController;
}

export class Jobs {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running?: Entry;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  private pumping = false;
  private readonly sweeper: NodeJS.Timeout;
  readonly maxQueued: number;
  readonly staleMs: number;
  private readonly keepDone: number;

  constructor(opts: JobsOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 4;
    this.staleMs = opts.staleMs ?? 15000;
    this.keepDone = opts.keepDone ?? 256;
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, Math.max(20, this.staleMs / 4)));
    this.sweeper.unref();
  }

  /**
   * Queues `run` under `id` unless a job with that id is queued, running or done (then it counts as
   * polled). Throws QueueFullError at the bound, and an Error once closed.
   */
  start(id: string, run: Run): void {
    if (this.closed) fail('cnnviz explore', 'the server is stopping; it starts no more jobs');
    const old = this.entries.get(id);
    if (old && old.state.state !== 'failed') {
      old.seen = Date.now();
      return;
    }
    const kind = id.split('/')[0];
    // a newer request of the same kind replaces the one waiting
    const i = this.queue.findIndex((e) => e.kind === kind);
    if (i >= 0) this.drop(this.queue[i]);
    if (this.queue.length >= this.maxQueued)
      throw new QueueFullError(
        `cnnviz explore: ${this.queue.length} jobs are waiting (at most ${this.maxQueued}); ask again when ` +
          `one has finished`,
      );
    const e: Entry = { id, kind, run, state: { state: 'queued' }, seen: Date.now(), controller: new AbortController() };
    this.entries.set(id, e);
    this.queue.push(e);
    if (!this.pumping) {
      this.pumping = true;
      this.idle = this.next();
    }
  }

  /** The job's state (and a poll: the page still wants it), or undefined for none. */
  get(id: string): JobState | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    e.seen = Date.now();
    return e.state;
  }

  /** The job's state without counting as a poll (for tests and logs). */
  peek(id: string): JobState | undefined {
    return this.entries.get(id)?.state;
  }

  /** Jobs waiting (not the running one). */
  get queued(): number {
    return this.queue.length;
  }

  /** Drops the queue, aborts the running job and resolves when it has stopped; starts nothing after. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const e of [...this.queue]) this.drop(e);
    this.running?.controller.abort();
    await this.idle;
  }

  private async next(): Promise<void> {
    // the request that queued the job is answered first
    await new Promise((r) => setImmediate(r));
    for (let e = this.queue.shift(); e && !this.closed; e = this.queue.shift()) {
      this.running = e;
      const job = e;
      job.state = { state: 'running' };
      try {
        const result = await job.run((p) => {
          if (job.state.state === 'running') job.state = { state: 'running', progress: p };
        }, job.controller.signal);
        job.state = { state: 'done', result };
        this.forgetOldDone();
      } catch (err) {
        if (job.controller.signal.aborted) this.entries.delete(job.id);
        else job.state = { state: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
      this.running = undefined;
    }
    // in the same turn as the loop's last check, so a job queued after it starts a new loop
    this.pumping = false;
  }

  private drop(e: Entry): void {
    const i = this.queue.indexOf(e);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.entries.get(e.id) === e) this.entries.delete(e.id);
  }

  private sweep(): void {
    const old = Date.now() - this.staleMs;
    for (const e of [...this.queue]) if (e.seen < old) this.drop(e);
    if (this.running && this.running.seen < old) this.running.controller.abort();
  }

  private forgetOldDone(): void {
    let done = 0;
    for (const e of this.entries.values()) if (e.state.state === 'done') done++;
    for (const e of this.entries.values()) {
      if (done <= this.keepDone) break;
      if (e.state.state === 'done') {
        this.entries.delete(e.id);
        done--;
      }
    }
  }
}
