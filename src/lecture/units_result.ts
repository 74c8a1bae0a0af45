// A short form's result (its images, scores and figures) as a cell's last value: in the kernel, tslab prints the
// value with console.log; the figures are already shown, so the echo is dropped (as a Figure's is) instead of
// dumping tensors into the cell. Outside the kernel it prints a one-line summary.
import { inspect } from 'util';
import { currentWriter, swallowEcho } from '../widgets/kernel/bridge';

const MARKER = '\u2063cnnviz-lecture-result\u2063';

export function quietResult<T extends object>(result: T, summary: string): T {
  Object.defineProperty(result, inspect.custom, {
    value: () => (currentWriter() ? swallowEcho(MARKER) : summary),
    enumerable: false,
  });
  return result;
}

/**
 * `onProgress` fed only once the work has run `ms` (default 2 s): `remember` opens its progress bar on the first
 * report, and a bar for work that ends in a blink (a small network's 80 steps) is clutter, not progress.
 */
export function afterAWhile<P>(onProgress: (p: P) => void, ms = 2000): (p: P) => void {
  const t0 = Date.now();
  return (p: P) => {
    if (Date.now() - t0 >= ms) onProgress(p);
  };
}

/**
 * A small network's stored results (28 or 32 px inputs: seconds of work) load without the line that says where
 * they came from; an ImageNet network's say it, with how to compute them again.
 */
export function quietFor(model: { inputs: { shape: (number | null)[] }[] }): { quiet: boolean } {
  return { quiet: (model.inputs[0].shape[1] ?? 224) < 64 };
}
