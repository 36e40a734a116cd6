// Tombstones: what is left after an erasure or a practice purge. Non-identifying (ids,
// times, actor, counts) and the carrier of the `records.patient.erased` /
// `records.tenant.destroyed` events, written in the same single-document write that marks
// the work complete. A pending tombstone is written first, so a crash half-way is resumed.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { modelOn, TombstoneRepository as Tombstones, tombstoneSchemaFields } from '@praxis/platform';
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
    ...tombstoneSchemaFields,
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    counts: { notes: { type: Number, required: true }, documents: { type: Number, required: true } },
  },
  { collection: 'erasures', versionKey: false, strict: 'throw' },
);
erasureSchema.index({ tenantId: 1, erasureId: 1 }, { unique: true });
erasureSchema.index({ tenantId: 1, patientId: 1 });

const tenantPurgeSchema = new Schema<TenantPurgeDoc>(
  {
    ...tombstoneSchemaFields,
    patients: { type: Number, required: true },
  },
  { collection: 'tenant_purges', versionKey: false, strict: 'throw' },
);

export interface TombstoneModels {
  Erasure: Model<ErasureDoc>;
  TenantPurge: Model<TenantPurgeDoc>;
}

export function tombstoneModels(conn: Connection): TombstoneModels {
  return {
    Erasure: modelOn(conn, 'Erasure', erasureSchema),
    TenantPurge: modelOn(conn, 'TenantPurge', tenantPurgeSchema),
  };
}

const erasureKey = (tenantId: string, erasureId: string) => `${tenantId}:${erasureId}`;

class ErasureTombstones extends Tombstones<ErasureDoc> {
  find(tenantId: string, erasureId: string): Promise<ErasureDoc | null> {
    return this.findDoc(tenantId, erasureKey(tenantId, erasureId));
  }

  ofPatient(tenantId: string, patientId: string): Promise<ErasureDoc | null> {
    return this.model
      .findOne(this.scope(tenantId, { patientId, status: 'completed' }))
      .lean<ErasureDoc>()
      .exec();
  }

  begin(tenantId: string, doc: Omit<ErasureDoc, '_id' | 'tenantId' | 'status' | 'startedAt'>, carried: EventEnvelope[]) {
    return this.beginTombstone({ ...doc, _id: erasureKey(tenantId, doc.erasureId), tenantId }, carried);
  }

  complete(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void> {
    return this.completeTombstone(tenantId, erasureKey(tenantId, erasureId), events);
  }
}

/** A practice's purge: one tombstone per tenant, keyed by the tenant id. */
class PurgeTombstones extends Tombstones<TenantPurgeDoc> {
  find(tenantId: string): Promise<TenantPurgeDoc | null> {
    return this.findDoc(tenantId, tenantId);
  }

  begin(tenantId: string, patients: number, carried: EventEnvelope[]): Promise<TenantPurgeDoc> {
    return this.beginTombstone({ _id: tenantId, tenantId, patients }, carried);
  }

  complete(tenantId: string, events: EventEnvelope[]): Promise<void> {
    return this.completeTombstone(tenantId, tenantId, events);
  }
}

export class TombstoneRepository {
  private readonly erasures: ErasureTombstones;
  private readonly purges: PurgeTombstones;

  constructor(
    m: TombstoneModels,
    /** The collections with per-document serialised updates (see libs/platform/src/serial.ts). */
    cols: { erasures: MongooseCollection; purges: MongooseCollection },
  ) {
    this.erasures = new ErasureTombstones(m.Erasure, { collection: cols.erasures });
    this.purges = new PurgeTombstones(m.TenantPurge, { collection: cols.purges });
  }

  findErasure(tenantId: string, erasureId: string): Promise<ErasureDoc | null> {
    return this.erasures.find(tenantId, erasureId);
  }

  findErasureOfPatient(tenantId: string, patientId: string): Promise<ErasureDoc | null> {
    return this.erasures.ofPatient(tenantId, patientId);
  }

  /** Start (or find) an erasure; carried-over events ride in the tombstone's outbox. */
  beginErasure(
    tenantId: string,
    doc: Omit<ErasureDoc, '_id' | 'tenantId' | 'status' | 'startedAt'>,
    carried: EventEnvelope[],
  ): Promise<ErasureDoc> {
    return this.erasures.begin(tenantId, doc, carried);
  }

  completeErasure(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void> {
    return this.erasures.complete(tenantId, erasureId, events);
  }

  findPurge(tenantId: string): Promise<TenantPurgeDoc | null> {
    return this.purges.find(tenantId);
  }

  beginPurge(tenantId: string, patients: number, carried: EventEnvelope[]): Promise<TenantPurgeDoc> {
    return this.purges.begin(tenantId, patients, carried);
  }

  completePurge(tenantId: string, events: EventEnvelope[]): Promise<void> {
    return this.purges.complete(tenantId, events);
  }
}
