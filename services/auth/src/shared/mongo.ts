// Writes to one document, serialised within the process.
//
// FerretDB v1 (local and test database) applies an update as read-modify-write without
// isolation: two concurrent updates of one document can lose one of them (measured: 40
// parallel $set of different fields kept 6). The outbox relay's $pull on a document races
// the service's own next update of that document (a TOTP step, a pending enrolment…). So
// every update by _id — ours and the relay's (through `lockedCollection`) — takes a
// per-document lock. MongoDB in production is atomic per document anyway; the lock only
// costs a map lookup there.
//
// FerretDB's findAndModify also takes no projection (`fields`), which mongoose adds for the
// outbox fields (select: false), so compare-and-set updates go through the driver.
import { OUTBOX, OUTBOX_PENDING } from '@praxis/platform';
import type { Collection, Model } from 'mongoose';

class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

const docLocks = new KeyedMutex();

function lockKey(col: { dbName?: string; collectionName: string }, filter: Record<string, unknown>): string | undefined {
  const id = filter._id;
  if (typeof id !== 'string') return undefined;
  return `${col.dbName ?? ''}.${col.collectionName}:${id}`;
}

function withDocLock<T>(col: { dbName?: string; collectionName: string }, filter: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  const key = lockKey(col, filter);
  return key ? docLocks.run(key, fn) : fn();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModel = Model<any>;

const colInfo = (model: AnyModel) => ({ dbName: model.db.name, collectionName: model.collection.collectionName });

export async function updateAndReturn<T>(model: Model<T>, filter: Record<string, unknown>, update: Record<string, unknown>): Promise<T | null> {
  const doc = (await withDocLock(colInfo(model as AnyModel), filter, () =>
    model.collection.findOneAndUpdate(filter, update, { returnDocument: 'after' }),
  )) as Record<string, unknown> | null;
  if (!doc) return null;
  delete doc[OUTBOX];
  delete doc[OUTBOX_PENDING];
  return doc as T;
}

export async function lockedUpdateOne(model: AnyModel, filter: Record<string, unknown>, update: Record<string, unknown>): Promise<{ modifiedCount: number }> {
  return withDocLock(colInfo(model), filter, () => model.collection.updateOne(filter, update));
}

/** The collection as the outbox relay should see it: its updates by _id take the same lock. */
export function lockedCollection(model: AnyModel): Collection {
  const col = model.collection;
  const info = colInfo(model);
  return new Proxy(col, {
    get(target, prop) {
      if (prop === 'updateOne') {
        return (filter: Record<string, unknown>, update: Record<string, unknown>, opts?: unknown) =>
          withDocLock(info, filter, () => target.updateOne(filter, update, opts as never));
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
