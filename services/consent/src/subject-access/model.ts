// Subject access requests (Art. 15) and their exports. A request is a small,
// non-identifying document (ids, status, dates, which participant failed); the export —
// everything collated — is a sequence of chunks (a head, then the notes, messages and
// access log a few hundred kilobytes at a time), each sealed under the patient's key and
// bound to its request, position and section, so a download streams chunk by chunk and
// no document nears the 16 MB limit however long the record. Chunks belong to one
// collation (`exportId`): the collation that completes the request names its chunks on
// the request, any other (a second replica, a crash before completing) is deleted.
// Deleted when the export expires (7 days); unreadable once the patient is erased.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import {
  type SealedValue,
  TenantCollection,
  TenantRepository,
  modelOn,
  outboxSchemaFields,
  sealedValueSchema,
  withoutOutbox,
} from '@praxis/platform';
import mongoose, { type Connection, type Model, Schema, type Collection as MongooseCollection } from 'mongoose';

export type SarStatus = 'pending' | 'completed' | 'failed' | 'expired';

export interface SarDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  actor: Actor;
  status: SarStatus;
  participants: string[];
  createdAt: Date;
  dueAt: Date;
  completedAt?: Date;
  expiresAt?: Date;
  failedAt?: Date;
  failedParticipant?: string;
  expiredAt?: Date;
  /** The collation whose chunks are the export (set on completion). */
  exportId?: string;
  exportChunks?: number;
  exportBytes?: number;
  /** A replica collating the request holds it until then (two replicas never both collate). */
  collatingUntil?: Date;
  /**
   * A participant failed transiently and the request waits to ask again (`nextAt`, also
   * held in `collatingUntil` so no replica collates before it); `since` is the first failure.
   */
  retrying?: SarRetrying;
  /** Why the request failed: the failed participant's last answer, and for how long it was retried. */
  failureReason?: string;
}

export interface SarRetrying {
  participant: string;
  reason: string;
  since: Date;
  attempts: number;
  nextAt: Date;
}

export type ExportSection = 'head' | 'notes' | 'messages' | 'directMessages' | 'accessLog';

export interface SarChunkDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  requestId: string;
  exportId: string;
  seq: number;
  section: ExportSection;
  /** How the plaintext was packed before sealing: `deflate` (raw DEFLATE), or absent (the JSON as is). */
  encoding?: 'deflate';
  sealed: SealedValue;
  createdAt: Date;
}

const sarSchema = new Schema<SarDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: ['pending', 'completed', 'failed', 'expired'], required: true },
    participants: { type: [String], required: true },
    createdAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    completedAt: { type: Date },
    expiresAt: { type: Date },
    failedAt: { type: Date },
    failedParticipant: { type: String },
    expiredAt: { type: Date },
    exportId: { type: String },
    exportChunks: { type: Number },
    exportBytes: { type: Number },
    collatingUntil: { type: Date },
    retrying: {
      type: new Schema<SarRetrying>(
        {
          participant: { type: String, required: true },
          reason: { type: String, required: true },
          since: { type: Date, required: true },
          attempts: { type: Number, required: true },
          nextAt: { type: Date, required: true },
        },
        { _id: false, strict: 'throw' },
      ),
    },
    failureReason: { type: String },
    ...outboxSchemaFields,
  },
  { collection: 'access_requests', versionKey: false, strict: 'throw' },
);
sarSchema.index({ tenantId: 1, patientId: 1, status: 1 });
sarSchema.index({ status: 1, expiresAt: 1 });
sarSchema.index({ tenantId: 1, _id: -1 });

const chunkSchema = new Schema<SarChunkDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    requestId: { type: String, required: true },
    exportId: { type: String, required: true },
    seq: { type: Number, required: true },
    section: { type: String, enum: ['head', 'notes', 'messages', 'directMessages', 'accessLog'], required: true },
    encoding: { type: String, enum: ['deflate'] },
    sealed: { type: sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'access_export_chunks', versionKey: false, strict: 'throw' },
);
chunkSchema.index({ tenantId: 1, exportId: 1, seq: 1 }, { unique: true });
chunkSchema.index({ tenantId: 1, requestId: 1 });
chunkSchema.index({ tenantId: 1, patientId: 1 });

export interface SarModels {
  Request: Model<SarDoc>;
  Chunk: Model<SarChunkDoc>;
}

export function sarModels(conn: Connection): SarModels {
  return {
    Request: modelOn(conn, 'AccessRequest', sarSchema),
    Chunk: modelOn(conn, 'AccessExportChunk', chunkSchema),
  };
}

/** Requests on the tenant base; their export's chunks, a second collection, a `TenantCollection`. */
export class SarRepository extends TenantRepository<SarDoc> {
  private readonly chunkDocs: TenantCollection<SarChunkDoc>;

  constructor(
    readonly m: SarModels,
    /** The requests collection with per-document serialised updates (libs/platform/src/serial.ts). */
    readonly requests: MongooseCollection,
  ) {
    super(m.Request, { collection: requests });
    this.chunkDocs = new TenantCollection(m.Chunk);
  }

  create(doc: SarDoc, events: EventEnvelope[]): Promise<void> {
    return this.insert(doc, events);
  }

  find(tenantId: string, id: string): Promise<SarDoc | null> {
    return this.findDoc(tenantId, id, {}, withoutOutbox);
  }

