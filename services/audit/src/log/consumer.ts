// Audit's consumer: its own quorum queue `audit.log`, bound to every routing key. The bus
// validates envelopes (parking what does not parse) and acks only after append()
// resolved, i.e. after the entry is stored. Idempotency on the event id is the log's own
// unique (tenantId, eventId) index, so a separate processed-events store would only add
// two round trips per event.
//
// The queue has a single active consumer: however many audit replicas run, one appends
// and the others stand by until the broker hands the queue over. That keeps one writer
// per tenant chain in the steady state (no compare-and-set conflicts, arrival order kept).
// Appends from several writers at once are still safe by design (entry first under a
// unique seq, then compare-and-set on the head: see append.ts); that is what protects a
// hand-over, and a test runs two consumers in parallel on a queue without the flag.
import type { Bus } from '@praxis/platform';
import type { LogAppender } from './append';

export const LOG_CONSUMER = 'log';

export interface LogConsumerOptions {
  prefetch?: number;
  /** The consumer (queue) name; `log` in production. */
  name?: string;
  /** Default true. Only tests turn it off, on a queue of another name. */
  singleActiveConsumer?: boolean;
}

export async function startLogConsumer(bus: Bus, appender: Pick<LogAppender, 'append'>, opts: LogConsumerOptions = {}): Promise<void> {
  await bus.consume(opts.name ?? LOG_CONSUMER, {
    bindings: ['#'],
    prefetch: opts.prefetch ?? 2000,
    singleActiveConsumer: opts.singleActiveConsumer ?? true,
    handler: (event) => appender.append(event),
  });
}
