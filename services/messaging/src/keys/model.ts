// Storage of messaging's key hierarchy: the shared tenant-key store (libs/platform) and one
// data key per patient, kept apart from the data they protect so deleting a key document
// crypto-shreds every copy of that patient's messages.
import {
  type PatientKeyStore,
  type SealedValue,
  type StoredPatientKey,
  type TenantKeyDoc,
  TenantKeyRepository,
  isDuplicateKeyError,
  sealedValueSchema,
  tenantKeyModel,
} from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface PatientKeyDoc {
  /** `<tenant>|<patient>`: one key per patient, found by `_id` equality alone. */
  _id: string;
  tenantId: string;
  patientId: string;
  kid: string;
  wrapped: SealedValue;
  createdAt: Date;
}

const patientKeySchema = new Schema<PatientKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    kid: { type: String, required: true },
    wrapped: { type: sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'patient_keys', versionKey: false, strict: 'throw' },
);
patientKeySchema.index({ tenantId: 1 });

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

const keyId = (tenantId: string, patientId: string) => `${tenantId}|${patientId}`;

export class KeyRepository extends TenantKeyRepository implements PatientKeyStore {
  constructor(private readonly m: KeyModels) {
    super(m.TenantKey);
  }

  async findPatientKeyOf(tenantId: string, patientId: string): Promise<StoredPatientKey | null> {
    const doc = await this.m.PatientKey.findOne({ _id: keyId(tenantId, patientId) })
      .lean<PatientKeyDoc>()
      .exec();
    return doc ? { kid: doc.kid, patientId: doc.patientId, wrapped: doc.wrapped } : null;
  }

  async findPatientKey(tenantId: string, patientId: string, kid: string): Promise<StoredPatientKey | null> {
    const key = await this.findPatientKeyOf(tenantId, patientId);
    return key?.kid === kid ? key : null;
  }

  /** False when another writer made the patient's key first. */
  async insertPatientKey(tenantId: string, key: StoredPatientKey): Promise<boolean> {
    const { kid, patientId, wrapped } = key;
    try {
      await this.m.PatientKey.create({ _id: keyId(tenantId, patientId), tenantId, patientId, kid, wrapped, createdAt: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async deletePatientKeys(tenantId: string, patientId: string): Promise<number> {
    return (await this.m.PatientKey.deleteOne({ _id: keyId(tenantId, patientId), tenantId })).deletedCount;
  }

  async deleteAllPatientKeys(tenantId: string): Promise<number> {
    return (await this.m.PatientKey.deleteMany({ tenantId })).deletedCount;
  }
}
