// Clinical notes, versioned: one document per note holding every version (title and body
// sealed under the patient's data key) and a copy of the latest. An amendment appends a
// version in one atomic single-document write guarded by the version number, so a note
// is never silently overwritten and concurrent amendments cannot lose each other.
import type { EventEnvelope } from '@praxis/contracts';
import { OUTBOX, type SealedValue, outboxSchemaFields, outboxUpdate, randomId, withOutbox } from '@praxis/platform';
import mongoose, { type Connection, type Model, Schema } from 'mongoose';
import type { KeyService, PatientKey } from '../keys/key-service';

export interface NoteVersion {
  version: number;
  title: string;
  body: string;
  authorId: string;
  createdAt: string;
  reason?: string;
}

export interface Note {
  id: string;
  patientId: string;
  title: string;
  body: string;
  /** Who wrote the note first. */
  authorId: string;
  createdAt: string;
  /** The latest version's number, author and time. */
  version: number;
  updatedBy: string;
  updatedAt: string;
}

interface VersionDoc {
  version: number;
  title: SealedValue;
  body: SealedValue;
  reason?: SealedValue;
  authorId: string;
  createdAt: Date;
}

export interface NoteDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  keyId: string;
  version: number;
  authorId: string;
  createdAt: Date;
  latest: VersionDoc;
  versions: VersionDoc[];
}

const sealedSchema = new Schema<SealedValue>({ kid: { type: String, required: true }, ct: { type: String, required: true } }, { _id: false, strict: 'throw' });
const versionSchema = new Schema<VersionDoc>(
  {
    version: { type: Number, required: true },
    title: { type: sealedSchema, required: true },
    body: { type: sealedSchema, required: true },
    reason: { type: sealedSchema },
    authorId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { _id: false, strict: 'throw' },
);

const noteSchema = new Schema<NoteDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    keyId: { type: String, required: true },
    version: { type: Number, required: true },
    authorId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    latest: { type: versionSchema, required: true },
    versions: { type: [versionSchema], required: true },
    ...outboxSchemaFields,
  },
  { collection: 'notes', versionKey: false, strict: 'throw' },
);
noteSchema.index({ tenantId: 1, patientId: 1, _id: 1 });

export function noteModel(conn: Connection): Model<NoteDoc> {
  return (conn.models.Note as Model<NoteDoc>) ?? conn.model<NoteDoc>('Note', noteSchema);
}

export const newNoteId = () => randomId('note');

const aad = (tenantId: string, patientId: string, noteId: string, version: number, field: 'title' | 'body' | 'reason') =>
  `note|${tenantId}|${patientId}|${noteId}|${version}|${field}`;

export interface NoteContent {
  title: string;
  body: string;
}

export class NoteRepository {
  constructor(
    private readonly model: Model<NoteDoc>,
    private readonly keys: KeyService,
  ) {}

  get collection() {
    return this.model.collection;
  }

  async create(tenantId: string, patientId: string, patientKeyId: string, id: string, authorId: string, content: NoteContent, events: EventEnvelope[]): Promise<Note> {
    const pk = await this.keys.patientKey(tenantId, patientId, patientKeyId);
    const now = new Date();
    const v1 = this.sealVersion(tenantId, patientId, id, pk, 1, authorId, now, content);
    const doc: NoteDoc = { _id: id, tenantId, patientId, keyId: pk.kid, version: 1, authorId, createdAt: now, latest: v1, versions: [v1] };
    await this.model.create(withOutbox(doc, events));
    return this.toNote(tenantId, doc, pk);
  }

