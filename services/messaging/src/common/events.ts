// Publishing from use-cases, as in records: change events ride in the changed document's
// outbox (the repositories write them) and the relay is nudged so they leave within milliseconds;
// access events are stored with recordEvents before any data is returned and leave with
// the relay's next poll (≤ 250 ms). Not nudging for reads matters on FerretDB, where
// each drain scans every outbox-carrying collection (its `_outboxPending` index is not
// used), so a nudge per read would keep the database busy scanning.
//
// Access events are group-committed: while one outbox insert is in flight, the events of
// requests arriving meanwhile wait and go together in the next single insert. Nobody gets
// an answer before their own event is durable, and a busy service writes one outbox
// document per batch instead of one per read.
import type { EventEnvelope } from '@praxis/contracts';
import { type OutboxRelay, recordEvents } from '@praxis/platform';
import type { Connection } from 'mongoose';

const MAX_BATCH = 200;

interface Waiter {
  events: EventEnvelope[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Events {
  private queue: Waiter[] = [];
  private flushing = false;

  constructor(
    private readonly conn: Connection,
    private readonly relay: Pick<OutboxRelay, 'nudge'>,
  ) {}

  /** Make access events durable; resolves once they are stored. Call before returning the data they describe. */
  recordAccess(events: EventEnvelope[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.flushing) void this.flush();
    });
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
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A write carrying events in its outbox has committed. */
  written(): void {
    this.relay.nudge();
  }
}
