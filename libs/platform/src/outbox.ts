// The transactional outbox without transactions (ARCHITECTURE.md §4, docs/decisions/0001
// and 0005). An event describing a change is stored in the same document as the
// change, in one atomic single-document write (`_outbox` array + `_outboxPending` flag).
// Events with no document of their own (access events: "who viewed what") are inserted as
// their own document in an `outbox` collection before the data is returned. A relay
// publishes pending events with broker confirms and only then removes them, so an event
// is never lost: if the relay dies between publish and removal it is published again, and
// consumers are idempotent on the event id.
//
// Cost per event does not grow with the collection: the relay asks only
//   find({ _outboxPending: true })                      (index on _outboxPending; one
//                                                        cursor per pass, every collection)
//   updateMany({ _id: { $in }, '_outbox.<n-1>.id': { $in },
//                '_outbox.<n>': { $exists: false } })  (clean-up of a chunk: one statement per
//                                                        array length n, _id index)
//   find({ _id: { $in }, _outboxPending: true })        (only when a compare-and-set missed)
//   updateMany({ _id }, { $pullAll })                   (bulk; only after a concurrent change)
//   deleteMany({ _id: { $in } })                        (standalone outbox)
//   outbox_relayed: insertOne, find({ _id: { $gte: '' } }), deleteMany({ _id: { $in } })
//                                                       (a burst's published chunks, below)
//   insertOne / findOne / deleteOne by _id, deleteMany  (the lease; deleteMany by _id: { $in }
//                                                        and owner on a graceful stop)
// Publishes of a batch go out together and their confirms are awaited together.
// Per chunk of 500 events: one getMore (no sync), one confirm wait, one clean-up command
// (one SQLite commit per chunk with FerretDB patch 0010, one per document without;
// the standalone outbox: one deleteMany, one commit); the lease writes once per term.
// In a burst (a pass of several chunks) the clean-ups wait until the pass has published
// everything it read (up to maxDeferredCleanUp events): each chunk published meanwhile is
// recorded by one insert in outbox_relayed, which a replica taking over after a crash
// reads so that it does not publish those events again. The bus gets the burst at the
// cost of the read alone; the clean-ups (FerretDB's dearest part) follow.
// One replica relays at a time: it holds a lease made of short terms, each claimed by
// inserting a document with a unique _id (atomic on MongoDB and on FerretDB, which has
// no safe compare-and-set by update across processes). A replica that dies stops
// extending its lease; another takes the next term and publishes what was left.
import { type Actor, type EventData, type EventEnvelope, type EventType, assertEventData } from '@praxis/contracts';
import type { Gauge } from 'prom-client';
import type { Collection, Connection } from 'mongoose';
import { Schema } from 'mongoose';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bus } from './bus';
import { currentContext } from './context';
import { uuidv7 } from './ids';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { isDuplicateKeyError } from './mongo';

export const OUTBOX = '_outbox';
export const OUTBOX_PENDING = '_outboxPending';
/** A projection leaving a document's outbox out (what a read hands to its callers). */
export const withoutOutbox = { [OUTBOX]: 0, [OUTBOX_PENDING]: 0 } as const;

/** Schema fields to add to any mongoose schema whose documents carry outbox events. */
export const outboxSchemaFields = {
  [OUTBOX]: { type: [Schema.Types.Mixed], default: undefined, select: false },
  [OUTBOX_PENDING]: { type: Boolean, default: undefined, select: false, index: true },
};

export interface NewEvent<T extends EventType = EventType> {
  type: T;
  version?: number;
  tenantId: string;
  actor: Actor;
  subject?: { patientId?: string };
  /** Typed by the contract of `type` (libs/contracts), and validated again at run time. */
  data: EventData<T>;
  correlationId?: string;
  /** A fixed id (stableUuid) for an event that several replicas may write; otherwise a new UUID v7. */
  id?: string;
}

