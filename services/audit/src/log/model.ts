// Storage of the audit log: one document per entry (append-only: this module has no
// update or delete of entries) and one chain-head document per tenant, moved forward
// only by compare-and-set. Every repository method takes the tenant id first.
import { isDuplicateKeyError } from '@praxis/platform';
import { type Connection, type Model, Schema, trusted } from 'mongoose';
import { type ChainEntry, type ChainEvent, GENESIS_HASH } from './chain';

export interface EntryDoc {
  tenantId: string;
  seq: number;
  eventId: string;
  type: string;
  /** occurredAt as a date, for time-range queries. */
  at: Date;
  actorId: string;
  actorKind: string;
  patientId?: string;
  prevHash: string;
  hash: string;
  /** The event exactly as received; hashed as it is. */
  event: ChainEvent;
  recordedAt: Date;
}

interface HeadDoc {
  _id: string;
  tenantId: string;
  seq: number;
  hash: string;
}

const entrySchema = new Schema<EntryDoc>(
  {
    tenantId: { type: String, required: true },
    seq: { type: Number, required: true },
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    at: { type: Date, required: true },
    actorId: { type: String, required: true },
    actorKind: { type: String, required: true },
    patientId: { type: String },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    recordedAt: { type: Date, required: true },
  },
  { collection: 'audit_entries', versionKey: false, strict: 'throw', minimize: false },
);
// Gapless and linear: one entry per (tenant, seq). Idempotent: one entry per (tenant, event).
entrySchema.index({ tenantId: 1, seq: 1 }, { unique: true });
entrySchema.index({ tenantId: 1, eventId: 1 }, { unique: true });
entrySchema.index({ tenantId: 1, patientId: 1, seq: 1 });
entrySchema.index({ tenantId: 1, actorId: 1, seq: 1 });
entrySchema.index({ tenantId: 1, type: 1, seq: 1 });

const headSchema = new Schema<HeadDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
  },
  { collection: 'audit_heads', versionKey: false, strict: 'throw' },
);

export interface EntryFilter {
  patientId?: string;
  actorId?: string;
  type?: string;
  from?: Date;
  to?: Date;
  afterSeq?: number;
  beforeSeq?: number;
}

export function toEntryDoc(e: ChainEntry, recordedAt: Date): EntryDoc {
  const ev = e.event;
  return {
    tenantId: ev.tenantId,
    seq: e.seq,
    eventId: ev.id,
    type: ev.type,
    at: new Date(ev.occurredAt),
    actorId: ev.actor.id,
    actorKind: ev.actor.kind,
    ...(ev.subject?.patientId ? { patientId: ev.subject.patientId } : {}),
    prevHash: e.prevHash,
    hash: e.hash,
    event: ev,
    recordedAt,
  };
}

export function entryOf(doc: Pick<EntryDoc, 'seq' | 'prevHash' | 'hash' | 'event'>): ChainEntry {
  return { seq: doc.seq, prevHash: doc.prevHash, hash: doc.hash, event: doc.event };
}

export class AuditLogRepository {
  readonly entries: Model<EntryDoc>;
  readonly heads: Model<HeadDoc>;

  constructor(conn: Connection) {
    this.entries = (conn.models.AuditEntry as Model<EntryDoc>) ?? conn.model<EntryDoc>('AuditEntry', entrySchema);
    this.heads = (conn.models.AuditHead as Model<HeadDoc>) ?? conn.model<HeadDoc>('AuditHead', headSchema);
  }

  async init(): Promise<void> {
    await this.entries.createIndexes();
    await this.heads.createIndexes();
  }