  /**
   * Append a new version. `expectedVersion` (when given) must be the latest, else null with
   * `conflict`; without it the amendment applies on top of whatever is latest.
   */
  async amend(
    tenantId: string,
    patientId: string,
    id: string,
    authorId: string,
    content: NoteContent & { reason?: string },
    expectedVersion: number | undefined,
    makeEvents: (version: number) => EventEnvelope[],
  ): Promise<{ note: Note } | { notFound: true } | { conflict: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.model.findOne({ _id: id, tenantId, patientId }, { version: 1, keyId: 1 }).lean<Pick<NoteDoc, 'version' | 'keyId'>>().exec();
      if (!current) return { notFound: true };
      if (expectedVersion !== undefined && expectedVersion !== current.version) return { conflict: current.version };
      const pk = await this.keys.patientKey(tenantId, patientId, current.keyId);
      const version = current.version + 1;
      const v = this.sealVersion(tenantId, patientId, id, pk, version, authorId, new Date(), content);
      const outbox = outboxUpdate(makeEvents(version));
      const doc = await this.model.collection.findOneAndUpdate(
        { _id: id as never, tenantId, patientId, version: current.version },
        { $set: { version, latest: v, ...outbox.$set }, $push: { versions: v, ...outbox.$push } } as never,
        { returnDocument: 'after' }, // no projection: FerretDB's findAndModify does not take one
      );
      if (doc) return { note: this.toNote(tenantId, doc as unknown as NoteDoc, pk) };
      // Someone amended in between: go again on top of theirs (or report the conflict).
    }
    throw new Error('note amendment kept conflicting');
  }

  async findById(tenantId: string, patientId: string, id: string): Promise<Note | null> {
    const doc = await this.model.findOne({ _id: id, tenantId, patientId }, { versions: 0 }).lean<NoteDoc>().exec();
    return doc ? this.toNote(tenantId, doc) : null;
  }

  async list(tenantId: string, patientId: string, page: { after?: string; limit: number }): Promise<Note[]> {
    const filter: Record<string, unknown> = { tenantId, patientId };
    if (page.after !== undefined) filter._id = mongoose.trusted({ $gt: page.after });
    const docs = await this.model.find(filter, { versions: 0 }).sort({ _id: 1 }).limit(page.limit).lean<NoteDoc[]>().exec();
    return Promise.all(docs.map((d) => this.toNote(tenantId, d)));
  }

  async versions(tenantId: string, patientId: string, id: string): Promise<NoteVersion[] | null> {
    const doc = await this.model.findOne({ _id: id, tenantId, patientId }, { versions: 1, keyId: 1, patientId: 1 }).lean<NoteDoc>().exec();
    if (!doc) return null;
    const pk = await this.keys.patientKey(tenantId, patientId, doc.keyId);
    return doc.versions.map((v) => this.openVersion(tenantId, patientId, id, pk, v));
  }

  /** Every note of a patient with its full history (subject access export). */
  async allWithHistory(tenantId: string, patientId: string): Promise<(Note & { versions: NoteVersion[] })[]> {
    const docs = await this.model.find({ tenantId, patientId }).sort({ _id: 1 }).lean<NoteDoc[]>().exec();
    return Promise.all(
      docs.map(async (d) => {
        const pk = await this.keys.patientKey(tenantId, patientId, d.keyId);
        return { ...this.toNote(tenantId, d, pk), versions: d.versions.map((v) => this.openVersion(tenantId, patientId, d._id, pk, v)) };
      }),
    );
  }

  async countForPatient(tenantId: string, patientId: string): Promise<number> {
    return this.model.countDocuments({ tenantId, patientId });
  }

  async pendingEventsForPatient(tenantId: string, patientId: string): Promise<EventEnvelope[]> {
    const docs = await this.model.collection.find({ tenantId, patientId, _outboxPending: true }, { projection: { [OUTBOX]: 1 } }).toArray();
    return docs.flatMap((d) => (d[OUTBOX] as EventEnvelope[] | undefined) ?? []);
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    return (await this.model.deleteMany({ tenantId, patientId })).deletedCount;
  }

  async pendingEventsForTenant(tenantId: string): Promise<EventEnvelope[]> {
    const docs = await this.model.collection.find({ tenantId, _outboxPending: true }, { projection: { [OUTBOX]: 1 } }).toArray();
    return docs.flatMap((d) => (d[OUTBOX] as EventEnvelope[] | undefined) ?? []);
  }

  async deleteAllForTenant(tenantId: string): Promise<number> {
    return (await this.model.deleteMany({ tenantId })).deletedCount;
  }

  private sealVersion(tenantId: string, patientId: string, id: string, pk: PatientKey, version: number, authorId: string, at: Date, c: NoteContent & { reason?: string }): VersionDoc {
    return {
      version,
      title: this.keys.sealWith(pk, c.title, aad(tenantId, patientId, id, version, 'title')),
      body: this.keys.sealWith(pk, c.body, aad(tenantId, patientId, id, version, 'body')),
      ...(c.reason !== undefined ? { reason: this.keys.sealWith(pk, c.reason, aad(tenantId, patientId, id, version, 'reason')) } : {}),
      authorId,
      createdAt: at,
    };
  }

  private openVersion(tenantId: string, patientId: string, id: string, pk: PatientKey, v: VersionDoc): NoteVersion {
    return {
      version: v.version,
      title: this.keys.openWith(pk, v.title, aad(tenantId, patientId, id, v.version, 'title')),
      body: this.keys.openWith(pk, v.body, aad(tenantId, patientId, id, v.version, 'body')),
      ...(v.reason ? { reason: this.keys.openWith(pk, v.reason, aad(tenantId, patientId, id, v.version, 'reason')) } : {}),
      authorId: v.authorId,
      createdAt: new Date(v.createdAt).toISOString(),
    };
  }

  private toNote(tenantId: string, doc: NoteDoc, pk: PatientKey): Note;
  private toNote(tenantId: string, doc: NoteDoc): Promise<Note>;
  private toNote(tenantId: string, doc: NoteDoc, pk?: PatientKey): Note | Promise<Note> {
    const build = (key: PatientKey): Note => {
      const latest = this.openVersion(tenantId, doc.patientId, doc._id, key, doc.latest);
      return {
        id: doc._id,
        patientId: doc.patientId,
        title: latest.title,
        body: latest.body,
        authorId: doc.authorId,
        createdAt: new Date(doc.createdAt).toISOString(),
        version: doc.version,
        updatedBy: latest.authorId,
        updatedAt: latest.createdAt,
      };
    };
    if (pk) return build(pk);
    return this.keys.patientKey(tenantId, doc.patientId, doc.keyId).then(build);
  }
}
