/**
 * Node-side work the page asks for (patches, class images): one job at a time, so two requests
 * never fight over the two cores, each with its progress for the page to poll, and its result
 * (or error) kept so asking again answers at once.
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

export class Jobs {
  private readonly states = new Map<string, JobState>();
  private chain: Promise<void> = Promise.resolve();

  /** Queues `run` under `id` unless a job with that id is queued, running or done. */
  start(id: string, run: (progress: (p: JobProgress) => void) => Promise<unknown>): void {
    const s = this.states.get(id);
    if (s && s.state !== 'failed') return;
    this.states.set(id, { state: 'queued' });
    this.chain = this.chain.then(async () => {
      this.states.set(id, { state: 'running' });
      try {
        const result = await run((p) => this.states.set(id, { state: 'running', progress: p }));
        this.states.set(id, { state: 'done', result });
      } catch (err) {
        this.states.set(id, { state: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  get(id: string): JobState | undefined {
    return this.states.get(id);
  }
}
