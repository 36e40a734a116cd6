// One writer at a time per document, in this process. FerretDB (local and test runs)
// applies an update as an unisolated read-modify-write, so two concurrent updates of one
// document can lose one of them — including the outbox relay's `$pull` racing a change
// that appends an event (losing both the change and its event). MongoDB updates are
// atomic and need none of this; it costs one promise hop per update.
//
// Documents that only ever get events at insert time are safe without it: the relay is
// then their only updater. Several processes against one FerretDB can still race; see
// docs/platform.md.
import type { Collection } from 'mongoose';

export class KeyedSerialiser {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

const SERIALISED = new Set(['updateOne', 'findOneAndUpdate', 'replaceOne', 'findOneAndReplace']);

/**
 * The same collection, with single-document updates keyed by `_id` run one at a time.
 * Give this to the repository and to the outbox relay alike.
 */
export function serialisedCollection(col: Collection, serial: KeyedSerialiser): Collection {
  return new Proxy(col, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && SERIALISED.has(prop)) {
        return (filter: { _id?: unknown } | undefined, ...rest: unknown[]) => {
          const id = filter?._id;
          const call = () => (value as (...a: unknown[]) => Promise<unknown>).call(target, filter, ...rest);
          return typeof id === 'string' ? serial.run(`${target.collectionName}/${id}`, call) : call();
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
