// Support grants: a practice admin lets platform support in for a while, with a scope
// and a reason; revocable at once.
import type { EventEnvelope, SupportScope } from '@praxis/contracts';
import { modelOn, outboxSchemaFields, TenantRepository } from '@praxis/platform';
import type { DocStore } from '../common/mongo';
import { type Connection, type Model, Schema, trusted } from 'mongoose';

export interface GrantDoc {
  _id: string;
  tenantId: string;
  scope: SupportScope;
  reason: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt?: Date;
  revokedBy?: string;
}

const schema = new Schema<GrantDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    scope: { type: String, required: true, enum: ['settings', 'records'] },
    reason: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date },
    revokedBy: { type: String },
    ...outboxSchemaFields,
  },
  { collection: 'support_grants', versionKey: false, strict: 'throw' },
);
schema.index({ tenantId: 1, expiresAt: -1 });

export function grantModel(conn: Connection): Model<GrantDoc> {
  return modelOn(conn, 'SupportGrant', schema);
}

export class GrantRepo extends TenantRepository<GrantDoc> {
  constructor(model: Model<GrantDoc>, store: DocStore) {
    super(model, { collection: store.col, notify: store.notify });
  }

  async create(doc: GrantDoc, events: EventEnvelope[]): Promise<void> {
    await this.insert(doc, events);
  }

  async get(tenantId: string, grantId: string): Promise<GrantDoc | null> {
    return this.findDoc(tenantId, grantId);
  }

  /** The most recently given live grant, if any (the practice's latest decision). */
  async live(tenantId: string, now = new Date()): Promise<GrantDoc | null> {
    return this.model
      .findOne(this.scope(tenantId, { revokedAt: trusted({ $exists: false }), expiresAt: trusted({ $gt: now }) }))
      .sort({ createdAt: -1 })
      .lean();
  }

  async list(tenantId: string, limit: number, before?: Date): Promise<GrantDoc[]> {
    return this.model
      .find(this.scope(tenantId, before ? { createdAt: trusted({ $lt: before }) } : {}))
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean();
  }

  async revoke(tenantId: string, grantId: string, by: string, events: EventEnvelope[]): Promise<GrantDoc | null> {
    return this.updateDoc(tenantId, grantId, { $set: { revokedAt: new Date(), revokedBy: by } }, events, {
      revokedAt: trusted({ $exists: false }),
    });
  }
}
