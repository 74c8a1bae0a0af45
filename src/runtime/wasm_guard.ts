/**
 * What tfjs-backend-wasm gets wrong inside a long-lived Node process (a kernel), put right after
 * the backend starts.
 *
 * 1. Its Emscripten module adds process-wide 'uncaughtException' and 'unhandledRejection'
 *    listeners that rethrow. Once the backend is loaded, any unhandled rejection anywhere (an
 *    un-awaited call that was aborted, a late socket error at kernel shutdown: EBADF "Socket is
 *    closed") kills the process, whatever other listeners say. `dropRethrowingListeners`
 *    removes the listeners the module added, so the kernel (tslab logs such errors) lives on.
 *
 * 2. A clear error instead of a corrupted heap when the wasm backend runs out of memory.
 *
 * tfjs-backend-wasm does not check what its `_malloc` returns: once the 4 GB wasm heap is full,
 * malloc returns 0 and the tensor's values are written over the start of the heap. Every later
 * operation then reads garbage or fails with "memory access out of bounds", and only a kernel
 * restart helps. Guarding malloc makes the failing allocation throw before anything is written:
 * the call that asked for too much fails with a message that says so, and the backend (with
 * the model's weights) stays usable for the next cell.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmModule {
  _malloc: (bytes: number) => number;
  _free?: (ptr: number) => void;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
  [guarded]?: boolean;
}

const guarded = Symbol.for('cnnviz.wasmMallocGuard');

function gb(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GB`;
}

// Listeners as process.listeners() returns them, compared by identity only.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ProcessListeners = { uncaughtException: Function[]; unhandledRejection: Function[] };

/** The process's error listeners now, to compare with after the backend started. */
export function errorListeners(): ProcessListeners {
  return {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
}

/** Removes the error listeners added since `before` (the Emscripten module's). */
export function dropRethrowingListeners(before: ProcessListeners): void {
  const events = process as unknown as NodeJS.EventEmitter;
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    for (const listener of events.listeners(event)) {
      if (!before[event].includes(listener)) events.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

/** The wasm heap's ceiling (wasm32: 4 GB) less room for what the kernels allocate besides tensors. */
export const WASM_TENSOR_LIMIT = 2 ** 32 - 2 ** 28;

function outOfMemory(bytes: number, heap: number): RangeError {
  return new RangeError(
    `wasm out of memory: could not allocate ${gb(bytes)} for a tensor (tensors hold ${gb(tf.memory().numBytes)}, ` +
      `the wasm heap is ${gb(heap)} of at most 4 GB); dispose tensors you no longer need or use smaller batches`,
  );
}

/** Installs the guard on the active wasm backend (once; no-op on other backends). */
export function guardWasmMalloc(): void {
  if (tf.getBackend() !== 'wasm') return;
  const wasm = (tf.backend() as unknown as { wasm?: WasmModule }).wasm;
  if (!wasm || typeof wasm._malloc !== 'function' || wasm[guarded]) return;
  // Module._malloc starts as a stub that, on its first call, replaces itself with the wasm
  // export: wrap the export itself, or the wrapper would be gone after one allocation.
  const exported = wasm.asm?.malloc;
  const malloc = typeof exported === 'function' ? exported : wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number): number => {
    // Past 4 GB the heap's break pointer wraps around and malloc hands out memory in use, so a
    // request that cannot fit beside the live tensors is refused before it is made.
    if (bytes > 0 && tf.memory().numBytes + bytes > WASM_TENSOR_LIMIT) throw outOfMemory(bytes, wasm.HEAPU8.length);
    const at = malloc(bytes);
    // A failed allocation returns 0, or a block that ends beyond the heap.
    if (bytes > 0 && (at === 0 || (at >>> 0) + bytes > wasm.HEAPU8.length))
      throw outOfMemory(bytes, wasm.HEAPU8.length);
    return at;
  };
  wasm[guarded] = true;
}

/** Bytes of wasm heap already grown and touched by `reserveWasmHeap`. */
let reserved = 0;

/**
 * Grows the wasm heap by `bytes` and touches every page, in 8 MB pieces with `between()` awaited
 * after each, then frees it all for the tensors to come. A big model's first gradient otherwise
 * grows the heap and faults in its fresh pages inside one synchronous call: MobileNet's first
 * backward pass took 1.6-2.4 s instead of 0.2-0.4 s, and an interrupt waited for all of it.
 * Done once per process up to the largest size asked; a no-op off the wasm backend.
 */
export async function reserveWasmHeap(bytes: number, between: () => Promise<void>): Promise<void> {
  if (bytes <= reserved || tf.getBackend() !== 'wasm') return;
  const wasm = (tf.backend() as unknown as { wasm?: WasmModule }).wasm;
  if (!wasm || typeof wasm._malloc !== 'function' || typeof wasm._free !== 'function') return;
  const CHUNK = 8 << 20;
  const taken: number[] = [];
  try {
    for (let done = reserved; done < bytes; done += CHUNK) {
      let ptr = 0;
      try {
        ptr = wasm._malloc(CHUNK);
      } catch {
        break; // the heap's ceiling: the gradient will say so itself if it needs more
      }
      if (!ptr) break;
      taken.push(ptr);
      wasm.HEAPU8.fill(0, ptr, ptr + CHUNK); // HEAPU8 is replaced when the heap grows: read it each time
      await between();
    }
  } finally {
    for (const ptr of taken) wasm._free(ptr);
  }
  reserved = Math.max(reserved, bytes);
}
