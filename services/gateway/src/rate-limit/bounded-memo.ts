// A small memo with a fixed number of entries: when full, the oldest entry goes (a Map
// keeps insertion order). For values that are cheap to keep and costly to recompute on
// every request, such as the hashed client address of a rate-limit key.
export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Remember `value` (dropping the oldest entry when full) and return it. */
  set(key: K, value: V): V {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
