// Tombstones: what is left after a long piece of work on a tenant's data (a patient's
// erasure, a practice's purge) — ids, times, counts, nothing identifying — and the carrier
// of the work's final event. A pending tombstone is written first, with the events still
// waiting in the erased documents' outboxes carried over, so a crash half-way is resumed
// on redelivery; completing it stores the final events in the same single-document write.
// Written once here; records, consent and messaging each keep one (docs/platform.md).
import type { EventEnvelope } from '@praxis/contracts';
import { outboxSchemaFields } from './outbox';
import { TenantRepository } from './tenant-repository';

export interface TombstoneDoc {
  _id: string;
  tenantId: string;
  status: 'pending' | 'completed';
  startedAt: Date;
  completedAt?: Date;
}

/** The schema fields every tombstone has (a service's schema adds its ids and counts). */
export const tombstoneSchemaFields = {
  _id: { type: String, required: true },
  tenantId: { type: String, required: true },
  status: { type: String, enum: ['pending', 'completed'], required: true },
  startedAt: { type: Date, required: true },
  completedAt: { type: Date },
  ...outboxSchemaFields,
};

export class TombstoneRepository<D extends TombstoneDoc> extends TenantRepository<D> {
  /**
   * Write the pending tombstone with the carried-over events; when it exists already (a
   * redelivery, or a crash resumed), that one is returned and nothing is written.
   */
  protected async beginTombstone(doc: Omit<D, 'status' | 'startedAt'>, carried: EventEnvelope[]): Promise<D> {
    const full = { ...doc, status: 'pending', startedAt: new Date() } as D;
    if (await this.insertIfNew(full, carried)) return full;
    return (await this.findDoc(doc.tenantId, doc._id))!;
  }

  /** Mark a pending tombstone completed (with `set`, e.g. its counts) and store the events in the same write. */
  protected async completeTombstone(
    tenantId: string,
    id: string,
    events: EventEnvelope[],
    set: Record<string, unknown> = {},
  ): Promise<void> {
    await this.updateIf(tenantId, id, { $set: { ...set, status: 'completed', completedAt: new Date() } }, events, { status: 'pending' });
  }
}