/** Build a validated envelope: UUID v7 id (unless given), now, and the current request as correlation id. */
export function makeEvent<T extends EventType>(e: NewEvent<T>): EventEnvelope<EventData<T>> & { type: T } {
  const version = e.version ?? 1;
  return {
    id: e.id ?? uuidv7(),
    type: e.type,
    version,
    occurredAt: new Date().toISOString(),
    tenantId: e.tenantId,
    actor: e.actor,
    ...(e.subject ? { subject: e.subject } : {}),
    correlationId: e.correlationId ?? currentContext()?.requestId ?? uuidv7(),
    data: assertEventData(e.type, version, e.data),
  };
}

/** A new document together with its events, for one insert. */
export function withOutbox<T extends object>(
  doc: T,
  events: EventEnvelope[],
): T & { [OUTBOX]: EventEnvelope[]; [OUTBOX_PENDING]: boolean } {
  return { ...doc, [OUTBOX]: events, [OUTBOX_PENDING]: true };
}

/** Update operators that append events to a document in the same atomic update. */
export function outboxUpdate(events: EventEnvelope[]): { $push: Record<string, unknown>; $set: Record<string, unknown> } {
  return { $push: { [OUTBOX]: { $each: events } }, $set: { [OUTBOX_PENDING]: true } };
}

export const STANDALONE_OUTBOX_COLLECTION = 'outbox';

/**
 * Store events that have no document of their own (access events) durably, before the
 * caller returns data. One insert per event set; the relay publishes and deletes it.
 */
export async function recordEvents(conn: Connection, events: EventEnvelope[]): Promise<void> {
  if (!events.length) return;
  await conn.collection(STANDALONE_OUTBOX_COLLECTION).insertOne({
    _id: events[0]!.id as unknown as never,
    [OUTBOX]: events,
    [OUTBOX_PENDING]: true,
    createdAt: new Date(),
  });
}

export const OUTBOX_LEASES_COLLECTION = 'outbox_leases';

/**
 * Events a pass has published and whose documents it has not yet cleaned up (one entry
 * per chunk of a burst; empty between passes), so that a replica taking over after a
 * crash does not publish them again.
 */
export const OUTBOX_RELAYED_COLLECTION = 'outbox_relayed';

type Doc = Record<string, unknown> & { _id: unknown };

/** What one pass knows: events already published, and the `outbox_relayed` entries it read. */
interface Pass {
  relayed: Set<string>;
  loaded: string[] | undefined;
}

/**
 * The relay's lease: time is cut into terms of `termMs`; whoever inserts the document
 * `<name>|<term>` first holds that term (a unique _id: atomic on MongoDB and FerretDB).
 * The holder claims the next term half a term before it starts (time enough for a slow
 * database to take the insert), so in the steady state it keeps the lease; the others try
 * each term only once it has begun, and every `termMs / 4` during it (to notice a
 * release). A holder publishes only while the lease covers now and the next `termMs / 8`
 * (margin for clock skew between replicas).
 */
export class RelayLease {
  private readonly held = new Set<number>();
  private readonly lastTry = new Map<number, number>();
  /** After taking over from another replica: not before this time (its clean-ups land first). */
  private notBefore = 0;

  constructor(
    private readonly col: Collection,
    readonly owner: string,
    readonly termMs: number,
    private readonly name = 'relay',
  ) {}

  private term(t: number): number {
    return Math.floor(t / this.termMs);
  }

  private key(k: number): string {
    return `${this.name}|${k}`;
  }

  /** True while this replica may publish: it holds the lease now and for the margin ahead. */
  holds(now = Date.now()): boolean {
    return now >= this.notBefore && this.held.has(this.term(now)) && this.held.has(this.term(now + this.termMs / 8));
  }

  /** Take or extend the lease where due (a database write only at term boundaries). */
  async refresh(now = Date.now()): Promise<boolean> {
    const k = this.term(now);
    for (const t of this.held) if (t < k) this.held.delete(t);
    for (const t of this.lastTry.keys()) if (t < k) this.lastTry.delete(t);
    if (!this.held.has(k) && now - (this.lastTry.get(k) ?? -Infinity) >= this.termMs / 4) await this.take(k, now);
    if (this.held.has(k) && !this.held.has(k + 1) && now >= (k + 1) * this.termMs - this.termMs / 2) await this.take(k + 1, now);
    return this.holds();
  }

