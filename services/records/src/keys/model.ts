// Storage of the key hierarchy: one tenant key per practice (wrapped by a KEK) and one
// data key per patient (wrapped by the tenant key). Kept apart from the data they protect,
// so deleting a key document makes every copy of the data (replicas, backups, a raw copy)
// unreadable: that is crypto-shredding.
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

export interface PatientKeyDoc {
  /** The key id, carried by every value sealed with it. */
  _id: string;
  tenantId: string;
  patientId: string;
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
tenantKeySchema.index({ 'wrapped.kid': 1 });

const patientKeySchema = new Schema<PatientKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    wrapped: { type: sealedSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'patient_keys', versionKey: false, strict: 'throw' },
);
patientKeySchema.index({ tenantId: 1, patientId: 1 });

export interface KeyModels {
  TenantKey: Model<TenantKeyDoc>;
  PatientKey: Model<PatientKeyDoc>;
}

export function keyModels(conn: Connection): KeyModels {
  return {
    TenantKey: (conn.models.TenantKey as Model<TenantKeyDoc>) ?? conn.model<TenantKeyDoc>('TenantKey', tenantKeySchema),
    PatientKey: (conn.models.PatientKey as Model<PatientKeyDoc>) ?? conn.model<PatientKeyDoc>('PatientKey', patientKeySchema),
  };
}

/** Tenant keys and patient keys; every method takes the tenant id first. */
export class KeyRepository {
  constructor(private readonly m: KeyModels) {}

  findTenantKey(tenantId: string): Promise<TenantKeyDoc | null> {
    return this.m.TenantKey.findById(tenantId).lean<TenantKeyDoc>().exec();
  }

  async insertTenantKey(tenantId: string, doc: Omit<TenantKeyDoc, '_id'>): Promise<void> {
    await this.m.TenantKey.create({ _id: tenantId, ...doc });
  }

  async rewrapTenantKey(tenantId: string, expectedWrapped: SealedValue, wrapped: SealedValue): Promise<boolean> {
    // Compare-and-set on the old ciphertext, so two rotations never clobber each other.
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

  findPatientKey(tenantId: string, kid: string): Promise<PatientKeyDoc | null> {
    return this.m.PatientKey.findOne({ _id: kid, tenantId }).lean<PatientKeyDoc>().exec();
  }

  async insertPatientKey(tenantId: string, doc: Omit<PatientKeyDoc, 'tenantId'>): Promise<void> {
    await this.m.PatientKey.create({ ...doc, tenantId });
  }

  async deletePatientKeys(tenantId: string, patientId: string): Promise<number> {
    return (await this.m.PatientKey.deleteMany({ tenantId, patientId })).deletedCount;
  }

  async deleteAllPatientKeys(tenantId: string): Promise<number> {
    return (await this.m.PatientKey.deleteMany({ tenantId })).deletedCount;
  }

  /** Every tenant key (for KEK rotation only: the one cross-tenant read, by design). */
  allTenantKeys(): AsyncIterable<TenantKeyDoc> {
    return this.m.TenantKey.find({}).lean<TenantKeyDoc[]>().cursor() as unknown as AsyncIterable<TenantKeyDoc>;
  }
}
