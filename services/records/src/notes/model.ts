// Clinical notes, versioned: every version is its own document (title and body sealed
// under the patient's data key), inserted once and never updated. An amendment inserts
// the next version number, carrying its event in the same insert; reads take the latest.
// A note is never silently overwritten and racing amendments cannot lose each other.
import type { EventEnvelope } from '@praxis/contracts';
import {
  isDuplicateKeyError,
  modelOn,
  outboxSchemaFields,
  type PageRequest,
  randomId,
  type SealedValue,
  sealedValueSchema,
  TenantRepository,
} from '@praxis/platform';
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

/**
 * One document per version, never updated: `_id` is `<noteId>:<version>`, so two
 * amendments racing for the same version number cannot both be stored (an insert with a
 * unique key is atomic everywhere; FerretDB's conditional updates are not).
 */
export interface NoteVersionDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  noteId: string;
  version: number;
  keyId: string;
  title: SealedValue;
  body: SealedValue;
  reason?: SealedValue;
  authorId: string;
  createdAt: Date;
  /** The note's first author and creation time, repeated on every version. */
  noteAuthorId: string;
  noteCreatedAt: Date;
}

const noteVersionSchema = new Schema<NoteVersionDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    noteId: { type: String, required: true },
    version: { type: Number, required: true },
    keyId: { type: String, required: true },
    title: { type: sealedValueSchema, required: true },
    body: { type: sealedValueSchema, required: true },
    reason: { type: sealedValueSchema },
    authorId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    noteAuthorId: { type: String, required: true },
    noteCreatedAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'note_versions', versionKey: false, strict: 'throw' },
);
noteVersionSchema.index({ tenantId: 1, noteId: 1, version: 1 }, { unique: true });
noteVersionSchema.index({ tenantId: 1, patientId: 1, noteId: 1, version: -1 });

export function noteModel(conn: Connection): Model<NoteVersionDoc> {
  return modelOn(conn, 'NoteVersion', noteVersionSchema);
}

export const newNoteId = () => randomId('note');
const versionKey = (noteId: string, version: number) => `${noteId}:${version}`;

const aad = (tenantId: string, patientId: string, noteId: string, version: number, field: 'title' | 'body' | 'reason') =>
  `note|${tenantId}|${patientId}|${noteId}|${version}|${field}`;

export interface NoteContent {
  title: string;
  body: string;
}

/** Note versions per cursor batch of an export. */
const EXPORT_BATCH = 1000;
/** What an export reads of a version: not its `_id`, tenant or outbox. */
const EXPORT_FIELDS = {
  _id: 0,
  patientId: 1,
  noteId: 1,
  version: 1,
  keyId: 1,
  title: 1,
  body: 1,
  reason: 1,
  authorId: 1,
  createdAt: 1,
  noteAuthorId: 1,
  noteCreatedAt: 1,
};

/** Note versions of a practice: the platform's tenant repository plus sealing and versioning. */
export class NoteRepository extends TenantRepository<NoteVersionDoc> {
  constructor(
    model: Model<NoteVersionDoc>,
    private readonly keys: KeyService,
  ) {
    super(model);
  }

  async create(
    tenantId: string,
    patientId: string,
    patientKeyId: string,
    id: string,
    authorId: string,
    content: NoteContent,
    events: EventEnvelope[],
  ): Promise<Note> {
    const pk = await this.keys.patientKey(tenantId, patientId, patientKeyId);
    const now = new Date();
    const doc = this.sealVersion(tenantId, patientId, id, pk, 1, authorId, now, { noteAuthorId: authorId, noteCreatedAt: now }, content);
    await this.insert(doc, events);
    return this.toNote(tenantId, doc, pk);
  }

