// One writer at a time per document, in this process. Upstream FerretDB applies an update
// as an unisolated read-modify-write, so two concurrent updates of one document can lose
// one of them — including the outbox relay's clean-up racing a change that appends an
// event (losing both the change and its event). MongoDB updates are atomic, and so are our
// FerretDB build's (patch 0011, docs/decisions/0008, across every client); this keeps one
// process right against an unpatched server too, and costs one promise hop per update.
//
// Documents that only ever get events at insert time are safe without it: the relay is
// then their only updater.
import type { Collection } from 'mongoose';

export class KeyedSerialiser {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runAll([key], task);
  }

  /**
   * Run `task` once every earlier task on any of `keys` has finished; later tasks on any
   * of them wait for it. A task only ever waits for tasks registered before it, so tasks
   * over several keys cannot deadlock.
   */
  runAll<T>(keys: Iterable<string>, task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const prev = Promise.all(unique.map((k) => this.tails.get(k) ?? Promise.resolve()));
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    for (const k of unique) this.tails.set(k, tail);
    void tail.then(() => {
      for (const k of unique) if (this.tails.get(k) === tail) this.tails.delete(k);
    });
    return next;
  }
}

const SERIALISED = new Set(['updateOne', 'findOneAndUpdate', 'replaceOne', 'findOneAndReplace']);

type Filter = { _id?: unknown } | undefined;

/** The `_id`s a filter names: `_id` equality, or `_id: { $in: [...] }` of strings. */
function idsOf(filter: Filter): string[] | undefined {
  const id = filter?._id;
  if (typeof id === 'string') return [id];
  const list = (id as { $in?: unknown } | undefined)?.$in;
  if (Array.isArray(list) && list.every((x) => typeof x === 'string')) return list as string[];
  return undefined;
}

/** Every document a bulkWrite touches, when each of its operations names its `_id`s. */
function idsOfBulk(ops: unknown): string[] | undefined {
  if (!Array.isArray(ops)) return undefined;
  const ids: string[] = [];
  for (const op of ops as Record<string, { filter?: Filter } | undefined>[]) {
    const [kind] = Object.keys(op);
    if (!kind || kind === 'insertOne') continue;
    const found = idsOf(op[kind]?.filter);
    if (!found) return undefined;
    ids.push(...found);
  }
  return ids;
}

/**
 * The same collection, with single-document updates keyed by `_id` run one at a time,
 * and a `bulkWrite` (or `updateMany` by `_id: { $in }`) waiting for every document it
 * names. Give this to the repository and to the outbox relay alike.
 */
export function serialisedCollection(col: Collection, serial: KeyedSerialiser): Collection {
  const keyed = (ids: string[]) => ids.map((id) => `${col.collectionName}/${id}`);
  return new Proxy(col, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const call = (args: unknown[]) => () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      if (typeof prop === 'string' && SERIALISED.has(prop)) {
        return (filter: Filter, ...rest: unknown[]) => {
          const id = filter?._id;
          const run = call([filter, ...rest]);
          return typeof id === 'string' ? serial.run(`${target.collectionName}/${id}`, run) : run();
        };
      }
      if (prop === 'updateMany') {
        return (filter: Filter, ...rest: unknown[]) => {
          const ids = idsOf(filter);
          const run = call([filter, ...rest]);
          return ids ? serial.runAll(keyed(ids), run) : run();
        };
      }
      if (prop === 'bulkWrite') {
        return (ops: unknown, ...rest: unknown[]) => {
          const ids = idsOfBulk(ops);
          const run = call([ops, ...rest]);
          return ids ? serial.runAll(keyed(ids), run) : run();
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
