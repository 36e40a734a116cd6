// Storage of auth's key hierarchy: one tenant key per practice (and one for the reserved
// tenant `platform`), wrapped by a KEK, and one data key per user, wrapped by the tenant
// key. Kept apart from the user documents they protect, so deleting a key document makes
// every copy of the sealed fields (replicas, backups, a raw copy) unreadable:
// crypto-shredding. Every method but the rotation scan takes the tenant id first.
import type { SealedValue } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface TenantKeyDoc {
  /** The tenant id: exactly one tenant key per tenant. */
  _id: string;
  kid?: string;
  /** The tenant key wrapped by the KEK named in `wrapped.kid`; gone once destroyed. */
  wrapped?: SealedValue;
  createdAt: Date;
  rotatedAt?: Date;
  /** Set when the practice was purged: the key material is removed and never recreated. */
  destroyedAt?: Date;
}

export interface UserKeyDoc {
  /** `<tenantId>|<userId>`: one data key per user, found by `_id` alone (FerretDB's fast path). */
  _id: string;
  tenantId: string;
  userId: string;
  /** The key id (`uk_…`), carried by every value sealed with it. */
  kid: string;
  /** The data key wrapped by the tenant key named in `wrapped.kid`. */
  wrapped: SealedValue;
  createdAt: Date;
}

const sealedSchema = new Schema<SealedValue>({ kid: { type: String, required: true }, ct: { type: String, required: true } }, { _id: false, strict: 'throw' });

const tenantKeySchema = new Schema<TenantKeyDoc>(
  {
    _id: { type: String, required: true },
    kid: { type: String },
    wrapped: { type: sealedSchema },
    createdAt: { type: Date, required: true },
    rotatedAt: { type: Date },
    destroyedAt: { type: Date },
  },
  { collection: 'tenant_keys', versionKey: false, strict: 'throw' },
);

const userKeySchema = new Schema<UserKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    kid: { type: String, required: true },
    wrapped: { type: sealedSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'user_keys', versionKey: false, strict: 'throw' },
);
userKeySchema.index({ tenantId: 1 });

export interface KeyModels {
  TenantKey: Model<TenantKeyDoc>;
  UserKey: Model<UserKeyDoc>;
}

export function keyModels(conn: Connection): KeyModels {
  return {
    TenantKey: (conn.models.TenantKey as Model<TenantKeyDoc>) ?? conn.model<TenantKeyDoc>('TenantKey', tenantKeySchema),
    UserKey: (conn.models.UserKey as Model<UserKeyDoc>) ?? conn.model<UserKeyDoc>('UserKey', userKeySchema),
  };
}

export const userKeyDocId = (tenantId: string, userId: string) => `${tenantId}|${userId}`;

export class KeyRepository {
  constructor(readonly m: KeyModels) {}

  findTenantKey(tenantId: string): Promise<TenantKeyDoc | null> {
    return this.m.TenantKey.findById(tenantId).lean<TenantKeyDoc>().exec();
  }

  async insertTenantKey(tenantId: string, doc: Omit<TenantKeyDoc, '_id'>): Promise<void> {
    await this.m.TenantKey.create({ _id: tenantId, ...doc });
  }

  /** Compare-and-set on the old ciphertext, so two rotations never clobber each other. */
  async rewrapTenantKey(tenantId: string, expectedWrapped: SealedValue, wrapped: SealedValue): Promise<boolean> {
    const res = await this.m.TenantKey.updateOne({ _id: tenantId, 'wrapped.ct': expectedWrapped.ct }, { $set: { wrapped, rotatedAt: new Date() } });
    return res.modifiedCount === 1;
  }

  /** Remove the key material for good, leaving a marker so it is never recreated. */
  async destroyTenantKey(tenantId: string): Promise<void> {
    await this.m.TenantKey.updateOne(
      { _id: tenantId },
      { $set: { destroyedAt: new Date() }, $unset: { wrapped: 1, kid: 1 }, $setOnInsert: { createdAt: new Date() } },
      { upsert: true },
    );
  }

  async findUserKey(tenantId: string, userId: string): Promise<UserKeyDoc | null> {
    const doc = await this.m.UserKey.findById(userKeyDocId(tenantId, userId)).lean<UserKeyDoc>().exec();
    return doc && doc.tenantId === tenantId && doc.userId === userId ? doc : null;
  }

  async insertUserKey(tenantId: string, doc: Omit<UserKeyDoc, '_id' | 'tenantId'>): Promise<void> {
    await this.m.UserKey.create({ _id: userKeyDocId(tenantId, doc.userId), tenantId, ...doc });
  }

  async deleteUserKey(tenantId: string, userId: string): Promise<number> {
    return (await this.m.UserKey.deleteOne({ _id: userKeyDocId(tenantId, userId), tenantId })).deletedCount;
  }

  async deleteAllUserKeys(tenantId: string): Promise<number> {
    return (await this.m.UserKey.deleteMany({ tenantId })).deletedCount;
  }

  /** Every tenant key (for KEK rotation only: the one cross-tenant read, by design). */
  allTenantKeys(): AsyncIterable<TenantKeyDoc> {
    return this.m.TenantKey.find({}).lean<TenantKeyDoc[]>().cursor() as unknown as AsyncIterable<TenantKeyDoc>;
  }
}
