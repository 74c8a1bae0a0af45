/**
 * Fixed-capacity max-heap of (key, index) pairs: keeps the `capacity` smallest keys seen, the
 * largest of them on top. Used for top-k selection per row.
 */
export class TopK {
  readonly keys: Float64Array;
  readonly ids: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  reset(): void {
    this.size = 0;
  }

  /** The largest kept key, or Infinity while the heap is not yet full. */
  bound(): number {
    return this.size < this.capacity ? Infinity : this.keys[0];
  }

  /** Offers (key, id); kept when the heap is not full or key is below the bound. */
  push(key: number, id: number): void {
    const keys = this.keys;
    const ids = this.ids;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (keys[parent] >= key) break;
        keys[i] = keys[parent];
        ids[i] = ids[parent];
        i = parent;
      }
      keys[i] = key;
      ids[i] = id;
      return;
    }
    if (key >= keys[0]) return;
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && keys[r] > keys[l] ? r : l;
      if (keys[c] <= key) break;
      keys[i] = keys[c];
      ids[i] = ids[c];
      i = c;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /** Writes the kept pairs in ascending key order (ties by id) into the outputs at offset. */
  drainSorted(outIds: Int32Array, outKeys: Float64Array | Float32Array, offset: number): void {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => this.keys[a] - this.keys[b] || this.ids[a] - this.ids[b]);
    for (let j = 0; j < order.length; j++) {
      outIds[offset + j] = this.ids[order[j]];
      outKeys[offset + j] = this.keys[order[j]];
    }
    this.size = 0;
  }
}