  /**
   * The practice's requests, newest first (optionally one patient's), `limit` of them after
   * the position `before` (an id: ids are uuidv7, so id order is creation order).
   */
  list(tenantId: string, limit: number, q: { patientId?: string; before?: string }): Promise<SarDoc[]> {
    return this.findMany(
      tenantId,
      { ...(q.patientId ? { patientId: q.patientId } : {}), ...(q.before ? { _id: mongoose.trusted({ $lt: q.before }) } : {}) },
      { sort: { _id: -1 }, limit, projection: withoutOutbox },
    );
  }

  pendingForPatient(tenantId: string, patientId: string): Promise<SarDoc | null> {
    return this.model
      .findOne(this.scope(tenantId, { patientId, status: 'pending' }), withoutOutbox)
      .lean<SarDoc>()
      .exec();
  }

  /** Every pending request (the runner's work list, across practices by design). */
  allPending(limit = 100): Promise<SarDoc[]> {
    return this.m.Request.find({ status: 'pending' }, withoutOutbox).sort({ createdAt: 1 }).limit(limit).lean<SarDoc[]>().exec();
  }

  /** Completed requests whose export has expired (the runner's expiry list). */
  expiredBy(now: Date, limit = 100): Promise<SarDoc[]> {
    return this.m.Request.find({ status: 'completed', expiresAt: mongoose.trusted({ $lte: now }) }, withoutOutbox)
      .limit(limit)
      .lean<SarDoc[]>()
      .exec();
  }

  /**
   * Hold a pending request for collation until `until` unless another replica holds it;
   * true when this caller may collate it.
   */
  claim(tenantId: string, id: string, now: Date, until: Date): Promise<boolean> {
    return this.updateIf(tenantId, id, { $set: { collatingUntil: until } }, [], {
      status: 'pending',
      $or: [{ collatingUntil: { $exists: false } }, { collatingUntil: { $lte: now } }],
    });
  }

  /** Store some of one collation's sealed chunks (inserted as they are made). */
  async addChunks(chunks: SarChunkDoc[]): Promise<void> {
    if (chunks.length) await this.m.Chunk.collection.insertMany(chunks as never[], { ordered: true });
  }

  /** Mark the request completed with its event, naming the collation whose chunks are its export. */
  complete(
    tenantId: string,
    id: string,
    exp: { exportId: string; exportChunks: number; exportBytes: number; completedAt: Date; expiresAt: Date },
    events: EventEnvelope[],
  ): Promise<boolean> {
    return this.transition(tenantId, id, 'pending', { status: 'completed', ...exp }, events);
  }

  /** Delete one collation's chunks (one that did not complete its request); how many there were. */
  dropCollation(tenantId: string, exportId: string): Promise<number> {
    return this.chunkDocs.deleteWhere(tenantId, { exportId });
  }

  fail(tenantId: string, id: string, participant: string, reason: string, events: EventEnvelope[]): Promise<boolean> {
    return this.transition(
      tenantId,
      id,
      'pending',
      { status: 'failed', failedAt: new Date(), failedParticipant: participant, failureReason: reason },
      events,
    );
  }

  /**
   * A collation that held the request until `heldUntil` found a participant down: record
   * it and hold the request until the next attempt (`retrying.nextAt`), when the runner's
   * claim takes it again. False if this collation no longer held it.
   */
  deferCollation(tenantId: string, id: string, heldUntil: Date, retrying: SarRetrying): Promise<boolean> {
    return this.updateIf(tenantId, id, { $set: { retrying, collatingUntil: retrying.nextAt } }, [], {
      status: 'pending',
      collatingUntil: heldUntil,
    });
  }

  async expire(tenantId: string, id: string, events: EventEnvelope[]): Promise<boolean> {
    await this.chunkDocs.deleteWhere(tenantId, { requestId: id });
    return this.transition(tenantId, id, 'completed', { status: 'expired', expiredAt: new Date() }, events);
  }

  /** Whether the chunks of one export are still held (ids only: cheap before a download starts). */
  async hasChunks(tenantId: string, exportId: string): Promise<boolean> {
    return (await this.m.Chunk.findOne(this.chunkDocs.scope(tenantId, { exportId }), { _id: 1 }).lean().exec()) !== null;
  }

  /** The chunks of one export in order, one at a time (a cursor, never all in memory). */
  async *chunks(tenantId: string, exportId: string): AsyncGenerator<SarChunkDoc> {
    const cursor = this.m.Chunk.find(this.chunkDocs.scope(tenantId, { exportId }))
      .sort({ seq: 1 })
      .lean<SarChunkDoc>()
      .cursor({ batchSize: 1 });
    try {
      for await (const c of cursor) yield c;
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** Delete every stored export of a patient; how many exports (requests) had chunks. */
  async deleteExportsOf(tenantId: string, patientId: string): Promise<number> {
    const exports = await this.m.Chunk.distinct('exportId', this.chunkDocs.scope(tenantId, { patientId }));
    await this.chunkDocs.deleteWhere(tenantId, { patientId });
    return exports.length;
  }

  private transition(tenantId: string, id: string, from: SarStatus, set: Partial<SarDoc>, events: EventEnvelope[]): Promise<boolean> {
    return this.updateIf(tenantId, id, { $set: set }, events, { status: from });
  }
}
