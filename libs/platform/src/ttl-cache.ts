// A small in-process cache with a time to live and a size bound (oldest entry out first),
// for unwrapped keys: they must not live in memory longer than needed, nor without limit.
export class TtlCache<V> {
  private readonly map = new Map<string, { v: V; exp: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get(k: string): V | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (e.exp < Date.now()) {
      this.map.delete(k);
      return undefined;
    }
    return e.v;
  }

  set(k: string, v: V): void {
    // Oldest first out: a Map iterates in insertion order. Replacing an entry evicts none.
    this.map.delete(k);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(k, { v, exp: Date.now() + this.ttlMs });
  }

  delete(k: string): void {
    this.map.delete(k);
  }

  deleteWhere(pred: (k: string, v: V) => boolean): void {
    for (const [k, e] of [...this.map]) if (pred(k, e.v)) this.map.delete(k);
  }
}