  /** Milliseconds until refresh() may have something to do. */
  msUntilDue(now = Date.now()): number {
    if (now < this.notBefore) return Math.max(1, this.notBefore - now);
    const k = this.term(now);
    const end = (k + 1) * this.termMs;
    if (this.held.has(k) && !this.held.has(k + 1)) return Math.max(1, end - this.termMs / 2 - now);
    if (!this.held.has(k)) return Math.max(1, Math.min(end - now, (this.lastTry.get(k) ?? now) + this.termMs / 4 - now));
    return Math.max(1, end - now);
  }

  private async take(k: number, now: number): Promise<void> {
    this.lastTry.set(k, now);
    const renewal = this.held.has(k - 1);
    try {
      await this.col.insertOne({ _id: this.key(k) as never, owner: this.owner, at: new Date() });
      this.held.add(k);
      // Terms long past are of no use to anyone.
      void this.col.deleteOne({ _id: this.key(k - 3) as never }).catch(() => undefined);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // Ours already (an insert that went in although its answer was lost)?
      const doc = await this.col.findOne({ _id: this.key(k) as never }, { projection: { owner: 1 } });
      if (doc?.owner === this.owner) this.held.add(k);
      return;
    }
    if (renewal) return;
    // Taken over: a replica that held one of the last two terms may still be writing the
    // clean-up of events it published (they would go out twice); give it half a term.
    const before = await this.col
      .find({ _id: { $in: [this.key(k - 1), this.key(k - 2)] } } as never, { projection: { owner: 1 } })
      .toArray();
    if (before.some((d) => d.owner !== this.owner)) this.notBefore = Math.max(this.notBefore, Date.now() + this.termMs / 2);
  }

  /** Give the lease up (graceful stop), so another replica takes over at once. */
  async release(): Promise<void> {
    // The last two terms too, though no longer held: a successor that finds one of ours
    // there waits half a term for clean-ups that a graceful stop has already written.
    const k = this.term(Date.now());
    const terms = new Set([...this.held, k - 2, k - 1, k, k + 1]);
    this.held.clear();
    await this.col.deleteMany({ _id: { $in: [...terms].map((t) => this.key(t)) }, owner: this.owner } as never).catch(() => undefined);
  }
}

export interface OutboxRelayOptions {
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  metrics?: Metrics;
  /** Collections whose documents may carry outbox events. The standalone outbox is always included. */
  collections: Collection[];
  conn: Connection;
  /** First poll interval when idle (writes also nudge the relay). */
  intervalMs?: number;
  /** Idle polls back off, doubling up to this. */
  maxIntervalMs?: number;
  /** Events published together before their confirms are awaited and their clean-up written. */
  batchSize?: number;
  /** Length of one lease term (default 3 s); a replica that dies is replaced within two terms. */
  leaseMs?: number;
  /** This replica's name in the lease (default: host, pid and a random suffix). */
  owner?: string;
  /**
   * Within one pass, clean-ups wait while at most this many events are confirmed and not
   * yet removed (default 20,000): a burst reaches the bus first and is cleaned up after.
   * 0 cleans up each chunk as soon as it is confirmed.
   */
  maxDeferredCleanUp?: number;
  /** Fault injection for tests: runs after an event is confirmed and before it is removed. */
  afterPublish?: (event: EventEnvelope) => Promise<void> | void;
}

interface Target {
  col: Collection;
  standalone: boolean;
}

interface Chunk {
  docs: Doc[];
  /** Events this chunk published (not those a pass found already published). */
  confirmed: EventEnvelope[];
  failed: Set<string>;
  error: unknown;
  /** Events in the chunk's documents (what its clean-up removes). */
  events: number;
}

/**
 * Documents named by one compare-and-set clean-up statement (one SQLite transaction with
 * FerretDB patch 0010, holding the collection's write lock of patch 0011 while it runs).
 */
const CLEAN_UP_STATEMENT_DOCS = 1000;

