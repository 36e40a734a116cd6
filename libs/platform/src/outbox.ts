// The transactional outbox without transactions (ARCHITECTURE.md §4).
// An event describing a change is stored in the same document as the change, in one
// atomic single-document write (`_outbox` array + `_outboxPending` flag). Events with no
// document of their own (access events: "who viewed what") are inserted as their own
// document in an `outbox` collection before the data is returned. A relay publishes
// pending events with broker confirms and only then removes them, so an event is never
// lost: if the relay dies between publish and removal it is published again, and
// consumers are idempotent on the event id.
import { type Actor, type EventData, type EventEnvelope, type EventType, assertEventData } from '@praxis/contracts';
import type { Collection, Connection } from 'mongoose';
import { Schema } from 'mongoose';
import type { Bus } from './bus';
import { currentContext } from './context';
import { uuidv7 } from './ids';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

export const OUTBOX = '_outbox';
export const OUTBOX_PENDING = '_outboxPending';

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
}

/** Build a validated envelope: UUID v7 id, now, and the current request as correlation id. */
export function makeEvent<T extends EventType>(e: NewEvent<T>): EventEnvelope<EventData<T>> & { type: T } {
  const version = e.version ?? 1;
  return {
    id: uuidv7(),
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
export function withOutbox<T extends object>(doc: T, events: EventEnvelope[]): T & { [OUTBOX]: EventEnvelope[]; [OUTBOX_PENDING]: boolean } {
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

export interface OutboxRelayOptions {
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  metrics?: Metrics;
  /** Collections whose documents may carry outbox events. The standalone outbox is always included. */
  collections: Collection[];
  conn: Connection;
  /** Poll interval after a drain that published something (writes also nudge the relay). */
  intervalMs?: number;
  /** Idle polls back off, doubling up to this: FerretDB scans without the index. */
  maxIntervalMs?: number;
  batchSize?: number;
  /** Fault injection for tests: runs after an event is confirmed and before it is removed. */
  afterPublish?: (event: EventEnvelope) => Promise<void> | void;
}

export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;
  private idleDelay = 0;
  private stopped = true;
  private readonly log: Logger;
  private readonly targets: { col: Collection; standalone: boolean }[];

  constructor(private readonly opts: OutboxRelayOptions) {
    this.log = opts.logger.child({ component: 'outbox-relay' });
    this.targets = [
      { col: opts.conn.collection(STANDALONE_OUTBOX_COLLECTION), standalone: true },
      ...opts.collections.map((col) => ({ col, standalone: false })),
    ];
  }

  async init(): Promise<void> {
    for (const { col } of this.targets) await col.createIndex({ [OUTBOX_PENDING]: 1 });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
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
        .then((published) => published)
        .catch((err) => {
          this.log.warn({ err: (err as Error).message }, 'outbox drain failed');
          return 0;
        })
        .then((published) => {
          const base = this.opts.intervalMs ?? 250;
          this.idleDelay = published > 0 ? base : Math.min(Math.max(base, this.idleDelay * 2), this.opts.maxIntervalMs ?? 2000);
          const next = this.again ? 0 : this.idleDelay;
          this.again = false;
          this.schedule(next);
        });
    }, delay);
  }

  /** Publish every pending event once. Returns how many were published. */
  drainOnce(): Promise<number> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<number> {
    let published = 0;
    let backlog = 0;
    for (const { col, standalone } of this.targets) {
      const docs = await col
        .find({ [OUTBOX_PENDING]: true }, { projection: { [OUTBOX]: 1 } })
        .sort({ _id: 1 })
        .limit(this.opts.batchSize ?? 200)
        .toArray();
      backlog += docs.length;
      for (const doc of docs) {
        const events = (doc[OUTBOX] ?? []) as EventEnvelope[];
        for (const event of events) {
          await this.opts.bus.publish(event);
          await this.opts.afterPublish?.(event);
          // Pull the exact element read: FerretDB matches $pull values by equality only.
          if (!standalone) await col.updateOne({ _id: doc._id }, { $pull: { [OUTBOX]: event } } as never);
          published++;
        }
        if (standalone) await col.deleteOne({ _id: doc._id, [OUTBOX_PENDING]: true });
        else await col.updateOne({ _id: doc._id, [OUTBOX]: { $size: 0 } }, { $set: { [OUTBOX_PENDING]: false } });
      }
    }
    this.opts.metrics?.gauge('outbox_backlog', 'Documents with events not yet published').set(backlog);
    if (published) this.opts.metrics?.counter('outbox_published_total', 'Events relayed from the outbox').inc(published);
    return published;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
