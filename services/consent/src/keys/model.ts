// Storage of consent's key hierarchy (the same shape as records'): one tenant key per practice (wrapped by a KEK) and one
// data key per patient, exactly one (wrapped by the tenant key). Kept apart from the data they protect,
// so deleting a key document makes every copy of the data (replicas, backups, a raw copy)
// unreadable: that is crypto-shredding.
import {
  type PatientKeyStore,
  type SealedValue,
  type StoredPatientKey,
  type TenantKeyDoc,
  isDuplicateKeyError,
  TenantKeyRepository,
  sealedValueSchema,
  tenantKeyModel,
} from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface PatientKeyDoc {
  /** The key id, carried by every value sealed with it. */
  _id: string;
  tenantId: string;
  patientId: string;
  /** The data key wrapped by the tenant key named in `wrapped.kid`. */
  wrapped: SealedValue;
  createdAt: Date;
}

const patientKeySchema = new Schema<PatientKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    wrapped: { type: sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'patient_keys', versionKey: false, strict: 'throw' },
);
patientKeySchema.index({ tenantId: 1, patientId: 1 }, { unique: true });

export interface KeyModels {
  TenantKey: Model<TenantKeyDoc>;
  PatientKey: Model<PatientKeyDoc>;
}

export function keyModels(conn: Connection): KeyModels {
  return {
    TenantKey: tenantKeyModel(conn),
    PatientKey: (conn.models.PatientKey as Model<PatientKeyDoc>) ?? conn.model<PatientKeyDoc>('PatientKey', patientKeySchema),
  };
}

/** Tenant keys (the shared store in libs/platform) and patient keys; every method takes the tenant id first. */
export class KeyRepository extends TenantKeyRepository implements PatientKeyStore {
  constructor(private readonly m: KeyModels) {
    super(m.TenantKey);
  }

  async findPatientKey(tenantId: string, patientId: string, kid: string): Promise<StoredPatientKey | null> {
    const doc = await this.m.PatientKey.findOne({ _id: kid, tenantId }).lean<PatientKeyDoc>().exec();
    return doc && doc.patientId === patientId ? stored(doc) : null;
  }

  async findPatientKeyOf(tenantId: string, patientId: string): Promise<StoredPatientKey | null> {
    const doc = await this.m.PatientKey.findOne({ tenantId, patientId }).lean<PatientKeyDoc>().exec();
    return doc ? stored(doc) : null;
  }

  /** Insert the patient's one key; false when another writer made it first (unique per patient). */
  async insertPatientKey(tenantId: string, key: StoredPatientKey): Promise<boolean> {
    try {
      await this.m.PatientKey.create({ _id: key.kid, tenantId, patientId: key.patientId, wrapped: key.wrapped, createdAt: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async deletePatientKeys(tenantId: string, patientId: string): Promise<number> {
    return (await this.m.PatientKey.deleteMany({ tenantId, patientId })).deletedCount;
  }

  async deleteAllPatientKeys(tenantId: string): Promise<number> {
    return (await this.m.PatientKey.deleteMany({ tenantId })).deletedCount;
  }
}

const stored = (doc: PatientKeyDoc): StoredPatientKey => ({ kid: doc._id, patientId: doc.patientId, wrapped: doc.wrapped });
