// Erasure tombstones: what is left after messaging erased a patient (ids, times, actor,
// counts — nothing identifying), and the carrier of `messaging.patient.erased`, written
// in the same single-document write that marks the erasure complete.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { isDuplicateKeyError, outboxSchemaFields, outboxUpdate, withOutbox } from '@praxis/platform';
import { type Collection as MongooseCollection, type Connection, type Model, Schema } from 'mongoose';

export interface ErasureDoc {
  _id: string;
  tenantId: string;
  erasureId: string;
  patientId: string;
  actor: Actor;
  status: 'pending' | 'completed';
  messages: number;
  directMessages: number;
  startedAt: Date;
  completedAt?: Date;
}

const erasureSchema = new Schema<ErasureDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: ['pending', 'completed'], required: true },
    messages: { type: Number, required: true },
    directMessages: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'erasures', versionKey: false, strict: 'throw' },
);

export function erasureModel(conn: Connection): Model<ErasureDoc> {
  return (conn.models.Erasure as Model<ErasureDoc>) ?? conn.model<ErasureDoc>('Erasure', erasureSchema);
}

export class ErasureRepository {
  constructor(
    private readonly model: Model<ErasureDoc>,
    private readonly col: MongooseCollection,
  ) {}

  find(tenantId: string, erasureId: string): Promise<ErasureDoc | null> {
    return this.model
      .findOne({ _id: `${tenantId}:${erasureId}` })
      .lean<ErasureDoc>()
      .exec();
  }

  async begin(doc: Omit<ErasureDoc, '_id' | 'status' | 'startedAt'>, carried: EventEnvelope[]): Promise<ErasureDoc> {
    const full: ErasureDoc = { ...doc, _id: `${doc.tenantId}:${doc.erasureId}`, status: 'pending', startedAt: new Date() };
    try {
      await this.model.create(carried.length ? withOutbox(full, carried) : full);
      return full;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return (await this.find(doc.tenantId, doc.erasureId))!;
    }
  }

  async complete(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void> {
    const o = outboxUpdate(events);
    await this.col.updateOne(
      { _id: `${tenantId}:${erasureId}` as never, status: 'pending' } as never,
      { $set: { status: 'completed', completedAt: new Date(), ...o.$set }, $push: o.$push } as never,
    );
  }
}
