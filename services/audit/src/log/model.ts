// Storage of the audit log: one document per entry (append-only: this module has no
// update or delete of entries) and one chain-head document per tenant, moved forward
// only by compare-and-set. Every repository method takes the tenant id first.
import { isDuplicateKeyError, modelOn } from '@praxis/platform';
import { type Connection, type Model, Schema, trusted } from 'mongoose';
import { canonicalJson } from './canonical';
import { type ChainEntry, type ChainEvent, GENESIS_HASH } from './chain';

export interface EntryDoc {
  /** entryKey(tenantId, seq): every hot-path read is by _id (FerretDB only pushes _id down). */
  _id: string;
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
  /**
   * The event as received. Stored as `eventJson`, its canonical JSON text, which is what
   * the hash covers byte for byte; entries stored before that kept it as a document here.
   * Reads give both (readEntry).
   */
  event: ChainEvent;
  eventJson?: string;
  recordedAt: Date;
}

/** An entry as it is inserted: the event only as its canonical text. */
export type StoredEntryDoc = Omit<EntryDoc, 'event'> & { eventJson: string };

interface HeadDoc {
  _id: string;
  tenantId: string;
  seq: number;
  hash: string;
}

const entrySchema = new Schema<EntryDoc>(
  {
    _id: { type: String, required: true },
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
    event: { type: Schema.Types.Mixed },
    eventJson: { type: String },
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
  /** Any of these types (a list the service itself made, never a caller's). */
  types?: string[];
  from?: Date;
  to?: Date;
  afterSeq?: number;
  beforeSeq?: number;
}

const SEQ_WIDTH = 15;
/** What verification, export and checkpoints read of an entry. */
const FULL_ENTRY = { seq: 1, prevHash: 1, hash: 1, event: 1, eventJson: 1, tenantId: 1 } as const;
/** Seqs per range that `all` reads at a time (and one more range ahead): a power of ten. */
const READ_CHUNK = 10_000;
/** Ranges `all` keeps requested ahead of the one being read. */
const READ_AHEAD = 2;

/** Entries per insert command: FerretDB's internal insert batch (see insertEntries). */
export const INSERT_CHUNK = 100;

/**
 * The entry's _id: tenant id, `|`, zero-padded seq. Unique per (tenant, seq) by itself,
 * and ordered by seq within a tenant, so a tenant's log is an _id range.
 */
export function entryKey(tenantId: string, seq: number): string {
  return `${tenantId}|${String(seq).padStart(SEQ_WIDTH, '0')}`;
}

export function toEntryDoc(e: ChainEntry, recordedAt: Date): StoredEntryDoc {
  const ev = e.event;
  return {
    _id: entryKey(ev.tenantId, e.seq),
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
    eventJson: e.eventText ?? canonicalJson(ev),
    recordedAt,
  };
}

/**
 * A stored entry as read: `event` parsed from `eventJson` (or as stored by earlier
 * versions). A text that does not parse leaves `event` unset, for verification to report.
 */
export function readEntry<T extends Partial<Pick<EntryDoc, 'event' | 'eventJson'>>>(doc: T): T & { event: ChainEvent } {
  if (doc.event === undefined && typeof doc.eventJson === 'string') {
    try {
      doc.event = JSON.parse(doc.eventJson) as ChainEvent;
    } catch {
      // left unset: not a log entry
    }
  }
  return doc as T & { event: ChainEvent };
}

export function entryOf(doc: Pick<EntryDoc, 'seq' | 'prevHash' | 'hash'> & Partial<Pick<EntryDoc, 'event' | 'eventJson'>>): ChainEntry {
  const d = readEntry(doc);
  return {
    seq: d.seq,
    prevHash: d.prevHash,
    hash: d.hash,
    event: d.event,
    ...(typeof d.eventJson === 'string' ? { eventText: d.eventJson } : {}),
  };
}

export class AuditLogRepository {
  /** Seqs per range that `all` reads: a power of ten (a test may make it small). */
  readChunk = READ_CHUNK;
  readonly entries: Model<EntryDoc>;
  readonly heads: Model<HeadDoc>;

  constructor(conn: Connection) {
    this.entries = modelOn(conn, 'AuditEntry', entrySchema);
    this.heads = modelOn(conn, 'AuditHead', headSchema);
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
    const r = await this.heads.collection.updateOne({ _id: tenantId, seq: expectedSeq } as never, {
      $set: { seq: next.seq, hash: next.hash },
    });
    return r.modifiedCount === 1;
  }

  /** The chain heads of several tenants in one read by _id (the appender's batch). */
  async headsOf(tenantIds: string[]): Promise<Map<string, { seq: number; hash: string }>> {
    const found = await this.heads.collection.find({ _id: { $in: tenantIds } } as never, { projection: { seq: 1, hash: 1 } }).toArray();
    const heads = new Map<string, { seq: number; hash: string }>();
    for (const t of tenantIds) heads.set(t, { seq: 0, hash: GENESIS_HASH });
    for (const h of found) heads.set(h._id as unknown as string, { seq: h.seq as number, hash: h.hash as string });
    return heads;
  }

  /**
   * Compare-and-set several tenants' heads in one command (one statement per tenant, as
   * advanceHead). Returns the tenants whose head did not move (lost to another writer, or
   * a repairer): the caller repairs those.
   */
  async advanceHeads(moves: { tenantId: string; expectedSeq: number; next: { seq: number; hash: string } }[]): Promise<string[]> {
    const fresh = moves.filter((m) => m.expectedSeq === 0);
    if (fresh.length) {
      try {
        await this.heads.collection.insertMany(
          fresh.map((m) => ({ _id: m.tenantId, tenantId: m.tenantId, seq: 0, hash: GENESIS_HASH })) as never[],
          { ordered: false },
        );
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    // updateMany by _id (one document): FerretDB 1.24 without patch 0010 hangs on a
    // command of 100 or more single-document updates (docs/decisions/0005).
    const res = await this.heads.collection.bulkWrite(
      moves.map((m) => ({
        updateMany: { filter: { _id: m.tenantId, seq: m.expectedSeq }, update: { $set: { seq: m.next.seq, hash: m.next.hash } } },
      })) as never,
      { ordered: false },
    );
    if (res.modifiedCount === moves.length) return [];
    // Some did not move: which (one read by _id).
    const now = await this.headsOf(moves.map((m) => m.tenantId));
    return moves.filter((m) => now.get(m.tenantId)!.seq !== m.next.seq || now.get(m.tenantId)!.hash !== m.next.hash).map((m) => m.tenantId);
  }

  /** The stored hash of each of these entries (by _id; absent when not stored). */
  async storedHashes(keys: string[]): Promise<Map<string, string>> {
    const docs = await this.entries.collection.find({ _id: { $in: keys } } as never, { projection: { hash: 1 } }).toArray();
    return new Map(docs.map((d) => [d._id as unknown as string, d.hash as string]));
  }

  /**
   * Insert entries in order; stops at the first unique-index conflict. Returns how many
   * went in before it (`inserted`), or all of them.
   *
   * Sent in chunks of at most INSERT_CHUNK documents, each chunk only after the one before
   * it went in whole. FerretDB 1.24 splits an insert into batches of 100 internally and,
   * on a conflict, stops only the batch it is in: an ordered insert of 250 entries with a
   * conflict at index 50 stores 0–49 and 100–199, reports index 50, and leaves a hole
   * (docs/audit.md, "FerretDB and ordered inserts"). Within one batch it does stop.
   */
  async insertEntries(tenantId: string, docs: StoredEntryDoc[]): Promise<{ ok: boolean; inserted: number }> {
    if (docs.some((d) => d.tenantId !== tenantId)) throw new Error('entry of another tenant');
    return this.insertInOrder(docs);
  }

  /**
   * The appender's batch across tenants (each tenant's entries consecutive and in seq
   * order): inserted as insertEntries does, so one insert command (one SQLite commit)
   * carries several tenants' entries instead of one command per tenant.
   */
  async insertEntriesOfTenants(docs: StoredEntryDoc[]): Promise<{ ok: boolean; inserted: number }> {
    return this.insertInOrder(docs);
  }

  private async insertInOrder(docs: StoredEntryDoc[]): Promise<{ ok: boolean; inserted: number }> {
    for (let offset = 0; offset < docs.length; offset += INSERT_CHUNK) {
      const chunk = docs.slice(offset, offset + INSERT_CHUNK);
      const r = await this.insertChunk(chunk);
      if (!r.ok) return { ok: false, inserted: offset + r.inserted };
    }
    return { ok: true, inserted: docs.length };
  }

  private async insertChunk(docs: StoredEntryDoc[]): Promise<{ ok: boolean; inserted: number }> {
    try {
      await this.entries.collection.insertMany(docs as never[], { ordered: true });
      return { ok: true, inserted: docs.length };
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { index?: number; code?: number }[] | { index?: number; code?: number } }).writeErrors;
      const first = Array.isArray(writeErrors) ? writeErrors[0] : writeErrors;
      if (!isDuplicateKeyError(err) && first?.code !== 11000) throw err;
      if (typeof first?.index === 'number') return { ok: false, inserted: first.index };
      // The server did not say where it stopped: count our entries that are there.
      let inserted = 0;
      for (const d of docs) {
        const got = await this.entries.collection.findOne({ _id: d._id } as never, { projection: { eventId: 1 } });
        if (got?.eventId !== d.eventId) break;
        inserted++;
      }
      return { ok: false, inserted };
    }
  }

  /**
   * The last entry actually stored: the head, then forward over any entries stored after
   * it (the head may lag after a crash or a lost CAS). Reads by _id only.
   */
  async lastEntry(tenantId: string): Promise<{ seq: number; hash: string }> {
    let last = await this.head(tenantId);
    // Usually nothing follows the head: one lookup by _id. After a crash, jump over the
    // stored run a thousand at a time.
    while (await this.entryAt(tenantId, last.seq + 1)) {
      const from: number = last.seq;
      for (const d of await this.entriesBetween(tenantId, from, from + 1000, 1000, false)) {
        if (d.seq !== last.seq + 1) break;
        last = { seq: d.seq, hash: d.hash };
      }
      if (last.seq === from) break;
    }
    return last;
  }

  /**
   * Which of these events are in the tenant's log (unique index; scans on FerretDB, so
   * only on the rare path after an insert stopped on a redelivery, one query for all).
   */
  async loggedEvents(tenantId: string, eventIds: string[]): Promise<Set<string>> {
    if (!eventIds.length) return new Set();
    const docs = await this.entries.find({ tenantId, eventId: trusted({ $in: eventIds }) }, { _id: 0, eventId: 1 }).lean();
    return new Set(docs.map((d) => d.eventId));
  }

  /** The whole entry at a seq (by _id), if stored. */
  async fullEntryAt(tenantId: string, seq: number): Promise<ChainEntry | undefined> {
    const d = await this.entries.collection.findOne({ _id: entryKey(tenantId, seq) } as never, {
      projection: FULL_ENTRY,
    });
    return d && d.tenantId === tenantId ? entryOf(d as unknown as EntryDoc) : undefined;
  }

  /** The entry at a seq (by _id), if stored. */
  async entryAt(tenantId: string, seq: number): Promise<{ seq: number; hash: string; eventId: string } | undefined> {
    const d = await this.entries.collection.findOne({ _id: entryKey(tenantId, seq) } as never, {
      projection: { seq: 1, hash: 1, eventId: 1, tenantId: 1 },
    });
    return d && d.tenantId === tenantId ? { seq: d.seq as number, hash: d.hash as string, eventId: d.eventId as string } : undefined;
  }

  /**
   * Entries with afterSeq < seq <= upToSeq, in order: an _id range (checkpoints, head
   * repair after a crash). A scan on FerretDB: never once per append.
   */
  async entriesBetween(tenantId: string, afterSeq: number, upToSeq: number, limit: number, full = true): Promise<EntryDoc[]> {
    if (upToSeq <= afterSeq) return [];
    const fields = full ? FULL_ENTRY : { seq: 1, hash: 1, tenantId: 1 };
    const docs = await this.entries
      .find({ _id: trusted({ $gt: entryKey(tenantId, afterSeq), $lte: entryKey(tenantId, upToSeq) }) }, fields)
      .sort({ _id: 1 })
      .limit(limit)
      .lean<EntryDoc[]>();
    // A tenant id containing `|` could make another tenant's keys sort inside this range.
    return docs.filter((d) => d.tenantId === tenantId).map(readEntry);
  }

  /** Entries of the tenant (scans on FerretDB: tests and operators, not the hot path). */
  async count(tenantId: string): Promise<number> {
    return this.entries.countDocuments({ tenantId });
  }

  /**
   * Every entry of the tenant in seq order up to `upToSeq`, as a stream (verification and
   * export). Read in _id ranges of READ_CHUNK seqs aligned to it (k·10,000 … k·10,000 +
   * 9,999: both ends share all but the last digits, so the range is one tight search of the
   * _id index; FerretDB's string-range pushdown searches by the bounds' common prefix), the
   * next ranges requested while the caller works through the current one, so the database
   * reads ahead while the caller hashes. Every range up to `upToSeq` is read, so entries
   * past a gap still come.
   */
  async *all(tenantId: string, upToSeq: number): AsyncGenerator<EntryDoc> {
    const chunk = this.readChunk;
    const last = Math.min(upToSeq, 10 ** SEQ_WIDTH - 1);
    const range = (from: number) =>
      this.entries
        .find({ _id: trusted({ $gte: entryKey(tenantId, from), $lte: entryKey(tenantId, Math.min(from + chunk - 1, last)) }) }, FULL_ENTRY)
        .sort({ _id: 1 })
        .lean<EntryDoc[]>()
        .exec();
    // READ_AHEAD ranges in flight beyond the one the caller reads: the database works on
    // the next two (FerretDB serves each on its own connection, so on two cores) while the
    // caller hashes this one. Measured on 100,000 entries, machine otherwise idle: two
    // ahead 1.99–2.31 s, one ahead 2.89–3.10 s; on a busy machine neither is better.
    let next = 0;
    const inFlight: Promise<EntryDoc[]>[] = [];
    const fill = () => {
      for (; inFlight.length < READ_AHEAD && next <= last; next += chunk) inFlight.push(range(next));
    };
    try {
      fill();
      while (inFlight.length) {
        const docs: EntryDoc[] = await inFlight.shift()!;
        fill();
        // A tenant id containing `|` could make another tenant's keys sort inside this range.
        for (const d of docs) if (d.tenantId === tenantId) yield d;
      }
    } finally {
      // A caller that stopped early leaves reads ahead in flight: let them end quietly.
      for (const p of inFlight) void p.catch(() => undefined);
    }
  }

  async find(tenantId: string, f: EntryFilter, limit: number, order: 1 | -1): Promise<EntryDoc[]> {
    const q: Record<string, unknown> = { tenantId };
    if (f.patientId) q.patientId = f.patientId;
    if (f.actorId) q.actorId = f.actorId;
    if (f.type) q.type = f.type;
    else if (f.types) q.type = trusted({ $in: f.types });
    if (f.from || f.to) q.at = trusted({ ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) });
    if (f.afterSeq !== undefined || f.beforeSeq !== undefined) {
      q.seq = trusted({
        ...(f.afterSeq !== undefined ? { $gt: f.afterSeq } : {}),
        ...(f.beforeSeq !== undefined ? { $lt: f.beforeSeq } : {}),
      });
    }
    return (await this.entries.find(q, { _id: 0 }).sort({ seq: order }).limit(limit).lean<EntryDoc[]>()).map(readEntry);
  }

  async tenantsWithHeads(): Promise<string[]> {
    const docs = await this.heads.find({}, { _id: 1 }).lean();
    return docs.map((d) => d._id);
  }
}
