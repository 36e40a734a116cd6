// The SMS credit ledger of a practice: append-only entries, each holding the balance after
// it, numbered 1, 2, 3… per practice with `_id = <tenant>|<seq>`. Appending is a
// compare-and-set on that unique `_id`: a writer reads the head (seq n, balance b), checks
// b + delta ≥ 0 and inserts seq n+1; if another writer took n+1 first the insert fails on
// the unique key and it tries again on top of the new head. An insert is atomic on FerretDB
// (unlike its updates, docs/platform.md), so the balance can never go below zero, however
// many processes spend at once. Each entry also carries a unique `(tenant, kind, ref)` —
// one reservation and one refund per message, one purchase per purchase id — so a retried
// operation (a redelivered event, a crash) is recorded once.
import type { EventEnvelope } from '@praxis/contracts';
import { isDuplicateKeyError, modelOn, outboxSchemaFields, TenantRepository } from '@praxis/platform';
import { type Connection, type Model, Schema, trusted } from 'mongoose';

export type LedgerKind = 'purchase' | 'reservation' | 'spend' | 'refund';

export interface LedgerEntryDoc {
  _id: string;
  tenantId: string;
  seq: number;
  kind: LedgerKind;
  /** What the entry is for: a purchase id or a message id. */
  ref: string;
  delta: number;
  balance: number;
  actor: string;
  at: Date;
}

const ledgerSchema = new Schema<LedgerEntryDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    seq: { type: Number, required: true },
    kind: { type: String, enum: ['purchase', 'reservation', 'spend', 'refund'], required: true },
    ref: { type: String, required: true },
    delta: { type: Number, required: true },
    balance: { type: Number, required: true },
    actor: { type: String, required: true },
    at: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'sms_credit_ledger', versionKey: false, strict: 'throw' },
);
ledgerSchema.index({ tenantId: 1, kind: 1, ref: 1 }, { unique: true });
ledgerSchema.index({ tenantId: 1, seq: -1 });
// The sweep for abandoned reservations reads them by time across practices (credits/use-cases.ts).
ledgerSchema.index({ kind: 1, at: 1 });

/** How far the sweep for abandoned reservations has looked: one document per sweep. */
interface SweepMarkDoc {
  _id: string;
  upTo: Date;
}

const sweepMarkSchema = new Schema<SweepMarkDoc>(
  { _id: { type: String, required: true }, upTo: { type: Date, required: true } },
  { collection: 'sms_credit_sweeps', versionKey: false, strict: 'throw' },
);

export function sweepMarkModel(conn: Connection): Model<SweepMarkDoc> {
  return modelOn(conn, 'SmsCreditSweep', sweepMarkSchema);
}

/** Where a sweep has got to. Replicas share it; it only moves forward. */
export class SweepMarks {
  constructor(private readonly model: Model<SweepMarkDoc>) {}

  async get(name: string): Promise<Date | null> {
    return (await this.model.findOne({ _id: name }).lean<SweepMarkDoc>().exec())?.upTo ?? null;
  }

  async advance(name: string, upTo: Date): Promise<void> {
    await this.model.updateOne({ _id: name }, { $max: { upTo } }, { upsert: true }).exec();
  }
}

export function ledgerModel(conn: Connection): Model<LedgerEntryDoc> {
  return modelOn(conn, 'SmsCreditEntry', ledgerSchema);
}

const entryId = (tenantId: string, seq: number) => `${tenantId}|${seq}`;

export type AppendResult = { ok: true; entry: LedgerEntryDoc; repeated: boolean } | { ok: false; balance: number };

export class LedgerRepository extends TenantRepository<LedgerEntryDoc> {
  /** Last known head per tenant: a hint, always checked forward by `_id` equality. */
  private readonly heads = new Map<string, number>();