  /** The tenant's chain head; seq 0 and the genesis hash for an empty log. */
  async head(tenantId: string): Promise<{ seq: number; hash: string }> {
    const h = await this.heads.findById(tenantId, { seq: 1, hash: 1 }).lean();
    return h ? { seq: h.seq, hash: h.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Compare-and-set the head from `expected` to `next`. The head document is created at
   * seq 0 on first use; a concurrent creator just means ours is a no-op.
   */
  async advanceHead(tenantId: string, expectedSeq: number, next: { seq: number; hash: string }): Promise<boolean> {
    if (expectedSeq === 0) {
      try {
        await this.heads.collection.insertOne({ _id: tenantId, tenantId, seq: 0, hash: GENESIS_HASH } as never);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    const r = await this.heads.collection.updateOne({ _id: tenantId, seq: expectedSeq } as never, { $set: { seq: next.seq, hash: next.hash } });
    return r.modifiedCount === 1;
  }

  /** Insert entries in order; stops at the first conflict. Returns whether all went in. */
  async insertEntries(docs: EntryDoc[]): Promise<{ ok: boolean; error?: unknown }> {
    try {
      await this.entries.collection.insertMany(docs, { ordered: true });
      return { ok: true };
    } catch (err) {
      if (isDuplicateKeyError(err) || (err as { writeErrors?: unknown[] }).writeErrors) return { ok: false, error: err };
      throw err;
    }
  }

  /** Which of these event ids the tenant's log already holds. */
  async existingEventIds(tenantId: string, eventIds: string[]): Promise<Set<string>> {
    if (!eventIds.length) return new Set();
    const docs = await this.entries.collection
      .find({ tenantId, eventId: { $in: eventIds } }, { projection: { eventId: 1, _id: 0 } })
      .toArray();
    return new Set(docs.map((d) => d.eventId as string));
  }

  /** Entries after `seq`, in order (for head repair and verification). */
  async entriesAfter(tenantId: string, seq: number, limit: number, full = false): Promise<EntryDoc[]> {
    const projection = full ? { _id: 0, seq: 1, prevHash: 1, hash: 1, event: 1 } : { _id: 0, seq: 1, hash: 1 };
    return this.entries.find({ tenantId, seq: trusted({ $gt: seq }) }, projection).sort({ seq: 1 }).limit(limit).lean<EntryDoc[]>();
  }

  /** The last entry actually stored (the head document may lag it after a crash). */
  async lastEntry(tenantId: string): Promise<{ seq: number; hash: string } | undefined> {
    const d = await this.entries.findOne({ tenantId }, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean();
    return d ? { seq: d.seq, hash: d.hash } : undefined;
  }

  async count(tenantId: string): Promise<number> {
    return this.entries.countDocuments({ tenantId });
  }

  /** Every entry in seq order, as a stream (verification and export). */
  cursor(tenantId: string, upToSeq?: number) {
    return this.entries
      .find({ tenantId, ...(upToSeq !== undefined ? { seq: trusted({ $lte: upToSeq }) } : {}) }, { _id: 0, seq: 1, prevHash: 1, hash: 1, event: 1 })
      .sort({ seq: 1 })
      .lean<EntryDoc>()
      .cursor({ batchSize: 1000 });
  }

  async find(tenantId: string, f: EntryFilter, limit: number, order: 1 | -1): Promise<EntryDoc[]> {
    const q: Record<string, unknown> = { tenantId };
    if (f.patientId) q.patientId = f.patientId;
    if (f.actorId) q.actorId = f.actorId;
    if (f.type) q.type = f.type;
    if (f.from || f.to) q.at = trusted({ ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) });
    if (f.afterSeq !== undefined || f.beforeSeq !== undefined) {
      q.seq = trusted({ ...(f.afterSeq !== undefined ? { $gt: f.afterSeq } : {}), ...(f.beforeSeq !== undefined ? { $lt: f.beforeSeq } : {}) });
    }
    return this.entries.find(q).sort({ seq: order }).limit(limit).lean<EntryDoc[]>();
  }

  async tenantsWithHeads(): Promise<string[]> {
    const docs = await this.heads.find({}, { _id: 1 }).lean();
    return docs.map((d) => d._id);
  }
}
