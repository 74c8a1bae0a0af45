import { fail } from '../common';
/**
 * A URL's bytes with limits: a size bound (a server that never stops sending is cut off at it,
 * holding no more than the bound), a time-out for the answer and for each silence within the body
 * (a server that never answers gets a named error in seconds, not after the system's 5 minutes),
 * and an AbortSignal.
 */

export interface UrlReadLimits {
  /** bytes at most (default 40 MiB) */
  maxBytes?: number;
  /** ms to wait for the answer, and for each next piece of the body (default 30,000) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_BYTES = 40 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30000;

/** Fetches `url` within the limits; every failure is an Error starting with `caller`. */
export async function readUrl(url: string, caller: string, limits: UrlReadLimits = {}): Promise<Buffer> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = limits.signal;
  if (signal?.aborted) fail(caller, `aborted before fetching ${url}`);
  const controller = new AbortController();
  let why = '';
  const stop = (reason: string) => {
    why ||= reason;
    controller.abort();
  };
  const onAbort = () => stop('aborted');
  signal?.addEventListener('abort', onAbort);
  let timer: NodeJS.Timeout | undefined;
  const arm = (what: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => stop(`${what} within ${timeoutMs / 1000} s (option timeoutMs)`), timeoutMs);
  };
  const failed = (detail: string) =>
    new Error(`${caller}: could not fetch ${url}: ${why || detail}; offline? give a local path instead`);
  try {
    arm('no answer');
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal });
    } catch (err) {
      throw failed((err as Error).message);
    }
    if (!res.ok) {
      void res.body?.cancel().catch(() => undefined);
      fail(caller, `${url} answered HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length'));
    const tooBig = (n: string) =>
      new Error(`${caller}: ${url} sends ${n} bytes; at most ${maxBytes} are read (option maxBytes raises the limit)`);
    if (declared > maxBytes) {
      void res.body?.cancel().catch(() => undefined);
      throw tooBig(String(declared));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    if (!reader) return Buffer.alloc(0);
    for (;;) {
      arm('no data');
      let part: ReadableStreamReadResult<Uint8Array>;
      try {
        part = await reader.read();
      } catch (err) {
        throw failed((err as Error).message);
      }
      if (part.done) break;
      size += part.value.length;
      if (size > maxBytes) {
        void reader.cancel().catch(() => undefined);
        throw tooBig(`more than ${maxBytes}`);
      }
      chunks.push(Buffer.from(part.value));
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
