// Where a delivery goes when its handler fails (docs/platform.md, "Bus topology"): through
// fixed-delay retry queues (a message waits there, then dead-letters back into the main
// queue), then to the consumer's parking queue, which an operator inspects and replays. A
// database outage is not the event's fault: it backs off through the same queues without
// spending an attempt and is never parked for it. Every move is a confirmed copy, then an
// ack of the original (at-least-once).
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { BusConnection } from './connection';

export const ATTEMPT_HEADER = 'x-praxis-attempt';
/** Deliveries that failed because the database was unreachable: they back off, but spend no attempt. */
export const OUTAGE_HEADER = 'x-praxis-outage-retries';

export interface QueueNames {
  queue: string;
  parked: string;
  retries: string[];
}

export interface RetryOptions {
  service: string;
  /** Delays of successive retries before a message is parked. */
  retryDelaysMs: number[];
  log: Logger;
  metrics?: Metrics;
}

export class RetryQueues {
  constructor(
    private readonly conn: BusConnection,
    private readonly opts: RetryOptions,
  ) {}

  get delays(): number[] {
    return this.opts.retryDelaysMs;
  }

  /** Queue names used by a consumer (for operators and tests). */
  queuesOf(name: string): QueueNames {
    const queue = `${this.opts.service}.${name}`;
    return { queue, parked: `${queue}.parked`, retries: this.opts.retryDelaysMs.map((d) => `${queue}.retry.${d}ms`) };
  }

  /** Declare the parking and retry queues of a consumer's queue. */
  async declare(ch: Channel, name: string): Promise<void> {
    const { queue, parked, retries } = this.queuesOf(name);
    await ch.assertQueue(parked, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const [i, delay] of this.opts.retryDelaysMs.entries()) {
      // A message waits here for `delay`, then dead-letters back into the main queue.
      await ch.assertQueue(retries[i]!, {
        durable: true,
        arguments: { 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
      });
    }
  }

  /** The delivery's attempt number (1 for the first). */
  attemptOf(msg: ConsumeMessage): number {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    return Number(headers[ATTEMPT_HEADER] ?? 0) + 1;
  }

  /** The handler failed: retry after the attempt's delay, or park once the retries are spent. */
  async failed(name: string, ch: Channel, msg: ConsumeMessage, attempt: number, reason: string): Promise<void> {
    if (attempt > this.opts.retryDelaysMs.length) {
      await this.park(name, ch, msg, attempt, reason);
      return;
    }
    await this.moveTo(ch, msg, this.queuesOf(name).retries[attempt - 1]!, { [ATTEMPT_HEADER]: attempt });
    this.opts.metrics?.counter('bus_retries_total', 'Deliveries scheduled for retry', ['consumer']).inc({ consumer: name });
  }

  /**
   * The database was unreachable (FerretDB down or restarting): not the event's fault, so
   * it goes back through the retry queues with growing delays (the longest repeats) and
   * keeps its attempt count; however long the outage, it is never parked for it.
   */
  async retryAfterOutage(name: string, ch: Channel, msg: ConsumeMessage, attempt: number): Promise<void> {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const outages = Number(headers[OUTAGE_HEADER] ?? 0) + 1;
    const { retries } = this.queuesOf(name);
    const target = retries[Math.min(outages, retries.length) - 1];
    this.opts.log.warn(
      { consumer: name, messageId: msg.properties.messageId, outages },
      'database unreachable; retrying without spending an attempt',
    );
    this.opts.metrics
      ?.counter('bus_outage_retries_total', 'Deliveries retried because the database was unreachable', ['consumer'])
      .inc({ consumer: name });
    if (!target) {
      // No retry queues configured: hand it back to the broker after a pause.
      await new Promise((r) => setTimeout(r, 1_000));
      try {
        ch.nack(msg, false, true);
      } catch {
        // Channel already gone: the broker requeues unacked messages itself.
      }
      return;
    }
    await this.moveTo(ch, msg, target, { [ATTEMPT_HEADER]: attempt - 1, [OUTAGE_HEADER]: outages });
  }

  async park(name: string, ch: Channel, msg: ConsumeMessage, attempt: number, reason: string): Promise<void> {
    await this.moveTo(ch, msg, this.queuesOf(name).parked, {
      [ATTEMPT_HEADER]: attempt,
      'x-praxis-parked-reason': reason.slice(0, 500),
      'x-praxis-parked-at': new Date().toISOString(),
      'x-praxis-original-routing-key': msg.fields.routingKey,
    });
    this.opts.metrics?.counter('bus_parked_total', 'Messages parked after failing', ['consumer']).inc({ consumer: name });
    this.opts.log.error({ consumer: name, messageId: msg.properties.messageId, attempt }, 'message parked');
  }

  /** Move up to `limit` parked messages back onto the consumer's queue. Returns how many moved. */
  async replayParked(name: string, limit = 1000): Promise<number> {
    const { queue, parked } = this.queuesOf(name);
    const ch = await this.conn.channel();
    let moved = 0;
    try {
      while (moved < limit) {
        const msg = await ch.get(parked, { noAck: false });
        if (!msg) break;
        const { headers, ...props } = msg.properties;
        const h = { ...(headers ?? {}) } as Record<string, unknown>;
        delete h[ATTEMPT_HEADER];
        delete h['x-praxis-parked-reason'];
        await this.conn.sendConfirmed('', queue, msg.content, { ...stripUndefined(props), headers: h });
        ch.ack(msg);
        moved++;
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
    return moved;
  }

  /** Copy a message to another queue with confirm, then ack the original (at-least-once). */
  private async moveTo(ch: Channel, msg: ConsumeMessage, queue: string, extraHeaders: Record<string, unknown>): Promise<void> {
    try {
      const { headers, ...props } = msg.properties;
      await this.conn.sendConfirmed('', queue, msg.content, {
        ...stripUndefined(props),
        headers: { ...(headers ?? {}), ...extraHeaders },
      });
      ch.ack(msg);
    } catch (err) {
      // Could not move it: give it back to the broker, which redelivers it.
      this.opts.log.warn({ err, queue }, 'could not move message; requeueing');
      try {
        ch.nack(msg, false, true);
      } catch {
        // Channel already gone: the broker requeues unacked messages itself.
      }
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
