// Erasure requests (Art. 17): the saga's state, stored so that a crash resumes it. Per
// participant that erases: pending or erased with its counts. Ids, status, counts and
// times only; the reason is sealed under the patient's key, so it goes with the patient.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { type SealedValue, TenantRepository, modelOn, outboxSchemaFields, sealedValueSchema, withoutOutbox } from '@praxis/platform';
import mongoose, { type Connection, type Model, Schema, type Collection as MongooseCollection } from 'mongoose';

export type ErasureStatus = 'pending' | 'completed' | 'failed';

export interface ParticipantState {
  status: 'pending' | 'erased';
  counts?: Record<string, number>;
  answeredAt?: Date;
}

export interface ErasureDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  actor: Actor;
  reason: SealedValue;
  status: ErasureStatus;
  services: Record<string, ParticipantState>;
  createdAt: Date;
  deadlineAt: Date;
  lastSentAt: Date;
  sends: number;
  completedAt?: Date;
  failedAt?: Date;
  missing?: string[];
}

const erasureSchema = new Schema<ErasureDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    reason: { type: sealedValueSchema, required: true },
    status: { type: String, enum: ['pending', 'completed', 'failed'], required: true },
    services: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    deadlineAt: { type: Date, required: true },
    lastSentAt: { type: Date, required: true },
    sends: { type: Number, required: true },
    completedAt: { type: Date },
    failedAt: { type: Date },
    missing: { type: [String], default: undefined },
    ...outboxSchemaFields,
  },
  { collection: 'erasure_requests', versionKey: false, strict: 'throw', minimize: false },
);
erasureSchema.index({ tenantId: 1, patientId: 1, status: 1 });
erasureSchema.index({ status: 1, createdAt: 1 });
erasureSchema.index({ tenantId: 1, _id: -1 });

export function erasureModel(conn: Connection): Model<ErasureDoc> {
  return modelOn(conn, 'ErasureRequest', erasureSchema);
}

export class ErasureRepository extends TenantRepository<ErasureDoc> {
  constructor(
    model: Model<ErasureDoc>,
    /** The collection with per-document serialised updates (libs/platform/src/serial.ts). */
    col: MongooseCollection,
  ) {
    super(model, { collection: col });
  }

  create(doc: ErasureDoc, events: EventEnvelope[]): Promise<void> {
    return this.insert(doc, events);
  }

  find(tenantId: string, id: string): Promise<ErasureDoc | null> {
    return this.findDoc(tenantId, id, {}, withoutOutbox);
  }

  /** A pending or completed erasure of this patient (a second request joins it). */
  activeForPatient(tenantId: string, patientId: string): Promise<ErasureDoc | null> {
    return this.model
      .findOne(this.scope(tenantId, { patientId, status: mongoose.trusted({ $in: ['pending', 'completed'] }) }), withoutOutbox)
      .lean<ErasureDoc>()
      .exec();
  }

  /** Newest first, `limit` of them after the position `before` (an id: uuidv7, so id order is creation order). */
  list(tenantId: string, limit: number, before?: string): Promise<ErasureDoc[]> {
    return this.findMany(tenantId, before ? { _id: mongoose.trusted({ $lt: before }) } : {}, {
      sort: { _id: -1 },
      limit,
      projection: withoutOutbox,
    });
  }

  /** Every practice's pending erasures (the runner's sweep: the one read across tenants). */
  allPending(limit = 100): Promise<ErasureDoc[]> {
    return this.model.find({ status: 'pending' }, withoutOutbox).sort({ createdAt: 1 }).limit(limit).lean<ErasureDoc[]>().exec();
  }

  /** Record one participant's answer; null when the erasure is unknown or not pending. */
  recordAnswer(tenantId: string, id: string, service: string, counts: Record<string, number>): Promise<ErasureDoc | null> {
    return this.updateDoc(tenantId, id, { $set: { [`services.${service}`]: { status: 'erased', counts, answeredAt: new Date() } } }, [], {
      status: 'pending',
      [`services.${service}.status`]: 'pending',
    });
  }

  transition(tenantId: string, id: string, set: Partial<ErasureDoc>, events: EventEnvelope[]): Promise<boolean> {
    return this.updateIf(tenantId, id, { $set: set }, events, { status: 'pending' });
  }

  /** Send the request again (to participants that have not answered). */
  resend(tenantId: string, id: string, events: EventEnvelope[]): Promise<boolean> {
    return this.updateIf(tenantId, id, { $set: { lastSentAt: new Date() }, $inc: { sends: 1 } }, events, { status: 'pending' });
  }
}
