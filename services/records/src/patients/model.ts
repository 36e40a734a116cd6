// Patients: storage and field encryption. Identifying fields (names, birth date, email,
// mobile, address) are sealed with AES-256-GCM under the patient's own data key, each bound
// by its AAD to tenant, patient and field, so nothing else handles ciphertext. Family-name
// search uses a keyed blind index; the ref and the test flag are the only plain values.
import type { EventEnvelope } from '@praxis/contracts';
import {
  isDuplicateKeyError,
  modelOn,
  OUTBOX,
  outboxSchemaFields,
  type PageRequest,
  randomId,
  type SealedValue,
  sealedValueSchema,
  TenantRepository,
} from '@praxis/platform';
import { type Connection, type Model, Schema, type Collection as MongooseCollection } from 'mongoose';
import { KeyDestroyedError, type KeyService, type PatientKey } from '../keys/key-service';
import { newPatientRef } from './ref';

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  postcode: string;
}

export interface Demographics {
  givenName: string;
  familyName: string;
  birthDate: string;
  email?: string;
  mobile?: string;
  address?: Address;
}

export interface Patient extends Demographics {
  id: string;
  ref: string;
  test: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A PATCH: a value sets a field; null removes an optional one. */
export type DemographicsChange = { [K in keyof Demographics]?: Demographics[K] | null };

type SealedFields = { [K in keyof Demographics]?: SealedValue };

export interface PatientDoc {
  _id: string;
  tenantId: string;
  ref: string;
  test: boolean;
  /** Id of the patient data key every sealed field was sealed with (also inside each value). */
  keyId: string;
  pii: SealedFields;
  /** Blind index of the family name (HMAC under the tenant's blind-index key). */
  familyNameIdx: string;
  createdAt: Date;
  updatedAt: Date;
}

const piiSchema = new Schema<SealedFields>(
  {
    givenName: { type: sealedValueSchema, required: true },
    familyName: { type: sealedValueSchema, required: true },
    birthDate: { type: sealedValueSchema, required: true },
    email: { type: sealedValueSchema },
    mobile: { type: sealedValueSchema },
    address: { type: sealedValueSchema },
  },
  { _id: false, strict: 'throw' },
);

const patientSchema = new Schema<PatientDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    ref: { type: String, required: true },
    test: { type: Boolean, required: true },
    keyId: { type: String, required: true },
    pii: { type: piiSchema, required: true },
    familyNameIdx: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'patients', versionKey: false, strict: 'throw' },
);
patientSchema.index({ tenantId: 1, ref: 1 }, { unique: true });
patientSchema.index({ tenantId: 1, familyNameIdx: 1 });
patientSchema.index({ tenantId: 1, _id: 1 });

export function patientModel(conn: Connection): Model<PatientDoc> {
  return modelOn(conn, 'Patient', patientSchema);
}

export const newPatientId = () => randomId('pat');

const FAMILY_NAME_DOMAIN = 'patient.familyName';
const aad = (tenantId: string, patientId: string, field: keyof Demographics) => `patient|${tenantId}|${patientId}|${field}`;
const DEMOGRAPHIC_FIELDS = ['givenName', 'familyName', 'birthDate', 'email', 'mobile', 'address'] as const;

export interface Visibility {
  /** Only test patients exist for this caller. */
  testOnly: boolean;
}

/** What a caller may see: only test patients when `testOnly`. */
const visible = (vis: Visibility): Record<string, unknown> => (vis.testOnly ? { test: true } : {});

/** Patients of a practice: the platform's tenant repository (scoping, outbox writes, pages) plus sealing. */
export class PatientRepository extends TenantRepository<PatientDoc> {
  constructor(
    model: Model<PatientDoc>,
    private readonly keys: KeyService,
    /** The patients collection with per-document serialised updates (see libs/platform/src/serial.ts). */
    collection: MongooseCollection,
  ) {
    super(model, { collection });
  }

  /** Insert a new patient with its events; a fresh ref is drawn again on a collision. */
  async create(tenantId: string, id: string, input: Demographics & { test: boolean }, events: EventEnvelope[]): Promise<Patient> {
    const pk = await this.keys.newPatientKey(tenantId, id);
    const now = new Date();
    const base = {
      _id: id,
      tenantId,
      test: input.test,
      keyId: pk.kid,
      pii: this.sealAll(tenantId, id, pk, input),
      familyNameIdx: await this.keys.blindIndex(tenantId, input.familyName, FAMILY_NAME_DOMAIN),
      createdAt: now,
      updatedAt: now,
    };
    for (let attempt = 0; ; attempt++) {
      const ref = newPatientRef();
      try {
        await this.insert({ ...base, ref }, events);
        return this.toPatient(tenantId, { ...base, ref }, pk);
      } catch (err) {
        if (!isDuplicateKeyError(err) || attempt >= 5 || !/ref/.test(String((err as Error).message))) throw err;
      }
    }
  }

  async findById(tenantId: string, id: string, vis: Visibility): Promise<Patient | null> {
    const doc = await this.findDoc(tenantId, id, visible(vis));
    return doc ? this.toPatient(tenantId, doc) : null;
  }

  async exists(tenantId: string, id: string, vis: Visibility): Promise<boolean> {
    return (await this.model.exists(this.scope(tenantId, { ...visible(vis), _id: id }))) !== null;
  }

