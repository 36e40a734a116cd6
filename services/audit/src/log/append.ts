// Appending events to a tenant's chain, safely with several audit replicas at once and
// without multi-document transactions (docs/audit.md, "Concurrency").
//
// Entry first, head second: entries are inserted under a unique (tenantId, seq) index, so
// two writers can never both own a seq; the chain head ({tenantId, seq, hash}) is then
// moved by compare-and-set. The head may lag the entries (a crash between the two
// writes, or a CAS lost to a repairer); anyone who trips over that repairs it from the
// entries themselves. A unique (tenantId, eventId) index keeps redeliveries out.
//
// Within one process, events are queued and appended in batches across tenants: one
// read of the heads not already known, entries of every tenant of the batch inserted
// together (insertMany in chunks of 100: one command and one commit carries several
// tenants' entries), one read to check they are stored, and one command moving every
// head. The head this process last moved is kept, so a busy tenant's head is not read
// again for each batch; a stale one (another replica appended meanwhile) only makes the
// insert stop on the unique seq, and that tenant then takes the careful path
// (appendBatch), which reads everything again.
import type { Logger, Metrics } from '@praxis/platform';
import { type ChainEntry, type ChainEvent, chainEntries } from './chain';
import { type AuditLogRepository, entryKey, toEntryDoc } from './model';

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
/** Tenants whose head this process keeps in memory (cleared beyond that). */
const MAX_KNOWN_HEADS = 10_000;
/** While events keep coming, heads are moved at most this often (and whenever the queue empties). */
const HEAD_EVERY_MS = 500;

/** The events in order, each id once (a batch may hold a redelivery of one of its own). */
function distinctById(events: ChainEvent[]): ChainEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

interface Known {
  /** The last entry this process chained and stored. */
  tip: { seq: number; hash: string };
  /** The head document as this process last read or moved it (behind `tip` until moved). */
  stored: { seq: number; hash: string };
}

interface Plan {
  tenantId: string;
  events: ChainEvent[];
  head: { seq: number; hash: string };
  stored: { seq: number; hash: string };
  entries: ChainEntry[];
  /** How many of `entries` the insert reported stored (a prefix). */
  inserted: number;
}

export class LogAppender {
  private queue: Pending[] = [];
  private draining = false;
  private readonly maxBatch: number;
  /** Each tenant's chain as this process last saw it. */
  private readonly heads = new Map<string, Known>();
  private lastMoved = 0;

  constructor(
    private readonly repo: AuditLogRepository,
    private readonly opts: AppendOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
  }

