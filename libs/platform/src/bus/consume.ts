// Consuming (docs/platform.md, "Bus topology"): a quorum queue per consumer bound to the
// event types it handles, manual acks after the handler's durable work, every delivery
// checked against its type's contract before the handler sees it (so the handler's event
// is typed by its bindings), consumer idempotency, and one delivery of an event at a time
// per consumer. Failures go to retry.ts. Consumers are (re)started on every connection.
import { EVENTS_EXCHANGE, type EventEnvelope, type ReceivedEvent, parseEvent } from '@praxis/contracts';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { childTraceparent, runWithContext } from '../context';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { isDatabaseUnreachable } from '../mongo';
import type { RetryQueues } from './retry';

export interface IdempotencyStore {
  /** True when this consumer already finished processing the event. */
  seen(consumer: string, eventId: string): Promise<boolean>;
  /** Record that this consumer finished processing the event. */
  remember(consumer: string, eventId: string): Promise<void>;
}

export interface DeliveryInfo {
  attempt: number;
  redelivered: boolean;
  routingKey: string;
}

export type EventHandler = (event: EventEnvelope, info: DeliveryInfo) => Promise<void>;

/**
 * The exchange every region must see (k8s/data/rabbitmq.yaml federates it to the peer
 * region, unlike praxis.events whose consumers' queues are federated so that each event
 * is consumed once). A consumer with `exchange: BROADCAST_EXCHANGE` gets its bindings'
 * events from its own region and from the other one.
 */
export const BROADCAST_EXCHANGE = 'praxis.broadcast';

export interface ConsumerOptions<B extends string = string> {
  /** Routing-key patterns to bind (`#` for everything). Exact event types make the handler's event typed. */
  bindings: readonly B[];
  /**
   * Bind the queue to this exchange rather than praxis.events. It is declared (topic) and
   * bound from praxis.events for the same patterns, so events published as usual reach it,
   * and so do those a federation link delivers into it.
   */
  exchange?: string;
  handler: (event: ReceivedEvent<B>, info: DeliveryInfo) => Promise<void>;
  idempotency?: IdempotencyStore;
  prefetch?: number;
  /**
   * Only one consumer of the queue gets messages at a time; the others stand by and the
   * broker hands over when it goes away (for consumers that must not run concurrently).
   */
  singleActiveConsumer?: boolean;
}

interface ConsumerState extends Omit<ConsumerOptions, 'handler'> {
  handler: EventHandler;
  name: string;
  channel?: Channel;
  consumerTag?: string;
}

export interface ConsumersOptions {
  log: Logger;
  metrics?: Metrics;
  prefetch?: number;
}

export class Consumers {
  private readonly consumers = new Map<string, ConsumerState>();
  private readonly inflight = new Set<Promise<void>>();
  /** Deliveries of one event id to one consumer, in progress: a duplicate waits its turn. */
  private readonly sameEvent = new Map<string, Promise<void>>();

  constructor(
    private readonly retry: RetryQueues,
    private readonly opts: ConsumersOptions,
  ) {}

  /** Register a consumer; it starts now when `model` is given (connected), and again on every connection. */
  async register<B extends string>(name: string, opts: ConsumerOptions<B>, model: ChannelModel | undefined): Promise<void> {
    if (this.consumers.has(name)) throw new Error(`consumer ${name} registered twice`);
    // Every delivery is checked by parseEvent against the contract of its own type before
    // the handler runs, and the queue receives only the bound types: so the handler gets
    // exactly the typed event its bindings promise. This is the one place that says so.
    const state: ConsumerState = { ...opts, handler: opts.handler as EventHandler, name };
    this.consumers.set(name, state);
    if (model) await this.start(model, state);
  }

  async startAll(model: ChannelModel): Promise<void> {
    for (const c of this.consumers.values()) await this.start(model, c);
  }

  /** The connection is gone, and with it every consumer's channel. */
  forgetChannels(): void {
    for (const c of this.consumers.values()) {
      c.channel = undefined;
      c.consumerTag = undefined;
    }
  }

  /** Stop taking deliveries and wait for the handlers in flight. */
  async stop(): Promise<void> {
    for (const c of this.consumers.values()) {
      if (c.channel && c.consumerTag) await c.channel.cancel(c.consumerTag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inflight]);
  }

