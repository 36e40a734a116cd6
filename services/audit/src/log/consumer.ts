// Audit's consumer: its own quorum queue `audit.log`, bound to every routing key. The bus
// validates envelopes (parking what does not parse) and acks only after append()
// resolved, i.e. after the entry is stored. Idempotency on the event id is the log's own
// unique (tenantId, eventId) index, so a separate processed-events store would only add
// two round trips per event.
import type { Bus } from '@praxis/platform';
import type { LogAppender } from './append';

export const LOG_CONSUMER = 'log';

export async function startLogConsumer(bus: Bus, appender: Pick<LogAppender, 'append'>, opts: { prefetch?: number; name?: string } = {}): Promise<void> {
  await bus.consume(opts.name ?? LOG_CONSUMER, {
    bindings: ['#'],
    prefetch: opts.prefetch ?? 2000,
    handler: (event) => appender.append(event),
  });
}
