// Consent's own erasure tombstones: what is left of its part of a patient after an
// erasure (ids, counts, times) and the carrier of `consent.patient.erased`. A pending
// tombstone is written first, so a crash half-way is resumed on redelivery.
import type { EventEnvelope } from '@praxis/contracts';
import { TombstoneRepository, modelOn, tombstoneSchemaFields } from '@praxis/platform';
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
    ...tombstoneSchemaFields,
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    counts: { type: Schema.Types.Mixed },
  },
  { collection: 'own_erasures', versionKey: false, strict: 'throw' },
);

export function ownErasureModel(conn: Connection): Model<OwnErasureDoc> {
  return modelOn(conn, 'OwnErasure', schema);
}

const key = (tenantId: string, erasureId: string) => `${tenantId}:${erasureId}`;

export class OwnErasureRepository extends TombstoneRepository<OwnErasureDoc> {
  constructor(model: Model<OwnErasureDoc>, col: MongooseCollection) {
    super(model, { collection: col });
  }

  begin(tenantId: string, erasureId: string, patientId: string, carried: EventEnvelope[]): Promise<OwnErasureDoc> {
    return this.beginTombstone({ _id: key(tenantId, erasureId), tenantId, erasureId, patientId }, carried);
  }

  complete(tenantId: string, erasureId: string, counts: NonNullable<OwnErasureDoc['counts']>, events: EventEnvelope[]): Promise<void> {
    return this.completeTombstone(tenantId, key(tenantId, erasureId), events, { counts });
  }
}
