// How repositories write: through the platform's serialised collection (FerretDB applies
// an update as an unisolated read-modify-write, so every update of a document by _id —
// the repository's and the outbox relay's — runs one at a time in this process), and
// nudging the outbox relay after a write that carried events.
//
// FerretDB's findAndModify also takes no projection (`fields`), which mongoose adds for the
// outbox fields (select: false), so compare-and-set updates go through the driver.
import { OUTBOX, OUTBOX_PENDING } from '@praxis/platform';
import type { Collection } from 'mongoose';

export interface DocStore {
  /** The serialised collection, shared with the outbox relay. */
  col: Collection;
  /** Tell the relay there are events to publish. */
  notify(): void;
}

export async function updateAndReturn<T>(
  col: Collection,
  filter: Record<string, unknown>,
  update: Record<string, unknown>,
): Promise<T | null> {
  const doc = (await col.findOneAndUpdate(filter, update, { returnDocument: 'after' })) as Record<string, unknown> | null;
  if (!doc) return null;
  delete doc[OUTBOX];
  delete doc[OUTBOX_PENDING];
  return doc as T;
}