/** Relays per metrics registry, for the gauges computed at scrape time. */
const relaysOf = new WeakMap<Metrics, Set<OutboxRelay>>();

export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private leaseTimer?: NodeJS.Timeout;
  /** A lease refresh in flight on the lease timer (stop waits for it before releasing). */
  private leaseRefreshing?: Promise<void>;
  private running?: Promise<number>;
  private again = false;
  private idleDelay = 0;
  private stopped = true;
  private readonly log: Logger;
  private readonly targets: Target[];
  private readonly relayedLog: Collection;
  readonly lease: RelayLease;
  /** Events read by the current pass and not yet removed, and the oldest one's time. */
  private backlog = 0;
  private oldestMs?: number;
  private leader = false;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.log = opts.logger.child({ component: 'outbox-relay' });
    this.targets = [
      { col: opts.conn.collection(STANDALONE_OUTBOX_COLLECTION), standalone: true },
      ...opts.collections.map((col) => ({ col, standalone: false })),
    ];
    this.relayedLog = opts.conn.collection(OUTBOX_RELAYED_COLLECTION);
    const owner = opts.owner ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
    this.lease = new RelayLease(opts.conn.collection(OUTBOX_LEASES_COLLECTION), owner, opts.leaseMs ?? 3_000);
    if (opts.metrics) this.registerMetrics(opts.metrics);
  }

  private registerMetrics(metrics: Metrics): void {
    let relays = relaysOf.get(metrics);
    if (!relays) relaysOf.set(metrics, (relays = new Set()));
    relays.add(this);
    const all = relays;
    metrics.gauge(
      'outbox_lag_seconds',
      'Age of the oldest event waiting in the outbox (0 when drained; read by the lease holder)',
      [],
      function (this: Gauge) {
        const now = Date.now();
        let oldest = now;
        for (const r of all) if (r.oldestMs !== undefined) oldest = Math.min(oldest, r.oldestMs);
        this.set((now - oldest) / 1000);
      },
    );
    metrics.gauge(
      'outbox_backlog',
      'Events read from the outbox and not yet published (the lease holder reports)',
      [],
      function (this: Gauge) {
        let n = 0;
        for (const r of all) n += r.backlog;
        this.set(n);
      },
    );
    metrics.gauge('outbox_relay_leader', 'Whether this replica holds the outbox relay lease', [], function (this: Gauge) {
      this.set([...all].some((r) => r.leader) ? 1 : 0);
    });
  }

  async init(): Promise<void> {
    for (const { col } of this.targets) await col.createIndex({ [OUTBOX_PENDING]: 1 });
    // Made up front, so that its reads are planned on its `_id` index from the first pass.
    await this.opts.conn.createCollection(OUTBOX_RELAYED_COLLECTION).catch((err: unknown) => {
      if ((err as { codeName?: string }).codeName !== 'NamespaceExists') throw err;
    });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
    this.keepLease();
  }

  /** The lease is kept on its own timer, so a long chunk (a slow database) does not lose it. */
  private keepLease(): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.leaseRefreshing = this.lease
        .refresh()
        .then((held) => {
          if (held && !this.leader) this.nudge(); // just became the holder: drain now
          this.leader = held;
        })
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'outbox lease refresh failed'))
        .finally(() => {
          this.leaseRefreshing = undefined;
          this.keepLease();
        });
    }, this.lease.msUntilDue());
  }

  /** Drain soon (called right after a write that added events). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainOnce()
        .then(
          (published) => ({ published, failed: false }),
          (err: unknown) => {
            this.log.warn({ err: (err as Error).message }, 'outbox drain failed');
            return { published: 0, failed: true };
          },
        )
        .then(({ published, failed }) => {
          const base = this.opts.intervalMs ?? 250;
          this.idleDelay = published > 0 && !failed ? 0 : Math.min(Math.max(base, this.idleDelay * 2), this.opts.maxIntervalMs ?? 2000);
          const next = this.again && !failed ? 0 : this.idleDelay;
          this.again = false;
          this.schedule(Math.min(next, this.lease.msUntilDue()));
        });
    }, delay);
  }

  /** One pass: take or keep the lease, then publish every pending event. Returns how many were published. */
  drainOnce(): Promise<number> {
    this.running ??= (async () => {
      this.leader = await this.lease.refresh();
      if (!this.leader) {
        this.backlog = 0;
        this.oldestMs = undefined;
        return 0;
      }
      return this.drain();
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<number> {
    let published = 0;
    const pass: Pass = { relayed: new Set(), loaded: undefined };
    for (const target of this.targets) {
      published += await this.drainCollection(target, pass);
      if (!this.leader) return published;
    }
    // Every pending document was read and cleaned up by this pass, so the entries it found
    // (left by a replica that died before its clean-up) are done with.
    if (pass.loaded?.length) await this.relayedLog.deleteMany({ _id: { $in: pass.loaded } } as never);
    this.backlog = 0;
    this.oldestMs = undefined;
    return published;
  }

  /**
   * Events published and not yet cleaned up by an earlier pass, read once per pass before
   * its first chunk: a pass that finds nothing pending does not ask. A range over the
   * `_id` index (every entry: ids are strings), empty unless a relay died mid-burst.
   */
  private async loadRelayed(pass: Pass): Promise<void> {
    if (pass.loaded) return;
    const entries = await this.relayedLog.find({ _id: { $gte: '' } } as never, { projection: { ids: 1 } }).toArray();
    pass.loaded = entries.map((e) => e._id as unknown as string);
    for (const e of entries) for (const id of (e.ids as string[] | undefined) ?? []) pass.relayed.add(id);
  }

  /** Still the lease holder? Extends the lease when due; a pass stops as soon as it is not. */
  private async stillLeader(): Promise<boolean> {
    this.leader = await this.lease.refresh();
    return this.leader;
  }

  private batchSize(): number {
    return Math.min(Math.max(1, Math.floor(this.opts.batchSize ?? 500)), 1000);
  }

  private maxDeferred(): number {
    return Math.max(0, Math.floor(this.opts.maxDeferredCleanUp ?? 20_000));
  }

  /**
   * One cursor per pass over the pending documents, found by the index on
   * `_outboxPending` (MongoDB, and FerretDB with patch 0002: only pending documents are
   * read), relayed in chunks of about `batchSize` events, as a pipeline: while one chunk is
   * published (its confirms awaited together), the next is read. A chunk with more to
   * come is written to `outbox_relayed` (one insert) and its clean-up waits; the pass's
   * last chunk, a failed one, or one that brings the waiting events to
   * `maxDeferredCleanUp` has every waiting clean-up written at once. So a burst reaches the
   * bus at the cost of the read alone, and the pass ends once its clean-ups are written.
   */
  private async drainCollection(target: Target, pass: Pass): Promise<number> {
    let published = 0;
    const size = this.batchSize();
    const deferred: Chunk[] = [];
    let deferredEvents = 0;
    const logged: string[] = [];
    let publishing: Promise<void> | undefined;
    const settle = async (): Promise<void> => {
      while (deferred.length) {
        await this.cleanUp(target, deferred[0]!);
        deferred.shift();
      }
      deferredEvents = 0;
      if (logged.length) await this.relayedLog.deleteMany({ _id: { $in: logged } } as never);
      logged.length = 0;
    };
    const flush = async (docs: Doc[], last: boolean): Promise<void> => {
      await this.loadRelayed(pass);
      const chunk = await this.publish(docs, pass.relayed);
      published += chunk.confirmed.length;
      deferred.push(chunk);
      deferredEvents += chunk.events;
      if (last || chunk.error !== undefined || deferredEvents >= this.maxDeferred()) {
        await settle();
        if (chunk.error !== undefined) throw chunk.error;
        return;
      }
      if (!chunk.confirmed.length) return;
      // A new id, not the first event's: a chunk published again (by a successor that read
      // the records before this one landed) is recorded again, not refused as a duplicate.
      const id = uuidv7();
      await this.relayedLog.insertOne({ _id: id as never, ids: chunk.confirmed.map((e) => e.id), at: new Date() });
      logged.push(id);
      for (const e of chunk.confirmed) pass.relayed.add(e.id);
    };
    const cursor = target.col.find({ [OUTBOX_PENDING]: true }, { projection: { [OUTBOX]: 1 } }).batchSize(size);
    try {
      let group: Doc[] = [];
      let events = 0;
      for await (const doc of cursor) {
        group.push(doc as Doc);
        events += eventsOf(doc as Doc).length;
        // Documents are capped too: the clean-up names each one (`$in` of at most 1,000).
        if (events < size && group.length < size) continue;
        // One chunk published at a time; this one was read while the last was published.
        await publishing;
        if (!(await this.stillLeader())) break;
        publishing = flush(group, false);
        publishing.catch(() => undefined); // awaited above or below
        group = [];
        events = 0;
      }
      await publishing;
      if (group.length && (await this.stillLeader())) await flush(group, true);
    } finally {
      await publishing?.catch(() => undefined);
      await cursor.close().catch(() => undefined);
      // Whatever ended the pass (the cursor, a lost lease, an error), what it published is
      // cleaned up now: the compare-and-set is safe whoever holds the lease.
      await settle();
    }
    return published;
  }

  /**
   * Publish the documents' events together and await every confirm. Events in `relayed`
   * (published by this pass or by a replica that died before cleaning up) are not
   * published again; their documents are cleaned up with the rest.
   */
  private async publish(docs: Doc[], relayed: Set<string>): Promise<Chunk> {
    const events = docs.flatMap(eventsOf);
    const all = relayed.size ? events.filter((e) => !relayed.has(e.id)) : events;
    this.backlog += all.length;
    for (const e of all) {
      const t = Date.parse(e.occurredAt);
      if (this.oldestMs === undefined || t < this.oldestMs) this.oldestMs = t;
    }
    const results = await Promise.allSettled(all.map((e) => this.opts.bus.publish(e)));
    const failed = new Set<string>();
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      failed.add(all[i]!.id);
      error ??= r.reason;
    });
    const confirmedAt = Date.now();
    const confirmed = all.filter((e) => !failed.has(e.id));
    this.backlog -= confirmed.length;
    // (The oldest stays while a chunk fails, so the lag keeps growing while the bus is away;
    // otherwise the next chunk read sets it again.)
    if (error === undefined) this.oldestMs = undefined;
    if (this.opts.afterPublish) for (const e of confirmed) await this.opts.afterPublish(e);
    const metrics = this.opts.metrics;
    if (metrics && confirmed.length) {
      metrics.counter('outbox_published_total', 'Events relayed from the outbox').inc(confirmed.length);
      const lag = metrics.histogram(
        'outbox_publish_lag_seconds',
        'From an event being written to its publish being confirmed',
        [],
        [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      );
      for (const e of confirmed) lag.observe(Math.max(0, confirmedAt - Date.parse(e.occurredAt)) / 1000);
    }
    return { docs, confirmed, failed, error, events: events.length };
  }

  /**
   * Remove what was confirmed, one write per document, in one command per chunk (FerretDB
   * with patch 0010 commits each statement's documents together; without it, each document
   * on its own):
   * - documents whose events were all confirmed: one `updateMany` by `_id: { $in }` per
   *   array length (compareAndClear) that empties `_outbox` and clears the flag only where
   *   `_outbox` is still exactly the array read: an event appended since the read, or a
   *   clean-up by another replica followed by a new event, leaves the document alone.
   *   Atomic per document on MongoDB and on FerretDB with patch 0011 (and serialised with
   *   this process's other writes by serialisedCollection).
   * - documents left alone (found by one read, `{ _id: { $in }, _outboxPending: true }`),
   *   and those with an unconfirmed event: `updateMany({ _id },
   *   { $pullAll })` of the exact elements confirmed (FerretDB matches pulled values by
   *   equality only; a document with none of them left is not written). `updateMany`, not
   *   `updateOne`: FerretDB 1.24 keeps each single-document statement's read open until
   *   its whole command ends, so a command of 100 of them exhausts its pool and hangs.
   * - the standalone outbox: one `deleteMany({ _id: { $in } })`.
   */
  private async cleanUp({ col, standalone }: Target, chunk: Chunk): Promise<void> {
    const whole: Doc[] = [];
    let rest: { doc: Doc; done: EventEnvelope[] }[] = [];
    for (const doc of chunk.docs) {
      const events = eventsOf(doc);
      const done = events.filter((e) => !chunk.failed.has(e.id));
      if (done.length === events.length) whole.push(doc);
      else if (done.length) rest.push({ doc, done });
    }
    if (whole.length && standalone) {
      await col.deleteMany({ _id: { $in: whole.map((d) => d._id) } } as never);
    } else if (whole.length) {
      const res = await col.bulkWrite(compareAndClear(whole) as never, { ordered: false });
      if (res.matchedCount < whole.length) {
        // Which were left alone: one indexed read, not a statement per document of the chunk.
        const left = await col
          .find({ _id: { $in: whole.map((d) => d._id) }, [OUTBOX_PENDING]: true } as never, { projection: { _id: 1 } })
          .toArray();
        const leftIds = new Set(left.map((d) => JSON.stringify(d._id)));
        rest = [...rest, ...whole.filter((doc) => leftIds.has(JSON.stringify(doc._id))).map((doc) => ({ doc, done: eventsOf(doc) }))];
      }
    }
    if (rest.length)
      await col.bulkWrite(
        rest.map(({ doc, done }) => ({ updateMany: { filter: { _id: doc._id }, update: { $pullAll: { [OUTBOX]: done } } } })) as never,
        { ordered: false },
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.timer = undefined;
    this.leaseTimer = undefined;
    await this.running?.catch(() => undefined);
    // A term claimed by a refresh that was in flight would outlive the release below and
    // keep the next replica waiting for it to run out.
    await this.leaseRefreshing;
    this.leader = false;
    this.backlog = 0;
    this.oldestMs = undefined;
    await this.lease.release();
    if (this.opts.metrics) relaysOf.get(this.opts.metrics)?.delete(this);
  }
}

/**
 * The compare-and-set that empties documents whose `_outbox` is still exactly the array
 * the pass read: for a document read with n events, the last one's id still at position
 * n - 1 and nothing at position n. Events are only ever appended (writers' `$push`) or
 * removed (clean-ups), and an event id belongs to one document, so the read event still at
 * n - 1 means none before it was removed, and nothing at n means none was appended. This
 * compares one string per document: `_outbox: { $in: [arrays read] }` made FerretDB compare
 * every document's array with every array listed (quadratic; measured 200 µs of FerretDB
 * CPU per document in statements of 25, against 120 µs for this, the cost of the update
 * itself). One statement per array length (almost always just one: a create's document
 * carries one event), in statements of at most CLEAN_UP_STATEMENT_DOCS documents.
 */
function compareAndClear(docs: Doc[]): unknown[] {
  const byLength = new Map<number, Doc[]>();
  for (const doc of docs) {
    const n = eventsOf(doc).length;
    let group = byLength.get(n);
    if (!group) byLength.set(n, (group = []));
    group.push(doc);
  }
  const statements: unknown[] = [];
  for (const [n, group] of byLength)
    for (let i = 0; i < group.length; i += CLEAN_UP_STATEMENT_DOCS) {
      const part = group.slice(i, i + CLEAN_UP_STATEMENT_DOCS);
      statements.push({
        updateMany: {
          filter: {
            _id: { $in: part.map((d) => d._id) },
            // (A pending document with no event: cleared while it still has none.)
            ...(n > 0 ? { [`${OUTBOX}.${n - 1}.id`]: { $in: part.map((d) => eventsOf(d)[n - 1]!.id) } } : {}),
            [`${OUTBOX}.${n}`]: { $exists: false },
          },
          update: { $set: { [OUTBOX]: [], [OUTBOX_PENDING]: false } },
        },
      });
    }
  return statements;
}

function eventsOf(doc: Doc): EventEnvelope[] {
  return (doc[OUTBOX] as EventEnvelope[] | undefined) ?? [];
}