  /** The newest entry (null: no entries yet). Reads by `_id` from the hint forward. */
  async head(tenantId: string): Promise<LedgerEntryDoc | null> {
    let seq = this.heads.get(tenantId);
    let current: LedgerEntryDoc | null;
    if (seq === undefined) {
      current = await this.model.findOne(this.scope(tenantId)).sort({ seq: -1 }).lean<LedgerEntryDoc>().exec();
      if (!current) return null;
      seq = current.seq;
    } else {
      current = await this.findDoc(tenantId, entryId(tenantId, seq));
    }
    for (;;) {
      const next = await this.findDoc(tenantId, entryId(tenantId, seq + 1));
      if (!next) break;
      current = next;
      seq++;
    }
    this.heads.set(tenantId, seq);
    return current;
  }

  async balance(tenantId: string): Promise<number> {
    return (await this.head(tenantId))?.balance ?? 0;
  }

  /**
   * Reservations of every practice made after `after` and at or before `upTo`, oldest
   * first. A full page is cut before its last instant (the next page starts there), unless
   * the whole page is one instant.
   */
  async reservationsBetween(after: Date, upTo: Date, limit: number): Promise<Pick<LedgerEntryDoc, 'tenantId' | 'ref' | 'at'>[]> {
    const rows = await this.model
      .find({ kind: 'reservation', at: trusted({ $gt: after, $lte: upTo }) }, { _id: 0, tenantId: 1, ref: 1, at: 1 })
      .sort({ at: 1 })
      .limit(limit)
      .lean<Pick<LedgerEntryDoc, 'tenantId' | 'ref' | 'at'>[]>()
      .exec();
    if (rows.length < limit) return rows;
    // The caller goes on after the last time it was handed, so a page must end with every
    // reservation of its last millisecond: the page stops before that millisecond, or, when
    // the whole page is one millisecond, holds all of that millisecond's reservations.
    const last = rows.at(-1)!.at;
    const cut = rows.filter((r) => r.at.getTime() < last.getTime());
    if (cut.length) return cut;
    return this.model
      .find({ kind: 'reservation', at: last }, { _id: 0, tenantId: 1, ref: 1, at: 1 })
      .lean<Pick<LedgerEntryDoc, 'tenantId' | 'ref' | 'at'>[]>()
      .exec();
  }

  findByRef(tenantId: string, kind: LedgerKind, ref: string): Promise<LedgerEntryDoc | null> {
    return this.model.findOne(this.scope(tenantId, { kind, ref })).lean<LedgerEntryDoc>().exec();
  }

  /**
   * Append an entry unless it would take the balance below zero. Idempotent on
   * (kind, ref): repeating it answers the entry already made.
   */
  async append(
    tenantId: string,
    kind: LedgerKind,
    ref: string,
    delta: number,
    actor: string,
    events: (entry: { balance: number }) => EventEnvelope[] = () => [],
  ): Promise<AppendResult> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const head = await this.head(tenantId);
      const balance = head?.balance ?? 0;
      if (balance + delta < 0) {
        const earlier = await this.findByRef(tenantId, kind, ref);
        return earlier ? { ok: true, entry: earlier, repeated: true } : { ok: false, balance };
      }
      const seq = (head?.seq ?? 0) + 1;
      const entry: LedgerEntryDoc = {
        _id: entryId(tenantId, seq),
        tenantId,
        seq,
        kind,
        ref,
        delta,
        balance: balance + delta,
        actor,
        at: new Date(),
      };
      try {
        await this.insert(entry, events(entry));
        this.heads.set(tenantId, seq);
        return { ok: true, entry, repeated: false };
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        const earlier = await this.findByRef(tenantId, kind, ref);
        if (earlier) return { ok: true, entry: earlier, repeated: true };
        // Someone else took this sequence number: go again on top of theirs.
      }
    }
    throw new Error('the credit ledger is too busy; try again');
  }

  override async deleteAllForTenant(tenantId: string): Promise<number> {
    this.heads.delete(tenantId);
    return super.deleteAllForTenant(tenantId);
  }
}
