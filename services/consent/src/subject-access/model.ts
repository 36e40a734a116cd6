// Subject access requests (Art. 15) and their exports. A request is a small,
// non-identifying document (ids, status, dates, which participant failed); the export —
// everything collated — is one value sealed under the patient's key in its own document,
// deleted when it expires (7 days) and unreadable once the patient is erased.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { type SealedValue, outboxSchemaFields, outboxUpdate, sealedValueSchema, withOutbox } from '@praxis/platform';
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
}

export interface SarExportDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  sealed: SealedValue;
  bytes: number;
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
    ...outboxSchemaFields,
  },
  { collection: 'access_requests', versionKey: false, strict: 'throw' },
);
sarSchema.index({ tenantId: 1, patientId: 1, status: 1 });
sarSchema.index({ status: 1, expiresAt: 1 });
sarSchema.index({ tenantId: 1, createdAt: -1 });

const exportSchema = new Schema<SarExportDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    sealed: { type: sealedValueSchema, required: true },
    bytes: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'access_exports', versionKey: false, strict: 'throw' },
);
exportSchema.index({ tenantId: 1, patientId: 1 });

export interface SarModels {
  Request: Model<SarDoc>;
  Export: Model<SarExportDoc>;
}

export function sarModels(conn: Connection): SarModels {
  return {
    Request: (conn.models.AccessRequest as Model<SarDoc>) ?? conn.model<SarDoc>('AccessRequest', sarSchema),
    Export: (conn.models.AccessExport as Model<SarExportDoc>) ?? conn.model<SarExportDoc>('AccessExport', exportSchema),
  };
}

const hidden = { _outbox: 0, _outboxPending: 0 };

export class SarRepository {
  constructor(
    readonly m: SarModels,
    /** The requests collection with per-document serialised updates (libs/platform/src/serial.ts). */
    readonly requests: MongooseCollection,
  ) {}

  async create(doc: SarDoc, events: EventEnvelope[]): Promise<void> {
    await this.m.Request.create(withOutbox(doc, events));
  }

  find(tenantId: string, id: string): Promise<SarDoc | null> {
    return this.m.Request.findOne({ _id: id, tenantId }, hidden).lean<SarDoc>().exec();
  }

  /** The practice's requests, newest first (optionally one patient's). */
  list(tenantId: string, limit: number, patientId?: string): Promise<SarDoc[]> {
    return this.m.Request.find({ tenantId, ...(patientId ? { patientId } : {}) }, hidden)
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean<SarDoc[]>()
      .exec();
  }

  pendingForPatient(tenantId: string, patientId: string): Promise<SarDoc | null> {
    return this.m.Request.findOne({ tenantId, patientId, status: 'pending' }, hidden).lean<SarDoc>().exec();
  }

  /** Every pending request (the runner's work list, across practices by design). */
  allPending(limit = 100): Promise<SarDoc[]> {
    return this.m.Request.find({ status: 'pending' }, hidden).sort({ createdAt: 1 }).limit(limit).lean<SarDoc[]>().exec();
  }

  /** Completed requests whose export has expired (the runner's expiry list). */
  expiredBy(now: Date, limit = 100): Promise<SarDoc[]> {
    return this.m.Request.find({ status: 'completed', expiresAt: mongoose.trusted({ $lte: now }) }, hidden)
      .limit(limit)
      .lean<SarDoc[]>()
      .exec();
  }

  /** Store the sealed export, then mark the request completed with its event. */
  async complete(
    tenantId: string,
    id: string,
    exp: Omit<SarExportDoc, '_id' | 'tenantId'>,
    at: { completedAt: Date; expiresAt: Date },
    events: EventEnvelope[],
  ): Promise<boolean> {
    await this.m.Export.replaceOne({ _id: id, tenantId }, { ...exp, _id: id, tenantId }, { upsert: true });
    return this.transition(tenantId, id, 'pending', { status: 'completed', ...at }, events);
  }

  fail(tenantId: string, id: string, participant: string, events: EventEnvelope[]): Promise<boolean> {
    return this.transition(tenantId, id, 'pending', { status: 'failed', failedAt: new Date(), failedParticipant: participant }, events);
  }

  async expire(tenantId: string, id: string, events: EventEnvelope[]): Promise<boolean> {
    await this.m.Export.deleteOne({ _id: id, tenantId });
    return this.transition(tenantId, id, 'completed', { status: 'expired', expiredAt: new Date() }, events);
  }

  findExport(tenantId: string, id: string): Promise<SarExportDoc | null> {
    return this.m.Export.findOne({ _id: id, tenantId }).lean<SarExportDoc>().exec();
  }

  async deleteExportsOf(tenantId: string, patientId: string): Promise<number> {
    return (await this.m.Export.deleteMany({ tenantId, patientId })).deletedCount;
  }

  private async transition(tenantId: string, id: string, from: SarStatus, set: Partial<SarDoc>, events: EventEnvelope[]): Promise<boolean> {
    const outbox = outboxUpdate(events);
    const res = await this.requests.updateOne({ _id: id as never, tenantId, status: from }, {
      $set: { ...set, ...outbox.$set },
      $push: outbox.$push,
    } as never);
    return res.modifiedCount === 1;
  }
}
