// Publishing from use-cases: change events ride in the changed document's outbox (the
// repositories write them); access events are stored with recordEvents before any data
// is returned. Either way the relay is nudged so they leave within milliseconds.
import type { EventEnvelope } from '@praxis/contracts';
import { type NewEvent, type OutboxRelay, makeEvent, recordEvents } from '@praxis/platform';
import type { Connection } from 'mongoose';
import type { Caller } from './caller';

export class Events {
  constructor(
    private readonly conn: Connection,
    private readonly relay: Pick<OutboxRelay, 'nudge'>,
  ) {}

  make(caller: Pick<Caller, 'tenantId' | 'actor'>, type: NewEvent['type'], data: Record<string, unknown>, patientId?: string): EventEnvelope {
    return makeEvent({ type, tenantId: caller.tenantId, actor: caller.actor, data, ...(patientId ? { subject: { patientId } } : {}) });
  }

  /** Make access events durable; call before returning the data they describe. */
  async recordAccess(events: EventEnvelope[]): Promise<void> {
    await recordEvents(this.conn, events);
    this.relay.nudge();
  }

  /** A write carrying events in its outbox has committed. */
  written(): void {
    this.relay.nudge();
  }
}
