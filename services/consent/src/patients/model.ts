// What consent knows about patients: a local projection of records' events
// (records.patient.created / records.patient.erased) and of its own erasures, so every
// route can answer 404 for a patient the practice does not have without calling records
// synchronously (docs/consent.md "Which patients exist"). Ids and flags only. Also the
// practices' slugs (auth.tenant.created), shown on the public notice page.
import { isDuplicateKeyError } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface KnownPatientDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  test: boolean;
  createdAt: Date;
  /** Set once the patient is erased (by records or by consent's own part): never known again. */
  erasedAt?: Date;
}

export interface PracticeDoc {
  _id: string;
  slug: string;
}

const knownPatientSchema = new Schema<KnownPatientDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    test: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
    erasedAt: { type: Date },
  },
  { collection: 'known_patients', versionKey: false, strict: 'throw' },
);
knownPatientSchema.index({ tenantId: 1, patientId: 1 }, { unique: true });

const practiceSchema = new Schema<PracticeDoc>(
  { _id: { type: String, required: true }, slug: { type: String, required: true } },
  { collection: 'practices', versionKey: false, strict: 'throw' },
);

export function knownPatientModel(conn: Connection): Model<KnownPatientDoc> {
  return (conn.models.KnownPatient as Model<KnownPatientDoc>) ?? conn.model<KnownPatientDoc>('KnownPatient', knownPatientSchema);
}

export function practiceModel(conn: Connection): Model<PracticeDoc> {
  return (conn.models.Practice as Model<PracticeDoc>) ?? conn.model<PracticeDoc>('Practice', practiceSchema);
}

const key = (tenantId: string, patientId: string) => `${tenantId}:${patientId}`;

export class KnownPatientRepository {
  constructor(
    private readonly model: Model<KnownPatientDoc>,
    private readonly practices: Model<PracticeDoc>,
  ) {}

  /** Learn a patient (idempotent; an erased patient stays erased). */
  async learn(tenantId: string, patientId: string, test: boolean): Promise<void> {
    try {
      await this.model.create({ _id: key(tenantId, patientId), tenantId, patientId, test, createdAt: new Date() });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  /**
   * The patient is gone for good: no route of consent knows them again. `remember` keeps a
   * row even for a patient never learnt (consent's own erasure), so a late `created` cannot
   * bring them back; records' erasure events only mark patients consent knows (the broker
   * also carries other deployments' events, which must not fill this collection).
   */
  async forget(tenantId: string, patientId: string, opts: { remember: boolean }): Promise<void> {
    const filter = { _id: key(tenantId, patientId), tenantId };
    const set = { $set: { erasedAt: new Date() } };
    if (!opts.remember) {
      await this.model.updateOne(filter, set);
      return;
    }
    try {
      await this.model.updateOne(
        filter,
        { ...set, $setOnInsert: { tenantId, patientId, test: false, createdAt: new Date() } },
        { upsert: true },
      );
    } catch (err) {
      // Two upserts of one row racing: the other inserted it; mark it.
      if (!isDuplicateKeyError(err)) throw err;
      await this.model.updateOne(filter, set);
    }
  }

  /** Whether the practice has this patient (known and not erased). */
  async exists(tenantId: string, patientId: string): Promise<boolean> {
    const doc = await this.model
      .findOne({ _id: key(tenantId, patientId), tenantId })
      .lean<KnownPatientDoc>()
      .exec();
    return Boolean(doc && !doc.erasedAt);
  }

  async learnPractice(tenantId: string, slug: string): Promise<void> {
    await this.practices.updateOne({ _id: tenantId }, { $set: { slug } }, { upsert: true });
  }

  async practiceSlug(tenantId: string): Promise<string | undefined> {
    return (await this.practices.findById(tenantId).lean<PracticeDoc>().exec())?.slug;
  }
}
