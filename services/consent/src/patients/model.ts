// What consent knows about patients: a local projection of records' events
// (records.patient.created / records.patient.erased) and of its own erasures, so every
// route can answer 404 for a patient the practice does not have without calling records
// synchronously (docs/consent.md "Which patients exist"). Ids and flags only. Also the
// practices' slugs (auth.tenant.created) and display names, shown on the public notice
// page: the name is asked of auth once and kept here until auth.tenant.updated says it
// changed (every replica reads the same copy, so a rename shows at once on all of them).
import { TenantRepository, isDuplicateKeyError, modelOn } from '@praxis/platform';
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
  slug?: string;
  /** The practice's display name as auth last gave it; unset when auth says it changed. */
  name?: string;
  /** Bumped by every rename: a name asked of auth before the rename is not stored after it. */
  nameGen?: number;
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
  { _id: { type: String, required: true }, slug: { type: String }, name: { type: String }, nameGen: { type: Number } },
  { collection: 'practices', versionKey: false, strict: 'throw' },
);

export function knownPatientModel(conn: Connection): Model<KnownPatientDoc> {
  return modelOn(conn, 'KnownPatient', knownPatientSchema);
}

export function practiceModel(conn: Connection): Model<PracticeDoc> {
  return modelOn(conn, 'Practice', practiceSchema);
}

const key = (tenantId: string, patientId: string) => `${tenantId}:${patientId}`;

/**
 * Known patients are tenant-scoped (TenantRepository). The practices' documents are keyed by
 * the tenant id itself (`_id` = tenant id, no `tenantId` field), so their filters are that id.
 */
export class KnownPatientRepository extends TenantRepository<KnownPatientDoc> {
  constructor(
    model: Model<KnownPatientDoc>,
    private readonly practices: Model<PracticeDoc>,
  ) {
    super(model);
  }

  /** Learn a patient (idempotent; an erased patient stays erased). */
  async learn(tenantId: string, patientId: string, test: boolean): Promise<void> {
    await this.insertIfNew({ _id: key(tenantId, patientId), tenantId, patientId, test, createdAt: new Date() }, []);
  }

  /**
   * The patient is gone for good: no route of consent knows them again. `remember` keeps a
   * row even for a patient never learnt (consent's own erasure), so a late `created` cannot
   * bring them back; records' erasure events only mark patients consent knows (the broker
   * also carries other deployments' events, which must not fill this collection).
   */
  async forget(tenantId: string, patientId: string, opts: { remember: boolean }): Promise<void> {
    const filter = this.scope(tenantId, { _id: key(tenantId, patientId) });
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
    const doc = await this.findDoc(tenantId, key(tenantId, patientId));
    return Boolean(doc && !doc.erasedAt);
  }

  async learnPractice(tenantId: string, slug: string): Promise<void> {
    await this.practices.updateOne({ _id: tenantId }, { $set: { slug } }, { upsert: true });
  }

  async practiceSlug(tenantId: string): Promise<string | undefined> {
    return (await this.practices.findById(tenantId).lean<PracticeDoc>().exec())?.slug;
  }

  /** The stored display name (if any) and the generation it must match to be replaced. */
  async practiceName(tenantId: string): Promise<{ name?: string; gen?: number }> {
    const doc = await this.practices.findById(tenantId, { name: 1, nameGen: 1 }).lean<PracticeDoc>().exec();
    return { ...(doc?.name ? { name: doc.name } : {}), ...(doc?.nameGen !== undefined ? { gen: doc.nameGen } : {}) };
  }

  /**
   * Keep a name asked of auth, unless the practice was renamed since it was read (`gen`
   * moved on): then the next reader asks again. Whether it was kept.
   */
  async rememberPracticeName(tenantId: string, name: string, gen: number | undefined): Promise<boolean> {
    const r = await this.practices
      .updateOne(gen === undefined ? { _id: tenantId, nameGen: null } : { _id: tenantId, nameGen: gen }, { $set: { name } })
      .exec();
    if (r.matchedCount === 1) return true;
    if (gen !== undefined) return false;
    try {
      // Not learnt from auth.tenant.created (yet): start the practice's document with it.
      await this.practices.create({ _id: tenantId, name });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  /** The practice was renamed (auth.tenant.updated): drop the stored name. Idempotent. */
  async forgetPracticeName(tenantId: string): Promise<void> {
    await this.practices.updateOne({ _id: tenantId }, { $unset: { name: 1 }, $inc: { nameGen: 1 } }, { upsert: true }).exec();
  }
}
