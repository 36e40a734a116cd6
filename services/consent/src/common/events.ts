// Publishing from use-cases: change events ride in the changed document's outbox (the
// repositories write them) and the relay is nudged so they leave within milliseconds;
// events about reads (a subject access export downloaded) are stored with recordEvents
// before the data is returned.
import type { EventData, EventEnvelope, EventType } from '@praxis/contracts';
import { type OutboxRelay, makeEvent, recordEvents } from '@praxis/platform';
import type { Connection } from 'mongoose';
import type { Caller } from './caller';

export class Events {
  constructor(
    private readonly conn: Connection,
    private readonly relay: Pick<OutboxRelay, 'nudge'>,
  ) {}

  make<T extends EventType>(caller: Pick<Caller, 'tenantId' | 'actor'>, type: T, data: EventData<T>, patientId?: string): EventEnvelope {
    return makeEvent({ type, tenantId: caller.tenantId, actor: caller.actor, data, ...(patientId ? { subject: { patientId } } : {}) });
  }

  /** Make events durable on their own (not carried by a changed document). */
  async record(events: EventEnvelope[]): Promise<void> {
    await recordEvents(this.conn, events);
    this.relay.nudge();
  }

  /** A write carrying events in its outbox has committed. */
  written(): void {
    this.relay.nudge();
  }
}
