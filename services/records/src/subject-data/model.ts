// Tombstones: what is left after an erasure or a practice purge. Non-identifying (ids,
// times, actor, counts) and the carrier of the `records.patient.erased` /
// `records.tenant.destroyed` events, written in the same single-document write that marks
// the work complete. A pending tombstone is written first, so a crash half-way is resumed.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { outboxSchemaFields, outboxUpdate, withOutbox, isDuplicateKeyError } from '@praxis/platform';
import { type Connection, type Model, Schema, type Collection as MongooseCollection } from 'mongoose';

export interface ErasureCounts {
  notes: number;
  documents: number;
}

export interface ErasureDoc {
  _id: string;
  tenantId: string;
  erasureId: string;
  patientId: string;
  actor: Actor;
  status: 'pending' | 'completed';
  counts: ErasureCounts;
  startedAt: Date;
  completedAt?: Date;
}

export interface TenantPurgeDoc {
  _id: string;
  tenantId: string;
  status: 'pending' | 'completed';
  patients: number;
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
    counts: { notes: { type: Number, required: true }, documents: { type: Number, required: true } },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'erasures', versionKey: false, strict: 'throw' },
);
erasureSchema.index({ tenantId: 1, erasureId: 1 }, { unique: true });
erasureSchema.index({ tenantId: 1, patientId: 1 });

const tenantPurgeSchema = new Schema<TenantPurgeDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    status: { type: String, enum: ['pending', 'completed'], required: true },
    patients: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'tenant_purges', versionKey: false, strict: 'throw' },
);

export interface TombstoneModels {
  Erasure: Model<ErasureDoc>;
  TenantPurge: Model<TenantPurgeDoc>;
}

export function tombstoneModels(conn: Connection): TombstoneModels {
  return {
    Erasure: (conn.models.Erasure as Model<ErasureDoc>) ?? conn.model<ErasureDoc>('Erasure', erasureSchema),
    TenantPurge: (conn.models.TenantPurge as Model<TenantPurgeDoc>) ?? conn.model<TenantPurgeDoc>('TenantPurge', tenantPurgeSchema),
  };
}

const erasureKey = (tenantId: string, erasureId: string) => `${tenantId}:${erasureId}`;

export class TombstoneRepository {
  constructor(
    private readonly m: TombstoneModels,
    /** The collections with per-document serialised updates (see libs/platform/src/serial.ts). */
    private readonly cols: { erasures: MongooseCollection; purges: MongooseCollection },
  ) {}

  findErasure(tenantId: string, erasureId: string): Promise<ErasureDoc | null> {
    return this.m.Erasure.findOne({ _id: erasureKey(tenantId, erasureId), tenantId })
      .lean<ErasureDoc>()
      .exec();
  }

  findErasureOfPatient(tenantId: string, patientId: string): Promise<ErasureDoc | null> {
    return this.m.Erasure.findOne({ tenantId, patientId, status: 'completed' }).lean<ErasureDoc>().exec();
  }

  /** Start (or find) an erasure; carried-over events ride in the tombstone's outbox. */
  async beginErasure(
    tenantId: string,
    doc: Omit<ErasureDoc, '_id' | 'tenantId' | 'status' | 'startedAt'>,
    carried: EventEnvelope[],
  ): Promise<ErasureDoc> {
    const full: ErasureDoc = { ...doc, _id: erasureKey(tenantId, doc.erasureId), tenantId, status: 'pending', startedAt: new Date() };
    try {
      await this.m.Erasure.create(carried.length ? withOutbox(full, carried) : full);
      return full;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return (await this.findErasure(tenantId, doc.erasureId))!;
    }
  }

  async completeErasure(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void> {
    const outbox = outboxUpdate(events);
    await this.cols.erasures.updateOne({ _id: erasureKey(tenantId, erasureId) as never, tenantId, status: 'pending' }, {
      $set: { status: 'completed', completedAt: new Date(), ...outbox.$set },
      $push: outbox.$push,
    } as never);
  }

  findPurge(tenantId: string): Promise<TenantPurgeDoc | null> {
    return this.m.TenantPurge.findOne({ _id: tenantId, tenantId }).lean<TenantPurgeDoc>().exec();
  }

  async beginPurge(tenantId: string, patients: number, carried: EventEnvelope[]): Promise<TenantPurgeDoc> {
    const full: TenantPurgeDoc = { _id: tenantId, tenantId, status: 'pending', patients, startedAt: new Date() };
    try {
      await this.m.TenantPurge.create(carried.length ? withOutbox(full, carried) : full);
      return full;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return (await this.findPurge(tenantId))!;
    }
  }

  async completePurge(tenantId: string, events: EventEnvelope[]): Promise<void> {
    const outbox = outboxUpdate(events);
    await this.cols.purges.updateOne({ _id: tenantId as never, tenantId, status: 'pending' }, {
      $set: { status: 'completed', completedAt: new Date(), ...outbox.$set },
      $push: outbox.$push,
    } as never);
  }
}
