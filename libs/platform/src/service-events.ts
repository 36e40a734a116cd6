// Publishing from a service's use cases (docs/new-service.md, "An event"): change events
// ride in the changed document's outbox (the repositories write them, then `written()`
// nudges the relay) and events about reads ("who viewed what") are stored with
// recordEvents before any data is returned (`recordAccess`). A relay pass reads only
// pending documents, by index (docs/decisions/0005), and a nudge during a pass only asks
// for one more pass, so a busy service does not make it busier.
//
// Access events are group-committed: while one outbox insert is in flight, the events of
// requests arriving meanwhile wait and go together in the next single insert. Nobody gets
// an answer before their own event is durable, and a busy service writes one outbox
// document per batch instead of one per read.
import { type EventData, type EventEnvelope, type EventType } from '@praxis/contracts';
import type { Connection } from 'mongoose';
import { type OutboxRelay, makeEvent, recordEvents } from './outbox';

const MAX_BATCH = 200;

interface Waiter {
  events: EventEnvelope[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ServiceEventsOptions {
  /**
   * Nudge the relay after access events are stored (default true). Off, they leave with
   * the relay's next poll instead, for a service whose reads are many and latency-free.
   */
  nudgeAfterAccess?: boolean;
}

export class ServiceEvents {
  private queue: Waiter[] = [];
  private flushing = false;

  constructor(
    private readonly conn: Connection,
    private readonly relay: Pick<OutboxRelay, 'nudge'>,
    private readonly opts: ServiceEventsOptions = {},
  ) {}

  /** An event of the contract's type `type`, its data typed by the contract, about a patient when given. */
  make<T extends EventType>(
    caller: { tenantId: string; actor: EventEnvelope['actor'] },
    type: T,
    data: EventData<T>,
    patientId?: string,
  ): EventEnvelope {
    return makeEvent({ type, tenantId: caller.tenantId, actor: caller.actor, data, ...(patientId ? { subject: { patientId } } : {}) });
  }

  /** Make events not carried by a changed document durable; resolves once they are stored. Call before returning the data they describe. */
  recordAccess(events: EventEnvelope[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** A write carrying events in its outbox has committed. */
  written(): void {
    this.relay.nudge();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch: Waiter[] = [];
        let size = 0;
        while (this.queue.length && (size === 0 || size + this.queue[0]!.events.length <= MAX_BATCH)) {
          const w = this.queue.shift()!;
          batch.push(w);
          size += w.events.length;
        }
        try {
          await recordEvents(
            this.conn,
            batch.flatMap((w) => w.events),
          );
          for (const w of batch) w.resolve();
          if (this.opts.nudgeAfterAccess !== false) this.relay.nudge();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
