// Practices (tenants): slug, name, whether 2FA is mandatory, and the deletion state.
// After a purge only a tombstone remains (id, times), so the slug is free again.
import type { EventEnvelope } from '@praxis/contracts';
import { modelOn, outboxSchemaFields, outboxUpdate, withOutbox } from '@praxis/platform';
import { type DocStore, updateAndReturn } from '../common/mongo';
import { type Connection, type Model, Schema, trusted } from 'mongoose';

export type TenantStatus = 'active' | 'deletion-scheduled' | 'purged';

export interface TenantDoc {
  _id: string;
  slug: string;
  name?: string;
  mfaRequired: boolean;
  status: TenantStatus;
  deletionScheduledFor?: Date;
  createdAt: Date;
  updatedAt: Date;
  purgedAt?: Date;
  /** Set once every document of the purged tenant is gone. */
  purgeCompletedAt?: Date;
}

const schema = new Schema<TenantDoc>(
  {
    _id: { type: String, required: true },
    slug: { type: String, required: true },
    name: { type: String },
    mfaRequired: { type: Boolean, required: true, default: false },
    status: { type: String, required: true, enum: ['active', 'deletion-scheduled', 'purged'] },
    deletionScheduledFor: { type: Date },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    purgedAt: { type: Date },
    purgeCompletedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'tenants', versionKey: false, strict: 'throw' },
);
schema.index({ slug: 1 }, { unique: true });
schema.index({ deletionScheduledFor: 1 });
// The purge sweep's `{status: 'purged', purgeCompletedAt: {$exists: false}}` (issue 10).
schema.index({ status: 1 });

export function tenantModel(conn: Connection): Model<TenantDoc> {
  return modelOn(conn, 'Tenant', schema);
}

export class TenantRepo {
  constructor(
    readonly model: Model<TenantDoc>,
    private readonly store: DocStore,
  ) {}

  async create(doc: TenantDoc, events: EventEnvelope[]): Promise<void> {
    await this.store.col.insertOne(withOutbox(doc, events) as never);
    if (events.length) this.store.notify();
  }

  /** A live (not purged) tenant by id. */
  async get(tenantId: string): Promise<TenantDoc | null> {
    return this.model.findOne({ _id: tenantId, status: trusted({ $ne: 'purged' }) }).lean();
  }

  /** Resolve the slug a person typed (login, support sessions) to a live tenant. */
  async findBySlug(slug: string): Promise<TenantDoc | null> {
    return this.model.findOne({ slug, status: trusted({ $ne: 'purged' }) }).lean();
  }

  /** Apply a change with its events in one single-document write; `expect` guards the current state. */
  async update(
    tenantId: string,
    set: Partial<TenantDoc>,
    unset: (keyof TenantDoc)[],
    events: EventEnvelope[],
    expect: Partial<TenantDoc> = {},
  ): Promise<TenantDoc | null> {
    const ob = outboxUpdate(events);
    const update: Record<string, unknown> = { $set: { ...set, updatedAt: new Date(), ...(events.length ? ob.$set : {}) } };
    if (events.length) update.$push = ob.$push;
    if (unset.length) update.$unset = Object.fromEntries(unset.map((k) => [k, '']));
    const doc = await updateAndReturn<TenantDoc>(this.store.col, { _id: tenantId, status: trusted({ $ne: 'purged' }), ...expect }, update);
    if (doc && events.length) this.store.notify();
    return doc;
  }

  async remove(tenantId: string): Promise<void> {
    await this.model.deleteOne({ _id: tenantId });
  }

  /** Remove a tenant left by an abandoned sign-up, only if it is still the one that was read. */
  async removeAbandoned(tenantId: string, createdAt: Date): Promise<boolean> {
    return (await this.model.deleteOne({ _id: tenantId, status: 'active', createdAt })).deletedCount === 1;
  }

  /** Tenants whose cooling-off period has ended (the purge scheduler). */
  async dueForPurge(now: Date, limit = 20): Promise<TenantDoc[]> {
    return this.model
      .find({ status: 'deletion-scheduled', deletionScheduledFor: trusted({ $lte: now }) })
      .limit(limit)
      .lean();
  }

  /** Purged tenants whose data removal did not finish (the process died midway). */
  async purgeUnfinished(limit = 20): Promise<TenantDoc[]> {
    return this.model
      .find({ status: 'purged', purgeCompletedAt: trusted({ $exists: false }) })
      .limit(limit)
      .lean();
  }

  /**
   * Claim a due tenant for purging: one write turns it into a tombstone (no name, slug
   * freed) with its auth.tenant.purged event. Only one scheduler replica wins.
   */
  async markPurged(tenantId: string, now: Date, events: EventEnvelope[]): Promise<boolean> {
    const ob = outboxUpdate(events);
    const res = await this.store.col.updateOne(
      { _id: tenantId, status: 'deletion-scheduled', deletionScheduledFor: trusted({ $lte: now }) } as never,
      {
        $set: { status: 'purged', slug: `~purged~${tenantId}`, purgedAt: now, updatedAt: now, ...ob.$set },
        $unset: { name: '', deletionScheduledFor: '' },
        $push: ob.$push,
      } as never,
    );
    if (res.modifiedCount === 1) this.store.notify();
    return res.modifiedCount === 1;
  }

  async markPurgeCompleted(tenantId: string): Promise<void> {
    await this.store.col.updateOne({ _id: tenantId, status: 'purged' } as never, { $set: { purgeCompletedAt: new Date() } });
  }
}
