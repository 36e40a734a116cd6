// Appending events to a tenant's chain, safely with several audit replicas at once and
// without multi-document transactions (docs/audit.md, "Concurrency").
//
// Entry first, head second: entries are inserted under a unique (tenantId, seq) index, so
// two writers can never both own a seq; the chain head ({tenantId, seq, hash}) is then
// moved by compare-and-set. The head may lag the entries (a crash between the two
// writes, or a CAS lost to a repairer); anyone who trips over that repairs it from the
// entries themselves. A unique (tenantId, eventId) index keeps redeliveries out.
//
// Within one process, events of a tenant are queued and appended in batches (insertMany
// in chunks of 100, and one head update per batch), which is where the throughput comes
// from.
import type { Logger, Metrics } from '@praxis/platform';
import { type ChainEntry, type ChainEvent, chainEntries } from './chain';
import { type AuditLogRepository, toEntryDoc } from './model';

export interface AppendOptions {
  maxBatch?: number;
  /** Called after entries are durably in the chain (checkpoints hook in here). */
  onAppended?: (tenantId: string, entries: ChainEntry[]) => Promise<void> | void;
  logger: Logger;
  metrics?: Metrics;
}

interface Pending {
  event: ChainEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const MAX_ATTEMPTS = 200;

export class LogAppender {
  private readonly queues = new Map<string, Pending[]>();
  private readonly draining = new Set<string>();
  private readonly maxBatch: number;

  constructor(
    private readonly repo: AuditLogRepository,
    private readonly opts: AppendOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
  }

