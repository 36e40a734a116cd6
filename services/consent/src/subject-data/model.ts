// Consent's own erasure tombstones: what is left of its part of a patient after an
// erasure (ids, counts, times) and the carrier of `consent.patient.erased`. A pending
// tombstone is written first, so a crash half-way is resumed on redelivery.
import type { EventEnvelope } from '@praxis/contracts';
import { isDuplicateKeyError, outboxSchemaFields, outboxUpdate, withOutbox } from '@praxis/platform';
import { type Connection, type Model, Schema, type Collection as MongooseCollection } from 'mongoose';

export interface OwnErasureDoc {
  _id: string;
  tenantId: string;
  erasureId: string;
  patientId: string;
  status: 'pending' | 'completed';
  counts?: { preferences: number; codes: number; notices: number; exports: number };
  startedAt: Date;
  completedAt?: Date;
}

const schema = new Schema<OwnErasureDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    status: { type: String, enum: ['pending', 'completed'], required: true },
    counts: { type: Schema.Types.Mixed },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'own_erasures', versionKey: false, strict: 'throw' },
);

export function ownErasureModel(conn: Connection): Model<OwnErasureDoc> {
  return (conn.models.OwnErasure as Model<OwnErasureDoc>) ?? conn.model<OwnErasureDoc>('OwnErasure', schema);
}

const key = (tenantId: string, erasureId: string) => `${tenantId}:${erasureId}`;

export class OwnErasureRepository {
  constructor(
    readonly model: Model<OwnErasureDoc>,
    readonly col: MongooseCollection,
  ) {}

  async begin(tenantId: string, erasureId: string, patientId: string, carried: EventEnvelope[]): Promise<OwnErasureDoc> {
    const doc: OwnErasureDoc = { _id: key(tenantId, erasureId), tenantId, erasureId, patientId, status: 'pending', startedAt: new Date() };
    try {
      await this.model.create(carried.length ? withOutbox(doc, carried) : doc);
      return doc;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return (await this.model
        .findOne({ _id: key(tenantId, erasureId), tenantId })
        .lean<OwnErasureDoc>()
        .exec())!;
    }
  }

  async complete(
    tenantId: string,
    erasureId: string,
    counts: NonNullable<OwnErasureDoc['counts']>,
    events: EventEnvelope[],
  ): Promise<void> {
    const outbox = outboxUpdate(events);
    await this.col.updateOne({ _id: key(tenantId, erasureId) as never, tenantId, status: 'pending' }, {
      $set: { status: 'completed', counts, completedAt: new Date(), ...outbox.$set },
      $push: outbox.$push,
    } as never);
  }
}