  /** Resolves once the event is in its tenant's chain (now or by an earlier delivery). */
  append(event: ChainEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        const byTenant = new Map<string, Pending[]>();
        for (const p of batch) {
          let ps = byTenant.get(p.event.tenantId);
          if (!ps) byTenant.set(p.event.tenantId, (ps = []));
          ps.push(p);
        }
        let failed: Map<string, unknown>;
        try {
          failed = await this.appendTenants(new Map([...byTenant].map(([t, ps]) => [t, ps.map((p) => p.event)])));
        } catch (err) {
          failed = new Map([...byTenant.keys()].map((t) => [t, err]));
        }
        for (const [t, ps] of byTenant) {
          const err = failed.get(t);
          for (const p of ps)
            if (failed.has(t)) p.reject(err);
            else p.resolve();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Append several tenants' events (each tenant's in order) together. Returns the tenants
   * whose events could not be appended, with the error; the others' are in their chains.
   */
  private async appendTenants(groups: Map<string, ChainEvent[]>): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const plans: Plan[] = [];
    try {
      const unknown = [...groups.keys()].filter((t) => !this.heads.has(t));
      const read = unknown.length ? await this.repo.headsOf(unknown) : new Map<string, { seq: number; hash: string }>();
      for (const [tenantId, all] of groups) {
        const events = distinctById(all);
        const known = this.heads.get(tenantId);
        const head = known?.tip ?? read.get(tenantId)!;
        plans.push({ tenantId, events, head, stored: known?.stored ?? head, entries: chainEntries(head, events), inserted: 0 });
      }
      const now = new Date();
      const res = await this.repo.insertEntriesOfTenants(plans.flatMap((p) => p.entries.map((e) => toEntryDoc(e, now))));
      let offset = 0;
      for (const p of plans) {
        p.inserted = res.ok ? p.entries.length : Math.max(0, Math.min(p.entries.length, res.inserted - offset));
        offset += p.entries.length;
      }
      // Trust what is stored, not what the insert reported: each tenant's last reported
      // entry is read back (one read for all, by _id) before its head moves over it.
      let landed = plans.filter((p) => p.inserted > 0);
      if (landed.length) {
        const stored = await this.repo.storedHashes(landed.map((p) => entryKey(p.tenantId, p.entries[p.inserted - 1]!.seq)));
        for (const p of landed) {
          if (stored.get(entryKey(p.tenantId, p.entries[p.inserted - 1]!.seq)) === p.entries[p.inserted - 1]!.hash) continue;
          this.opts.logger.warn({ tenantId: p.tenantId, reported: p.inserted }, 'insert reported entries that are not stored');
          this.opts.metrics?.counter('audit_insert_misreports_total', 'Inserts whose reported count disagreed with the stored log').inc();
          p.inserted = 0; // the careful path below finds what is there
        }
        landed = landed.filter((p) => p.inserted > 0);
      }
      for (const p of landed) {
        const last = p.entries[p.inserted - 1]!;
        this.heads.set(p.tenantId, { tip: { seq: last.seq, hash: last.hash }, stored: p.stored });
      }
      // The heads move together, and not after every batch while more events wait: an
      // update is a commit of its own per tenant. A head behind its entries is what a crash
      // between the two writes leaves too; whoever trips over it repairs it from the entries.
      const careful = plans.some((p) => p.inserted < p.entries.length);
      if (careful || !this.queue.length || Date.now() - this.lastMoved >= HEAD_EVERY_MS) await this.moveHeads();
      for (const p of landed) {
        const inserted = p.entries.slice(0, p.inserted);
        this.opts.metrics?.counter('audit_entries_appended_total', 'Entries appended to the log').inc(inserted.length);
        try {
          await this.opts.onAppended?.(p.tenantId, inserted);
        } catch (err) {
          this.opts.logger.warn({ err, tenantId: p.tenantId }, 'after-append hook failed');
        }
      }
    } catch (err) {
      // Nothing known for sure about these heads any more (one left behind is repaired).
      for (const t of groups.keys()) this.heads.delete(t);
      throw err;
    }
    // What did not go in (the insert stopped on a unique index: a redelivery, or a seq
    // another writer took): one tenant at a time, the careful way.
    for (const p of plans) {
      if (p.inserted === p.entries.length) continue;
      this.heads.delete(p.tenantId);
      this.opts.metrics
        ?.counter('audit_append_careful_total', 'Tenants of a batch appended one at a time after the insert stopped on a unique index')
        .inc();
      try {
        await this.appendBatch(p.tenantId, p.events.slice(p.inserted));
      } catch (err) {
        failed.set(p.tenantId, err);
      }
    }
    return failed;
  }

  /** Move every head this process left behind its entries: one command for all. */
  private async moveHeads(): Promise<void> {
    this.lastMoved = Date.now();
    const behind = [...this.heads].filter(([, k]) => k.tip.seq !== k.stored.seq);
    if (behind.length) {
      const lost = new Set(
        await this.repo.advanceHeads(behind.map(([tenantId, k]) => ({ tenantId, expectedSeq: k.stored.seq, next: k.tip }))),
      );
      for (const [tenantId, k] of behind) {
        if (!lost.has(tenantId)) {
          k.stored = k.tip;
          continue;
        }
        // Another writer (or a repairer) moved it: forget what we knew, repair from the entries.
        this.heads.delete(tenantId);
        await this.repairHead(tenantId);
      }
    }
    if (this.heads.size > MAX_KNOWN_HEADS) this.heads.clear();
  }

  /**
   * Append events (one tenant, in order); events already in the log are skipped. Reads
   * and writes by _id only, plus the unique indexes doing the arbitration, so the hot
   * path never scans (FerretDB pushes nothing else down).
   */
  async appendBatch(tenantId: string, events: ChainEvent[]): Promise<void> {
    this.heads.delete(tenantId);
    let pending = distinctById(events);
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
    return this.queue.length;
  }
}
