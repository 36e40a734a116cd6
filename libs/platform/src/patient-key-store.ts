// The one MongoDB store of per-patient data keys (the `PatientKeyStore` of patient-keys.ts),
// used by every service that seals patient data: its `patient_keys` collection beside the
// shared `tenant_keys` (tenant-keys.ts), in the service's own database. Two document
// layouts exist in deployed databases and both are kept as they are:
// - `kid`: `_id` is the key id (records, consent);
// - `patient`: `_id` is `<tenant>|<patient>` and the key id is a field (messaging).
// Either way a patient has at most one key: a unique `{tenantId, patientId}` index makes
// two replicas' concurrent first uses settle on one key (the loser's insert is refused and
// it reads the winner's). `init()` builds that index, replacing the non-unique one older
// records databases carry (FerretDB keeps the old index silently when asked for a unique
// one of the same name, MongoDB refuses), and checks the data first (docs/platform.md,
// the FerretDB table).
import { type Connection, type Model, Schema } from 'mongoose';
import type { SealedValue } from './crypto';
import type { Logger } from './logger';
import { isDuplicateKeyError, modelOn } from './mongo';
import type { PatientKeyStore, StoredPatientKey } from './patient-keys';
import { TenantKeyRepository, sealedValueSchema, tenantKeyModel } from './tenant-keys';

export type PatientKeyLayout = 'kid' | 'patient';

export interface PatientKeyDoc {
  /** The key id (layout `kid`) or `<tenant>|<patient>` (layout `patient`). */
  _id: string;
  tenantId: string;
  patientId: string;
  /** The key id, in layout `patient` only (layout `kid` keeps it in `_id`). */
  kid?: string;
  /** The data key wrapped by the tenant key named in `wrapped.kid`. */
  wrapped: SealedValue;
  createdAt: Date;
}

const patientKeySchema = new Schema<PatientKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    kid: { type: String },
    wrapped: { type: sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  // The unique index is built by MongoPatientKeyStore.init (it may replace an older one).
  { collection: 'patient_keys', versionKey: false, strict: 'throw', autoIndex: false },
);

const UNIQUE_INDEX = 'tenantId_1_patientId_1';

export function patientKeyModel(conn: Connection): Model<PatientKeyDoc> {
  return modelOn(conn, 'PatientKey', patientKeySchema);
}

/** What `init()` found: whether the unique index now holds, and how many patients have two or more keys. */
export interface PatientKeyIndexState {
  unique: boolean;
  patientsWithSeveralKeys: number;
}

/** Tenant keys and patient keys of one service; every method takes the tenant id first. */
export class MongoPatientKeyStore extends TenantKeyRepository implements PatientKeyStore {
  private readonly patientKeys: Model<PatientKeyDoc>;

  constructor(
    conn: Connection,
    private readonly layout: PatientKeyLayout,
  ) {
    super(tenantKeyModel(conn));
    this.patientKeys = patientKeyModel(conn);
  }

  /**
   * Build the unique `{tenantId, patientId}` index before serving. A non-unique index of
   * that shape (records before it) is dropped and rebuilt unique; if the data already holds
   * a patient with several keys the old index is kept and the state says so (logged), so
   * boot never fails on it and no key is deleted.
   */
  async init(logger?: Logger): Promise<PatientKeyIndexState> {
    const existing = (await this.indexes()).find((ix) => isTenantPatientKey(ix.key));
    if (existing?.unique) return { unique: true, patientsWithSeveralKeys: 0 };
    const several = await this.patientsWithSeveralKeys();
    if (several > 0) {
      logger?.error({ patientsWithSeveralKeys: several }, 'patient_keys: some patients have several keys; unique index not built');
      return { unique: false, patientsWithSeveralKeys: several };
    }
    if (existing) {
      try {
        await this.patientKeys.collection.dropIndex(existing.name);
      } catch (err) {
        // Another replica booting at the same moment dropped it first.
        if (!isIndexNotFound(err)) throw err;
      }
    }
    await this.patientKeys.collection.createIndex({ tenantId: 1, patientId: 1 }, { unique: true, name: UNIQUE_INDEX });
    return { unique: true, patientsWithSeveralKeys: 0 };
  }

  async findPatientKeyOf(tenantId: string, patientId: string): Promise<StoredPatientKey | null> {
    // Layout `patient` finds it by `_id` equality alone.
    const filter = this.layout === 'patient' ? { _id: patientDocId(tenantId, patientId) } : { tenantId, patientId };
    const doc = await this.patientKeys.findOne(filter).lean<PatientKeyDoc>().exec();
    return doc && doc.tenantId === tenantId && doc.patientId === patientId ? this.stored(doc) : null;
  }

  /** That key of that patient, or null (never another tenant's or patient's). */
  async findPatientKey(tenantId: string, patientId: string, kid: string): Promise<StoredPatientKey | null> {
    if (this.layout === 'patient') {
      const key = await this.findPatientKeyOf(tenantId, patientId);
      return key?.kid === kid ? key : null;
    }
    const doc = await this.patientKeys.findOne({ _id: kid, tenantId }).lean<PatientKeyDoc>().exec();
    return doc && doc.patientId === patientId ? this.stored(doc) : null;
  }

  /** Insert the patient's one key; false when another writer made it first. */
  async insertPatientKey(tenantId: string, key: StoredPatientKey): Promise<boolean> {
    const { kid, patientId, wrapped } = key;
    const ids = this.layout === 'patient' ? { _id: patientDocId(tenantId, patientId), kid } : { _id: kid };
    try {
      await this.patientKeys.create({ ...ids, tenantId, patientId, wrapped, createdAt: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async deletePatientKeys(tenantId: string, patientId: string): Promise<number> {
    return (await this.patientKeys.deleteMany({ tenantId, patientId })).deletedCount;
  }

  async deleteAllPatientKeys(tenantId: string): Promise<number> {
    return (await this.patientKeys.deleteMany({ tenantId })).deletedCount;
  }

  private stored(doc: PatientKeyDoc): StoredPatientKey {
    return { kid: this.layout === 'patient' ? doc.kid! : doc._id, patientId: doc.patientId, wrapped: doc.wrapped };
  }

  private async indexes(): Promise<{ name: string; key: Record<string, unknown>; unique?: boolean }[]> {
    try {
      return (await this.patientKeys.collection.indexes()) as { name: string; key: Record<string, unknown>; unique?: boolean }[];
    } catch (err) {
      // MongoDB answers NamespaceNotFound for a collection not made yet.
      if ((err as { code?: number }).code === 26) return [];
      throw err;
    }
  }

  private async patientsWithSeveralKeys(): Promise<number> {
    const [row] = await this.patientKeys
      .aggregate<{ n: number }>([
        { $group: { _id: { t: '$tenantId', p: '$patientId' }, keys: { $sum: 1 } } },
        { $match: { keys: { $gt: 1 } } },
        { $count: 'n' },
      ])
      .exec();
    return row?.n ?? 0;
  }
}

const patientDocId = (tenantId: string, patientId: string) => `${tenantId}|${patientId}`;

const isTenantPatientKey = (key: Record<string, unknown>) => {
  const fields = Object.entries(key);
  return fields.length === 2 && fields[0]?.[0] === 'tenantId' && fields[0][1] === 1 && fields[1]?.[0] === 'patientId' && fields[1][1] === 1;
};

const isIndexNotFound = (err: unknown) => {
  const code = (err as { code?: number }).code;
  return code === 27 || /index not found/i.test(String((err as Error).message));
};