  /** The patient's ref and key id, without decrypting anything (null: no such patient for this caller). */
  async locate(tenantId: string, id: string, vis: Visibility): Promise<{ ref: string; keyId: string } | null> {
    const doc = await this.findDoc<Pick<PatientDoc, 'ref' | 'keyId'>>(tenantId, id, visible(vis), { ref: 1, keyId: 1 });
    return doc ? { ref: doc.ref, keyId: doc.keyId } : null;
  }

  async search(tenantId: string, by: { ref?: string; familyName?: string }, vis: Visibility, page: PageRequest): Promise<Patient[]> {
    const filter: Record<string, unknown> = visible(vis);
    if (by.ref !== undefined) filter.ref = by.ref;
    if (by.familyName !== undefined) filter.familyNameIdx = await this.keys.blindIndex(tenantId, by.familyName, FAMILY_NAME_DOMAIN);
    const docs = await this.findPage(tenantId, page, filter);
    // A patient whose key is already shredded (an erasure in progress) is left out, not an error.
    const patients = await Promise.all(
      docs.map((d) => this.toPatient(tenantId, d).catch((err: unknown) => (err instanceof KeyDestroyedError ? null : Promise.reject(err)))),
    );
    return patients.filter((p): p is Patient => p !== null);
  }

  /** Apply a change and its events in one single-document write. */
  async update(
    tenantId: string,
    id: string,
    vis: Visibility,
    change: DemographicsChange & { test?: boolean },
    events: EventEnvelope[],
  ): Promise<Patient | null> {
    const current = await this.findDoc<Pick<PatientDoc, 'keyId'>>(tenantId, id, visible(vis), { keyId: 1 });
    if (!current) return null;
    const pk = await this.keys.patientKey(tenantId, id, current.keyId);
    const $set: Record<string, unknown> = { updatedAt: new Date() };
    const $unset: Record<string, 1> = {};
    for (const field of DEMOGRAPHIC_FIELDS) {
      const value = change[field];
      if (value === undefined) continue;
      if (value === null) $unset[`pii.${field}`] = 1;
      else $set[`pii.${field}`] = this.sealField(tenantId, id, pk, field, value);
    }
    if (typeof change.familyName === 'string')
      $set.familyNameIdx = await this.keys.blindIndex(tenantId, change.familyName, FAMILY_NAME_DOMAIN);
    if (change.test !== undefined) $set.test = change.test;
    const doc = await this.updateDoc(tenantId, id, { $set, $unset }, events, visible(vis));
    return doc ? this.toPatient(tenantId, doc, pk) : null;
  }

  /** The raw stored document (ciphertext and all), for export of what is held and for tests. */
  rawDocument(tenantId: string, id: string): Promise<Record<string, unknown> | null> {
    return this.model.collection.findOne(this.scope(tenantId, { _id: id }) as never);
  }

  /** Events still waiting in the document's outbox (so erasure can carry them over). */
  async pendingEvents(tenantId: string, id: string): Promise<EventEnvelope[]> {
    const doc = await this.model.collection.findOne(this.scope(tenantId, { _id: id }) as never, { projection: { [OUTBOX]: 1 } });
    return ((doc?.[OUTBOX] as EventEnvelope[] | undefined) ?? []).slice();
  }

  async delete(tenantId: string, id: string): Promise<number> {
    return (await this.model.deleteOne(this.scope(tenantId, { _id: id }))).deletedCount;
  }

  private sealField<K extends keyof Demographics>(
    tenantId: string,
    id: string,
    pk: PatientKey,
    field: K,
    value: NonNullable<Demographics[K]>,
  ): SealedValue {
    const plain = field === 'address' ? JSON.stringify(value) : (value as string);
    return this.keys.sealWith(pk, plain, aad(tenantId, id, field));
  }

  private sealAll(tenantId: string, id: string, pk: PatientKey, d: Demographics): SealedFields {
    const out: SealedFields = {};
    for (const field of DEMOGRAPHIC_FIELDS) {
      const value = d[field];
      if (value !== undefined && value !== null) out[field] = this.sealField(tenantId, id, pk, field, value);
    }
    return out;
  }

  private async toPatient(tenantId: string, doc: PatientDoc, pk?: PatientKey): Promise<Patient> {
    const key = pk ?? (await this.keys.patientKey(tenantId, doc._id, doc.keyId));
    const read = (field: keyof Demographics) => {
      const sealed = doc.pii[field];
      return sealed ? this.keys.openWith(key, sealed, aad(tenantId, doc._id, field)) : undefined;
    };
    const email = read('email');
    const mobile = read('mobile');
    const address = read('address');
    return {
      id: doc._id,
      ref: doc.ref,
      givenName: read('givenName')!,
      familyName: read('familyName')!,
      birthDate: read('birthDate')!,
      ...(email !== undefined ? { email } : {}),
      ...(mobile !== undefined ? { mobile } : {}),
      ...(address !== undefined ? { address: JSON.parse(address) as Address } : {}),
      test: doc.test,
      createdAt: new Date(doc.createdAt).toISOString(),
      updatedAt: new Date(doc.updatedAt).toISOString(),
    };
  }
}