  /** Resolves once the event is in its tenant's chain (now or by an earlier delivery). */
  append(event: ChainEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      const tenantId = event.tenantId;
      let q = this.queues.get(tenantId);
      if (!q) this.queues.set(tenantId, (q = []));
      q.push({ event, resolve, reject });
      if (!this.draining.has(tenantId)) void this.drain(tenantId);
    });
  }

  private async drain(tenantId: string): Promise<void> {
    this.draining.add(tenantId);
    try {
      const q = this.queues.get(tenantId)!;
      while (q.length) {
        const batch = q.splice(0, this.maxBatch);
        try {
          await this.appendBatch(
            tenantId,
            batch.map((p) => p.event),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
      this.queues.delete(tenantId);
    } finally {
      this.draining.delete(tenantId);
    }
  }

  /**
   * Append events (one tenant, in order); events already in the log are skipped. Reads
   * and writes by _id only, plus the unique indexes doing the arbitration, so the hot
   * path never scans (FerretDB pushes nothing else down).
   */
  async appendBatch(tenantId: string, events: ChainEvent[]): Promise<void> {
    const seen = new Set<string>();
    let pending = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
    for (let attempt = 1; pending.length; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`could not append to the chain of ${tenantId} after ${MAX_ATTEMPTS} attempts`);
      const head = await this.repo.head(tenantId);
      const entries = chainEntries(head, pending);
      const now = new Date();
      const res = await this.repo.insertEntries(
        tenantId,
        entries.map((e) => toEntryDoc(e, now)),
      );
      // Trust what is stored, not what the insert reported: read the last reported entry
      // back (by _id) before moving the head over it, because moving the head over an
      // entry that is not there breaks the chain for good. A disagreement is logged and
      // counted (audit_insert_misreports_total).
      res.inserted = await this.storedPrefix(tenantId, entries.slice(0, res.inserted));
      const inserted = entries.slice(0, res.inserted);
      if (inserted.length) {
        const last = inserted[inserted.length - 1]!;
        if (!(await this.repo.advanceHead(tenantId, head.seq, { seq: last.seq, hash: last.hash }))) await this.repairHead(tenantId);
        this.opts.metrics?.counter('audit_entries_appended_total', 'Entries appended to the log').inc(inserted.length);
        try {
          await this.opts.onAppended?.(tenantId, inserted);
        } catch (err) {
          this.opts.logger.warn({ err, tenantId }, 'after-append hook failed');
        }
      }
      if (res.ok && res.inserted === entries.length) return;
      await this.checkStoppedThere(tenantId, entries, res.inserted);
      // The insert stopped at entry `res.inserted` on a unique index: either its seq is
      // taken (another writer's head was ahead of ours, or ours lagged), or its event is
      // already in the log (a redelivery). The entries before it are in and chained.
      const stoppedAt = head.seq + res.inserted + 1;
      const taken = await this.repo.entryAt(tenantId, stoppedAt);
      pending = pending.slice(res.inserted);
      if (taken && taken.eventId !== pending[0]!.id) {
        this.opts.metrics?.counter('audit_append_conflicts_total', 'Appends that lost a race for a seq').inc();
        await this.repairHead(tenantId);
        if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
        continue;
      }
      // Our own event at that seq, or its event id collided: a redelivery. After a broker
      // restart a whole prefetch window comes again, so drop every pending event already
      // in the log in one query, not one insert and one lookup per event.
      const logged = await this.repo.loggedEvents(
        tenantId,
        pending.map((e) => e.id),
      );
      if (logged.size) {
        this.opts.metrics?.counter('audit_duplicates_total', 'Events already in the log when delivered again').inc(logged.size);
        pending = pending.filter((e) => !logged.has(e.id));
      }
      // Otherwise nothing is at that seq and the event is not logged: the insert did not
      // take; chain the rest again onto the head (repaired if it lagged) and retry.
      await this.repairHead(tenantId);
    }
  }

  /**
   * An ordered insert that stopped at `stoppedAt` must have stored nothing after it. A
   * server that went on (FerretDB does past its internal batches, which insertEntries
   * keeps us within) leaves entries chained to one that is not there: say so loudly, since
   * verification will fail at that point.
   */
  private async checkStoppedThere(tenantId: string, entries: ChainEntry[], stoppedAt: number): Promise<void> {
    const last = entries[entries.length - 1];
    if (!last || stoppedAt >= entries.length - 1) return;
    if ((await this.repo.entryAt(tenantId, last.seq))?.hash !== last.hash) return;
    this.opts.logger.error(
      { tenantId, seq: entries[stoppedAt]!.seq },
      'the database stored entries after an ordered insert stopped: the chain has a hole',
    );
    this.opts.metrics?.counter('audit_stray_entries_total', 'Ordered inserts that stored entries past the one that failed').inc();
  }

  /**
   * How many of `entries` (consecutive seqs, reported inserted) are stored exactly as we
   * built them. Inserts are ordered and chunked (each chunk only after the one before went
   * in whole), so the last entry, stored as built, vouches for the ones before it: one
   * lookup by _id. (A range read would scan the whole collection on FerretDB, which only
   * pushes `_id` equality down.) Only on a disagreement are the entries walked one by one.
   */
  private async storedPrefix(tenantId: string, entries: ChainEntry[]): Promise<number> {
    const last = entries[entries.length - 1];
    if (!last) return 0;
    if ((await this.repo.entryAt(tenantId, last.seq))?.hash === last.hash) return entries.length;
    let n = 0;
    for (const e of entries) {
      if ((await this.repo.entryAt(tenantId, e.seq))?.hash !== e.hash) break;
      n++;
    }
    this.opts.logger.warn({ tenantId, reported: entries.length, stored: n }, 'insert reported more entries than are stored');
    this.opts.metrics?.counter('audit_insert_misreports_total', 'Inserts whose reported count disagreed with the stored log').inc();
    return n;
  }

  /** Move the head forward over entries stored after it (contiguous seqs, read by _id). */
  async repairHead(tenantId: string): Promise<{ seq: number; hash: string }> {
    for (;;) {
      const head = await this.repo.head(tenantId);
      const last = await this.repo.lastEntry(tenantId);
      if (last.seq === head.seq) return head;
      if (await this.repo.advanceHead(tenantId, head.seq, last)) return last;
    }
  }

  /** Events waiting in this process. */
  backlog(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
