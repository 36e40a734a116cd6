import type { EventEnvelope } from '@praxis/contracts';
import { type NewEvent, type OutboxRelay } from '@praxis/platform';
import type { Connection } from 'mongoose';
import type { Caller } from './caller';
export declare class Events {
    private readonly conn;
    private readonly relay;
    private queue;
    private flushing;
    constructor(conn: Connection, relay: Pick<OutboxRelay, 'nudge'>);
    make(caller: Pick<Caller, 'tenantId' | 'actor'>, type: NewEvent['type'], data: Record<string, unknown>, patientId?: string): EventEnvelope;
    /** Make access events durable; resolves once they are stored. Call before returning the data they describe. */
    recordAccess(events: EventEnvelope[]): Promise<void>;
    private flush;
    /** A write carrying events in its outbox has committed. */
    written(): void;
}
//# sourceMappingURL=events.d.ts.map