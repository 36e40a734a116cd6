// The RabbitMQ event bus (docs/platform.md, "Bus topology"), one object with four parts:
// - bus/connection.ts: one connection and confirm channel, back by itself after a broker
//   restart (consumers included); every send waits for the broker's confirm.
// - bus/publish.ts: persistent messages on one durable topic exchange, routing key = event
//   type; publish() resolves only once the broker has confirmed (at-least-once).
// - bus/consume.ts: a quorum queue per consumer, manual acks after the handler's durable
//   work, events checked against their contract, consumers skip events already processed.
// - bus/retry.ts: fixed-delay retry queues (back-off), then a parking queue an operator can
//   inspect and replay; messages that do not parse are parked at once; a database outage
//   never spends an attempt.
import type { EventEnvelope } from '@praxis/contracts';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { BusConnection } from './bus/connection';
import { type ConsumerOptions, Consumers } from './bus/consume';
import { publishEvent } from './bus/publish';
import { type QueueNames, RetryQueues } from './bus/retry';

export {
  BROADCAST_EXCHANGE,
  type ConsumerOptions,
  type DeliveryInfo,
  type EventHandler,
  type IdempotencyStore,
  topicMatches,
} from './bus/consume';

export interface BusOptions {
  url: string;
  /** Owning service; prefixes queue names (`<service>.<consumer>`). */
  service: string;
  logger: Logger;
  metrics?: Metrics;
  /** Delays of successive retries before a message is parked. */
  retryDelaysMs?: number[];
  prefetch?: number;
  /** How long publish() waits for a connection and a confirm before failing. */
  publishTimeoutMs?: number;
}

export class Bus {
  private readonly conn: BusConnection;
  private readonly retry: RetryQueues;
  private readonly consumers: Consumers;

  constructor(private readonly opts: BusOptions) {
    const log = opts.logger.child({ component: 'bus' });
    this.conn = new BusConnection({
      url: opts.url,
      service: opts.service,
      log,
      metrics: opts.metrics,
      publishTimeoutMs: opts.publishTimeoutMs,
      onConnected: (model) => this.consumers.startAll(model),
      onLost: () => this.consumers.forgetChannels(),
    });
    this.retry = new RetryQueues(this.conn, {
      service: opts.service,
      retryDelaysMs: opts.retryDelaysMs ?? [1_000, 5_000, 30_000],
      log,
      metrics: opts.metrics,
    });
    this.consumers = new Consumers(this.retry, { log, metrics: opts.metrics, prefetch: opts.prefetch });
  }

  /** How many times the connection was lost and re-established (observability, tests). */
  get reconnects(): number {
    return this.conn.reconnects;
  }

  /** Connect, declare the exchange, and (re)start registered consumers. Retries until it works or close() is called. */
  connect(): Promise<void> {
    return this.conn.connect();
  }

  isConnected(): boolean {
    return this.conn.isConnected();
  }

  /**
   * Publish an event and wait for the broker's confirm. Retried across connection loss
   * until `publishTimeoutMs`; a resolved promise means the broker has the message durably.
   */
  publish(event: EventEnvelope): Promise<void> {
    return publishEvent(this.conn, event, this.opts.metrics);
  }

  /** Register a consumer; it starts now if connected, and again after every reconnect. */
  consume<B extends string>(name: string, opts: ConsumerOptions<B>): Promise<void> {
    return this.consumers.register(name, opts, this.conn.current());
  }

  /** Queue names used by a consumer (for operators and tests). */
  queuesOf(name: string): QueueNames {
    return this.retry.queuesOf(name);
  }

  /** Move up to `limit` parked messages back onto the consumer's queue. Returns how many moved. */
  replayParked(name: string, limit = 1000): Promise<number> {
    return this.retry.replayParked(name, limit);
  }

  /** Messages waiting in a queue (for readiness, metrics and tests). */
  async queueDepth(queue: string): Promise<number> {
    const ch = await this.conn.channel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Stop consuming, let in-flight handlers finish, then close. */
  async close(): Promise<void> {
    this.conn.beginClose();
    await this.consumers.stop();
    await this.conn.close();
  }
}
