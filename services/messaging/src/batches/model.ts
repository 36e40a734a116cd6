// Message batches: one document per batch holding the patient ids (ids only, at most
// 5,000), the template, and whether it was cancelled. Its messages have the fixed ids
// `<batch>-<n>`, so expanding a batch again after a crash finds the ones already made.
import type { EventEnvelope } from '@praxis/contracts';
import { TenantRepository, modelOn, outboxSchemaFields, randomId } from '@praxis/platform';
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

/** As stored: the variables as { name, value } entries. */
type StoredBatch = Omit<BatchDoc, 'variables'> & { variables?: { name: string; value: string }[] };

const batchSchema = new Schema<StoredBatch>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    templateId: { type: String, required: true },
    // Stored as { name, value } entries: variable names contain dots (`appointment.date`),
    // which FerretDB (and MongoDB before 5.0) refuse in field names; FerretDB also refuses
    // nested arrays, so not [name, value] pairs either. A value may be empty: not `required`,
    // which mongoose reads as non-empty for strings.
    variables: {
      type: [{ _id: false, name: { type: String, required: true }, value: { type: String, default: '' } }],
      default: undefined,
    },
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

export function batchModel(conn: Connection): Model<StoredBatch> {
  return modelOn(conn, 'Batch', batchSchema);
}

export const newBatchId = () => randomId('bat').replace(/-/g, '_');
export const batchMessageId = (batchId: string, n: number) => `${batchId}-${n}`;

/** A practice's batches: the platform's tenant repository (scoping, outbox writes) over the serialised collection. */
export class BatchRepository extends TenantRepository<StoredBatch> {
  constructor(
    model: Model<StoredBatch>,
    /** Serialised like the relay's (FerretDB updates are not isolated). */
    col: MongooseCollection,
  ) {
    super(model, { collection: col });
  }

  async create(doc: BatchDoc, events: EventEnvelope[]): Promise<void> {
    const { variables, ...rest } = doc;
    await this.insert(
      { ...rest, ...(variables ? { variables: Object.entries(variables).map(([name, value]) => ({ name, value })) } : {}) },
      events,
    );
  }

  async find(tenantId: string, id: string): Promise<BatchDoc | null> {
    return fromStored(await this.findDoc(tenantId, id, {}, { patientIds: 0 }));
  }

  async findWithPatients(tenantId: string, id: string): Promise<BatchDoc | null> {
    return fromStored(await this.findDoc(tenantId, id));
  }

  async cancelled(tenantId: string, id: string): Promise<boolean> {
    return (await this.model.exists(this.scope(tenantId, { _id: id, status: 'cancelled' }))) !== null;
  }

  /** Compare-and-set on the status; false when it was not `running`. */
  finish(tenantId: string, id: string, status: 'completed' | 'cancelled', events: EventEnvelope[]): Promise<boolean> {
    const $set = { status, [status === 'completed' ? 'completedAt' : 'cancelledAt']: new Date() };
    return this.updateIf(tenantId, id, { $set }, events, { status: 'running' });
  }

  async markExpanded(tenantId: string, id: string): Promise<void> {
    await this.updateIf(tenantId, id, { $set: { expanded: true } }, []);
  }
}

function fromStored(doc: StoredBatch | null): BatchDoc | null {
  if (!doc) return null;
  const { variables, ...rest } = doc;
  return { ...rest, ...(variables ? { variables: Object.fromEntries(variables.map((v) => [v.name, v.value])) } : {}) };
}
