// The top of a service's key hierarchy below the KEK: one tenant key per practice, wrapped
// by a KEK, in the service's own `tenant_keys` collection. Services hang their own data
// keys below it (records: per patient; auth: per user). Destroying a tenant key leaves a
// marker so it is never recreated: every copy of the practice's sealed data is then
// unreadable (crypto-shredding). No domain words here: the service decides what a key
// protects and what a destroyed key means to its callers.
import { type Connection, type Model, Schema } from 'mongoose';
import { type SealedValue, newDataKey, unwrapKey, wrapKey } from './crypto';
import { randomId } from './ids';
import { isDuplicateKeyError, modelOn } from './mongo';
import type { KekRing } from './kek';

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

/** A SealedValue as a mongoose subdocument, for wrapped keys and sealed fields. */
export const sealedValueSchema = new Schema<SealedValue>(
  { kid: { type: String, required: true }, ct: { type: String, required: true } },
  { _id: false, strict: 'throw' },
);

const tenantKeySchema = new Schema<TenantKeyDoc>(
  {
    _id: { type: String, required: true },
    kid: { type: String },
    wrapped: { type: sealedValueSchema },
    createdAt: { type: Date, required: true },
    rotatedAt: { type: Date },
    destroyedAt: { type: Date },
  },
  { collection: 'tenant_keys', versionKey: false, strict: 'throw' },
);
tenantKeySchema.index({ 'wrapped.kid': 1 });

export function tenantKeyModel(conn: Connection): Model<TenantKeyDoc> {
  return modelOn(conn, 'TenantKey', tenantKeySchema);
}

/** A tenant key, unwrapped. */
export interface TenantKey {
  kid: string;
  key: Buffer;
}

/** The AAD a tenant key is wrapped with: bound to its tenant and its own id. */
export const tenantKeyAad = (tenantId: string, kid: string) => `tenant:${tenantId}:${kid}`;

/** Tenant keys in storage; every method but the rotation scan takes the tenant id first. */
export class TenantKeyRepository {
  constructor(protected readonly tenantKeys: Model<TenantKeyDoc>) {}

  findTenantKey(tenantId: string): Promise<TenantKeyDoc | null> {
    return this.tenantKeys.findById(tenantId).lean<TenantKeyDoc>().exec();
  }

  async insertTenantKey(tenantId: string, doc: Omit<TenantKeyDoc, '_id'>): Promise<void> {
    await this.tenantKeys.create({ _id: tenantId, ...doc });
  }

  /** Compare-and-set on the old ciphertext, so two rotations never clobber each other. */
  async rewrapTenantKey(tenantId: string, expectedWrapped: SealedValue, wrapped: SealedValue): Promise<boolean> {
    const res = await this.tenantKeys.updateOne(
      { _id: tenantId, 'wrapped.ct': expectedWrapped.ct },
      { $set: { wrapped, rotatedAt: new Date() } },
    );
    return res.modifiedCount === 1;
  }

  /** Remove the key material for good, leaving a marker so it is never recreated. */
  async destroyTenantKey(tenantId: string): Promise<void> {
    await this.tenantKeys.updateOne(
      { _id: tenantId },
      { $set: { destroyedAt: new Date() }, $unset: { wrapped: 1, kid: 1 }, $setOnInsert: { createdAt: new Date() } },
      { upsert: true },
    );
  }

  /** The tenant key unwrapped; `absent` if it was never made, `destroyed` once shredded. */
  async openTenantKey(tenantId: string, keks: KekRing): Promise<TenantKey | 'absent' | 'destroyed'> {
    const doc = await this.findTenantKey(tenantId);
    if (!doc) return 'absent';
    if (doc.destroyedAt || !doc.wrapped || !doc.kid) return 'destroyed';
    return { kid: doc.kid, key: unwrapKey(keks.get(doc.wrapped.kid), doc.wrapped, tenantKeyAad(tenantId, doc.kid)) };
  }

  /**
   * The tenant key unwrapped, made (under the current KEK) on first use. Several replicas
   * may race to make it: the unique _id lets one win and the others load that one. A
   * destroyed key is never made again.
   */
  async openOrCreateTenantKey(tenantId: string, keks: KekRing): Promise<TenantKey | 'destroyed'> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.openTenantKey(tenantId, keks);
      if (existing !== 'absent') return existing;
      const kek = keks.current();
      const kid = randomId('tk');
      const key = newDataKey();
      try {
        await this.insertTenantKey(tenantId, {
          kid,
          wrapped: wrapKey(kek.key, kek.id, key, tenantKeyAad(tenantId, kid)),
          createdAt: new Date(),
        });
      } catch (err) {
        if (isDuplicateKeyError(err)) continue; // another replica made it first: load that one
        throw err;
      }
      return { kid, key };
    }
    throw new Error('could not load or create the tenant key');
  }

  /** Every tenant key (for KEK rotation only: the one cross-tenant read, by design). */
  allTenantKeys(): AsyncIterable<TenantKeyDoc> {
    return this.tenantKeys.find({}).lean<TenantKeyDoc[]>().cursor() as unknown as AsyncIterable<TenantKeyDoc>;
  }
}

/**
 * Re-wrap every tenant key not already under the current KEK. The keys below the tenant
 * keys, and what they seal, are untouched. Safe to rerun and to run beside live services.
 */
export async function rewrapTenantKeys(
  repo: TenantKeyRepository,
  keks: KekRing,
): Promise<{ rewrapped: number; alreadyCurrent: number; destroyed: number }> {
  const kek = keks.current();
  let rewrapped = 0;
  let alreadyCurrent = 0;
  let destroyed = 0;
  for await (const doc of repo.allTenantKeys()) {
    if (!doc.wrapped || !doc.kid) {
      destroyed++;
      continue;
    }
    if (doc.wrapped.kid === kek.id) {
      alreadyCurrent++;
      continue;
    }
    const aad = tenantKeyAad(doc._id, doc.kid);
    const key = unwrapKey(keks.get(doc.wrapped.kid), doc.wrapped, aad);
    if (await repo.rewrapTenantKey(doc._id, doc.wrapped, wrapKey(kek.key, kek.id, key, aad))) rewrapped++;
    key.fill(0);
  }
  return { rewrapped, alreadyCurrent, destroyed };
}