  /**
   * Append a new version. `expectedVersion` (when given) must be the latest, else
   * `conflict`; without it the amendment goes on top of whatever is latest (retrying if
   * another amendment takes the next number first).
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
    for (let attempt = 0; attempt < 10; attempt++) {
      const latest = await this.latestDoc(tenantId, patientId, id);
      if (!latest) return { notFound: true };
      if (expectedVersion !== undefined && expectedVersion !== latest.version) return { conflict: latest.version };
      const pk = await this.keys.patientKey(tenantId, patientId, latest.keyId);
      const version = latest.version + 1;
      const doc = this.sealVersion(tenantId, patientId, id, pk, version, authorId, new Date(), latest, content);
      try {
        await this.insert(doc, makeEvents(version));
        return { note: this.toNote(tenantId, doc, pk) };
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        if (expectedVersion !== undefined) return { conflict: version };
        // Someone else took this version number: go again on top of theirs.
      }
    }
    throw new Error('note amendment kept conflicting');
  }

  async findById(tenantId: string, patientId: string, id: string): Promise<Note | null> {
    const doc = await this.latestDoc(tenantId, patientId, id);
    return doc ? this.toNote(tenantId, doc) : null;
  }

  /** Notes of a patient at their latest version, ordered by note id, paged by note id. */
  async list(tenantId: string, patientId: string, page: PageRequest): Promise<Note[]> {
    const filter = this.scope(tenantId, { patientId });
    if (page.after !== undefined) filter.noteId = mongoose.trusted({ $gt: page.after });
    const latest: NoteVersionDoc[] = [];
    const cursor = this.model.find(filter).sort({ noteId: 1, version: -1 }).lean<NoteVersionDoc[]>().cursor();
    try {
      for await (const doc of cursor as AsyncIterable<NoteVersionDoc>) {
        if (latest.length && latest[latest.length - 1]!.noteId === doc.noteId) continue;
        if (latest.length === page.limit) break;
        latest.push(doc);
      }
    } finally {
      await cursor.close();
    }
    return Promise.all(latest.map((d) => this.toNote(tenantId, d)));
  }

  async versions(tenantId: string, patientId: string, id: string): Promise<NoteVersion[] | null> {
    const docs = await this.model
      .find(this.scope(tenantId, { patientId, noteId: id }))
      .sort({ version: 1 })
      .lean<NoteVersionDoc[]>()
      .exec();
    if (!docs.length) return null;
    const pk = await this.keys.patientKey(tenantId, patientId, docs[0]!.keyId);
    return docs.map((v) => this.openVersion(tenantId, patientId, pk, v));
  }

  /** Every note of a patient with its full history (small patients; exports use `exportBatches`). */
  async allWithHistory(tenantId: string, patientId: string): Promise<(Note & { versions: NoteVersion[] })[]> {
    const out: (Note & { versions: NoteVersion[] })[] = [];
    for await (const batch of this.exportBatches(tenantId, patientId)) out.push(...batch);
    return out;
  }

