// Erasure tombstones: what is left after messaging erased a patient (ids, times, actor,
// counts — nothing identifying), and the carrier of `messaging.patient.erased`, written
// in the same single-document write that marks the erasure complete.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { TombstoneRepository, modelOn, tombstoneSchemaFields } from '@praxis/platform';
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
    ...tombstoneSchemaFields,
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    messages: { type: Number, required: true },
    directMessages: { type: Number, required: true },
  },
  { collection: 'erasures', versionKey: false, strict: 'throw' },
);

export function erasureModel(conn: Connection): Model<ErasureDoc> {
  return modelOn(conn, 'Erasure', erasureSchema);
}

const key = (tenantId: string, erasureId: string) => `${tenantId}:${erasureId}`;

export class ErasureRepository extends TombstoneRepository<ErasureDoc> {
  constructor(model: Model<ErasureDoc>, col: MongooseCollection) {
    super(model, { collection: col });
  }

  find(tenantId: string, erasureId: string): Promise<ErasureDoc | null> {
    return this.findDoc(tenantId, key(tenantId, erasureId));
  }

  begin(doc: Omit<ErasureDoc, '_id' | 'status' | 'startedAt'>, carried: EventEnvelope[]): Promise<ErasureDoc> {
    return this.beginTombstone({ ...doc, _id: key(doc.tenantId, doc.erasureId) }, carried);
  }

  complete(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void> {
    return this.completeTombstone(tenantId, key(tenantId, erasureId), events);
  }
}
