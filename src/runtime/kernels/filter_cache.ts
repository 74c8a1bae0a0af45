import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

function alive(backend: tf.KernelBackend, dataId: object): boolean {
  return (backend as unknown as { dataIdMap: { has(id: object): boolean } }).dataIdMap.has(dataId);
}

/**
 * Tensors derived from a filter (flipped, packed), kept on the wasm heap while the filter lives,
 * by the filter's dataId. With fixed weights (every saliency map, occlusion sweep, class
 * visualization) each layer derives its copy once. Entries whose filter has been disposed
 * (training replaces the weights every step) are freed on the next call; at most `max` are kept.
 */
export class FilterCache {
  private readonly entries = new Map<object, { backend: tf.KernelBackend; derived: tf.TensorInfo }>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The derived tensor of `filter` on this backend, made by `make` on a miss; owned by the cache. */
  get(ops: WasmOps, filter: tf.TensorInfo, make: () => tf.TensorInfo): tf.TensorInfo {
    for (const [source, e] of this.entries) {
      if (e.backend !== ops.backend || !alive(e.backend, source)) this.drop(source);
    }
    const hit = this.entries.get(filter.dataId);
    if (hit) return hit.derived;
    const derived = make();
    if (this.entries.size >= this.max) this.drop(this.entries.keys().next().value as object);
    this.entries.set(filter.dataId, { backend: ops.backend, derived });
    return derived;
  }

  private drop(source: object): void {
    const e = this.entries.get(source);
    if (!e) return;
    this.entries.delete(source);
    // A backend that has been removed took its memory with it.
    if (tf.engine().registry['wasm'] === e.backend && alive(e.backend, e.derived.dataId)) {
      e.backend.disposeData(e.derived.dataId);
    }
  }
}
