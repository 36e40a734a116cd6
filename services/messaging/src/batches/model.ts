// Message batches: one document per batch holding the patient ids (ids only, at most
// 5,000), the template, and whether it was cancelled. Its messages have the fixed ids
// `<batch>-<n>`, so expanding a batch again after a crash finds the ones already made.
import type { EventEnvelope } from '@praxis/contracts';
import { outboxSchemaFields, outboxUpdate, randomId, withOutbox } from '@praxis/platform';
import { type Collection as MongooseCollection, type Connection, type Model, Schema } from 'mongoose';
import type { Channel } from '../messages/model';

export type BatchStatus = 'running' | 'completed' | 'cancelled';

export interface BatchDoc {
  _id: string;
  tenantId: string;
  channel: Channel;
  templateId: string;
  variables?: Record<string, string>;
  patientIds: string[];
  total: number;
  status: BatchStatus;
  /** Every patient has a message (sent, queued or recorded as not sent). */
  expanded: boolean;
  createdBy: string;
  actor: { kind: string; id: string; onBehalfOf?: string };
  createdAt: Date;
  cancelledAt?: Date;
  completedAt?: Date;
}

const batchSchema = new Schema<BatchDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    templateId: { type: String, required: true },
    variables: { type: Schema.Types.Mixed },
    patientIds: { type: [String], required: true },
    total: { type: Number, required: true },
    status: { type: String, enum: ['running', 'completed', 'cancelled'], required: true },
    expanded: { type: Boolean, required: true },
    createdBy: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    cancelledAt: { type: Date },
    completedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'batches', versionKey: false, strict: 'throw' },
);

export function batchModel(conn: Connection): Model<BatchDoc> {
  return (conn.models.Batch as Model<BatchDoc>) ?? conn.model<BatchDoc>('Batch', batchSchema);
}

export const newBatchId = () => randomId('bat').replace(/-/g, '_');
export const batchMessageId = (batchId: string, n: number) => `${batchId}-${n}`;

export class BatchRepository {
  constructor(
    private readonly model: Model<BatchDoc>,
    /** Serialised like the relay's (FerretDB updates are not isolated). */
    private readonly col: MongooseCollection,
  ) {}

  async create(doc: BatchDoc, events: EventEnvelope[]): Promise<void> {
    await this.model.create(withOutbox(doc, events));
  }

  find(tenantId: string, id: string): Promise<BatchDoc | null> {
    return this.model.findOne({ _id: id, tenantId }, { patientIds: 0 }).lean<BatchDoc>().exec();
  }

  findWithPatients(tenantId: string, id: string): Promise<BatchDoc | null> {
    return this.model.findOne({ _id: id, tenantId }).lean<BatchDoc>().exec();
  }

  async cancelled(tenantId: string, id: string): Promise<boolean> {
    return (await this.model.exists({ _id: id, tenantId, status: 'cancelled' })) !== null;
  }

  /** Compare-and-set on the status; false when it was not `running`. */
  async finish(tenantId: string, id: string, status: 'completed' | 'cancelled', events: EventEnvelope[]): Promise<boolean> {
    const o = outboxUpdate(events);
    const res = await this.col.updateOne(
      { _id: id as never, tenantId, status: 'running' } as never,
      { $set: { status, [status === 'completed' ? 'completedAt' : 'cancelledAt']: new Date(), ...o.$set }, $push: o.$push } as never,
    );
    return res.matchedCount === 1;
  }

  async markExpanded(tenantId: string, id: string): Promise<void> {
    await this.col.updateOne({ _id: id as never, tenantId } as never, { $set: { expanded: true } } as never);
  }
}
