// FerretDB's findAndModify does not take a projection (`fields`), which mongoose adds for
// the outbox fields (select: false). So compare-and-set updates go through the driver and
// drop the outbox fields from what they return.
import { OUTBOX, OUTBOX_PENDING } from '@praxis/platform';
import type { Model } from 'mongoose';

export async function updateAndReturn<T>(model: Model<T>, filter: Record<string, unknown>, update: Record<string, unknown>): Promise<T | null> {
  const doc = (await model.collection.findOneAndUpdate(filter, update, { returnDocument: 'after' })) as Record<string, unknown> | null;
  if (!doc) return null;
  delete doc[OUTBOX];
  delete doc[OUTBOX_PENDING];
  return doc as T;
}