  /**
   * Every note of a patient with its full history, in note id order, a batch of notes at a
   * time as the database hands over its batches (never the whole record in memory). The read
   * is sorted by the (tenantId, patientId, noteId, version: -1) index's keys: FerretDB cannot
   * push a sort down, so it reads and sorts the whole record before the first batch, and then
   * hands the batches over from memory; an unsorted read streams from the start but was
   * slower end to end (docs/consent.md, "Figures"). The next batch is asked for before this
   * one is opened, and a batch is handed on as one step (not one await per version: the
   * per-document cursor and read-ahead generators cost more than the decryption). The patient
   * key is looked up once per key id and imported for AES once (PatientKey.cipherKey).
   */
  async *exportBatches(tenantId: string, patientId: string): AsyncGenerator<(Note & { versions: NoteVersion[] })[]> {
    const keys = new Map<string, PatientKey>();
    const build = (newestFirst: NoteVersionDoc[]) => {
      const versions = newestFirst.reverse();
      const last = versions[versions.length - 1]!;
      const pk = keys.get(last.keyId)!;
      const opened = versions.map((v) => this.openVersion(tenantId, patientId, pk, v));
      return { ...this.noteOf(last, opened[opened.length - 1]!), versions: opened };
    };
    const cursor = this.model.collection.find<NoteVersionDoc>(this.scope(tenantId, { patientId }), {
      projection: EXPORT_FIELDS,
      sort: { noteId: 1, version: -1 },
      batchSize: EXPORT_BATCH,
    });
    let group: NoteVersionDoc[] = [];
    try {
      let more = cursor.hasNext();
      while (await more) {
        const docs = cursor.readBufferedDocuments();
        // Ask for the next batch now, and let the request go out (one turn of the event loop)
        // before this one is opened: the database encodes the next while records decrypts.
        more = cursor.hasNext();
        more.catch(() => undefined); // awaited above on the next turn, or dropped with the cursor
        await new Promise<void>((resolve) => setImmediate(resolve));
        for (const kid of new Set(docs.map((d) => d.keyId)))
          if (!keys.has(kid)) keys.set(kid, await this.keys.patientKey(tenantId, patientId, kid));
        const notes: (Note & { versions: NoteVersion[] })[] = [];
        for (const d of docs) {
          if (group.length && group[0]!.noteId !== d.noteId) {
            notes.push(build(group));
            group = [];
          }
          group.push(d);
        }
        if (notes.length) yield notes;
      }
      if (group.length) yield [build(group)];
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** How many notes, and how many stored versions (documents), a patient has. */
  async countForPatient(tenantId: string, patientId: string): Promise<{ notes: number; documents: number }> {
    const notes = (await this.model.distinct('noteId', this.scope(tenantId, { patientId }))).length;
    const documents = await this.model.countDocuments(this.scope(tenantId, { patientId }));
    return { notes, documents };
  }

  pendingEventsForPatient(tenantId: string, patientId: string): Promise<EventEnvelope[]> {
    return this.pendingEventsWhere(tenantId, { patientId });
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    return (await this.model.deleteMany(this.scope(tenantId, { patientId }))).deletedCount;
  }

  private latestDoc(tenantId: string, patientId: string, id: string): Promise<NoteVersionDoc | null> {
    return this.model
      .findOne(this.scope(tenantId, { patientId, noteId: id }))
      .sort({ version: -1 })
      .lean<NoteVersionDoc>()
      .exec();
  }

  private sealVersion(
    tenantId: string,
    patientId: string,
    id: string,
    pk: PatientKey,
    version: number,
    authorId: string,
    at: Date,
    note: { noteAuthorId: string; noteCreatedAt: Date },
    c: NoteContent & { reason?: string },
  ): NoteVersionDoc {
    return {
      _id: versionKey(id, version),
      tenantId,
      patientId,
      noteId: id,
      version,
      keyId: pk.kid,
      title: this.keys.sealWith(pk, c.title, aad(tenantId, patientId, id, version, 'title')),
      body: this.keys.sealWith(pk, c.body, aad(tenantId, patientId, id, version, 'body')),
      ...(c.reason !== undefined ? { reason: this.keys.sealWith(pk, c.reason, aad(tenantId, patientId, id, version, 'reason')) } : {}),
      authorId,
      createdAt: at,
      noteAuthorId: note.noteAuthorId,
      noteCreatedAt: note.noteCreatedAt,
    };
  }

  private openVersion(tenantId: string, patientId: string, pk: PatientKey, v: NoteVersionDoc): NoteVersion {
    return {
      version: v.version,
      title: this.keys.openWith(pk, v.title, aad(tenantId, patientId, v.noteId, v.version, 'title')),
      body: this.keys.openWith(pk, v.body, aad(tenantId, patientId, v.noteId, v.version, 'body')),
      ...(v.reason ? { reason: this.keys.openWith(pk, v.reason, aad(tenantId, patientId, v.noteId, v.version, 'reason')) } : {}),
      authorId: v.authorId,
      createdAt: new Date(v.createdAt).toISOString(),
    };
  }

  private toNote(tenantId: string, doc: NoteVersionDoc, pk: PatientKey): Note;
  private toNote(tenantId: string, doc: NoteVersionDoc): Promise<Note>;
  private toNote(tenantId: string, doc: NoteVersionDoc, pk?: PatientKey): Note | Promise<Note> {
    const build = (key: PatientKey): Note => this.noteOf(doc, this.openVersion(tenantId, doc.patientId, key, doc));
    if (pk) return build(pk);
    return this.keys.patientKey(tenantId, doc.patientId, doc.keyId).then(build);
  }

  /** The note as of its latest version (`doc`), already opened (`latest`). */
  private noteOf(doc: NoteVersionDoc, latest: NoteVersion): Note {
    return {
      id: doc.noteId,
      patientId: doc.patientId,
      title: latest.title,
      body: latest.body,
      authorId: doc.noteAuthorId,
      createdAt: new Date(doc.noteCreatedAt).toISOString(),
      version: doc.version,
      updatedBy: latest.authorId,
      updatedAt: latest.createdAt,
    };
  }
}
