// Audit's consumer: its own quorum queue `audit.log`, bound to every routing key. The bus
// validates envelopes (parking what does not parse) and acks only after append()
// resolved, i.e. after the entry is stored. Idempotency on the event id is the log's own
// unique (tenantId, eventId) index, so a separate processed-events store would only add
// two round trips per event.
//
// The queue has a single active consumer: however many audit replicas run, one appends
// and the others stand by until the broker hands the queue over. Appends from several
// writers at once are still safe by design (entry first under a unique seq, then
// compare-and-set on the head: see append.ts), and that is what protects a hand-over,
// but in testing on FerretDB concurrent consumers produced a broken link (an entry
// chained to a predecessor that was never stored) about one run in four, which we have
// not explained; see docs/audit.md.
import type { Bus } from '@praxis/platform';
import type { LogAppender } from './append';

export const LOG_CONSUMER = 'log';

export async function startLogConsumer(bus: Bus, appender: Pick<LogAppender, 'append'>, opts: { prefetch?: number; name?: string } = {}): Promise<void> {
  await bus.consume(opts.name ?? LOG_CONSUMER, {
    bindings: ['#'],
    prefetch: opts.prefetch ?? 2000,
    singleActiveConsumer: true,
    handler: (event) => appender.append(event),
  });
}