  private async start(model: ChannelModel, c: ConsumerState): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (err) => this.opts.log.warn({ err, consumer: c.name }, 'consumer channel error'));
    const { queue } = this.retry.queuesOf(c.name);
    await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await ch.assertQueue(queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', ...(c.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}) },
    });
    await this.retry.declare(ch, c.name);
    if (c.exchange && c.exchange !== EVENTS_EXCHANGE) {
      await ch.assertExchange(c.exchange, 'topic', { durable: true });
      for (const key of c.bindings) await ch.bindExchange(c.exchange, EVENTS_EXCHANGE, key);
    }
    for (const key of c.bindings) await ch.bindQueue(queue, c.exchange ?? EVENTS_EXCHANGE, key);
    await ch.prefetch(c.prefetch ?? this.opts.prefetch ?? 20);
    const { consumerTag } = await ch.consume(queue, (msg) => {
      if (!msg) return; // consumer cancelled by the broker; the reconnect path restarts it
      const p = this.handle(c, ch, msg).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
    c.channel = ch;
    c.consumerTag = consumerTag;
  }

  private async handle(c: ConsumerState, ch: Channel, msg: ConsumeMessage): Promise<void> {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const attempt = this.retry.attemptOf(msg);
    let raw: unknown;
    try {
      raw = JSON.parse(msg.content.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      await this.retry.park(c.name, ch, msg, attempt, `unparseable: ${parsed.reason}`);
      return;
    }
    const event = parsed.event;
    // The handler is typed by the bindings: an event whose own type no binding matches (a
    // publisher that routed it under another key) never reaches it.
    if (!c.bindings.some((b) => topicMatches(b, event.type))) {
      await this.retry.park(c.name, ch, msg, attempt, `type ${event.type} matches none of the consumer's bindings`);
      return;
    }
    const traceparent = typeof headers.traceparent === 'string' ? headers.traceparent : undefined;
    // Two deliveries of the same event (a relay re-publish racing the original) must not
    // both pass the idempotency check before either is remembered: the later one waits
    // for the earlier, then finds it processed. Across processes, handlers' own writes
    // are idempotent as well (upserts, unique indexes).
    const key = `${c.name}\u0000${event.id}`;
    const earlier = this.sameEvent.get(key);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.sameEvent.set(key, mine);
    try {
      if (earlier) await earlier;
      await this.process(c, ch, msg, event, attempt, traceparent);
    } finally {
      done();
      if (this.sameEvent.get(key) === mine) this.sameEvent.delete(key);
    }
  }

  private async process(
    c: ConsumerState,
    ch: Channel,
    msg: ConsumeMessage,
    event: EventEnvelope,
    attempt: number,
    traceparent: string | undefined,
  ): Promise<void> {
    const metrics = this.opts.metrics;
    await runWithContext(
      { requestId: event.correlationId, traceparent: childTraceparent(traceparent), tenantId: event.tenantId },
      async () => {
        try {
          if (c.idempotency && (await c.idempotency.seen(c.name, event.id))) {
            metrics?.counter('bus_duplicates_total', 'Deliveries skipped as already processed', ['consumer']).inc({ consumer: c.name });
            ch.ack(msg);
            return;
          }
          await c.handler(event, { attempt, redelivered: msg.fields.redelivered, routingKey: msg.fields.routingKey });
          if (c.idempotency) await c.idempotency.remember(c.name, event.id);
        } catch (err) {
          if (isDatabaseUnreachable(err)) {
            await this.retry.retryAfterOutage(c.name, ch, msg, attempt);
            return;
          }
          this.opts.log.warn({ err, consumer: c.name, eventId: event.id, type: event.type, attempt }, 'handler failed');
          await this.retry.failed(c.name, ch, msg, attempt, (err as Error)?.message ?? 'handler failed');
          return;
        }
        try {
          ch.ack(msg);
          metrics?.counter('bus_consumed_total', 'Events processed', ['consumer']).inc({ consumer: c.name });
        } catch {
          // The channel died after the work was done: the broker redelivers and the
          // idempotency check skips it.
        }
      },
    );
  }
}

/** AMQP topic matching: `*` is exactly one dot-separated word, `#` zero or more. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
