// The RabbitMQ event bus (docs/platform.md, "Bus topology").
// - One durable topic exchange; routing key = event type.
// - Publishing: persistent messages on a confirm channel; publish() resolves only once
//   the broker has confirmed, and is retried across reconnects (at-least-once).
// - Consuming: a quorum queue per consumer, manual acks after the handler's durable work,
//   retries through fixed-delay queues (back-off), then a parking queue an operator can
//   inspect and replay. Messages that do not parse are parked at once.
// - Idempotency: consumers skip events whose id they have already processed.
// - The connection comes back by itself after a broker restart, consumers included.
import { propagation, context as otelContext } from '@opentelemetry/api';
import { EVENTS_EXCHANGE, type EventEnvelope, type ReceivedEvent, parseEvent } from '@praxis/contracts';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { childTraceparent, currentContext, runWithContext } from './context';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { isDatabaseUnreachable } from './mongo';

export interface IdempotencyStore {
  /** True when this consumer already finished processing the event. */
  seen(consumer: string, eventId: string): Promise<boolean>;
  /** Record that this consumer finished processing the event. */
  remember(consumer: string, eventId: string): Promise<void>;
}

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
  queue: string;
  channel?: Channel;
  consumerTag?: string;
}

const ATTEMPT_HEADER = 'x-praxis-attempt';
/** Deliveries that failed because the database was unreachable: they back off, but spend no attempt. */
const OUTAGE_HEADER = 'x-praxis-outage-retries';

export class Bus {
  private model?: ChannelModel;
  private pub?: ConfirmChannel;
  private connecting?: Promise<void>;
  private closing = false;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectAttempt = 0;
  /** How many times the connection was lost and re-established (observability, tests). */
  reconnects = 0;
  private readonly consumers = new Map<string, ConsumerState>();
  private readonly inflight = new Set<Promise<void>>();
  /** Deliveries of one event id to one consumer, in progress: a duplicate waits its turn. */
  private readonly sameEvent = new Map<string, Promise<void>>();
  private readonly waiters = new Set<() => void>();
  private readonly retryDelays: number[];
  private readonly log: Logger;

  constructor(private readonly opts: BusOptions) {
    this.retryDelays = opts.retryDelaysMs ?? [1_000, 5_000, 30_000];
    this.log = opts.logger.child({ component: 'bus' });
  }

  /** Connect, declare the exchange, and (re)start registered consumers. Retries until it works or close() is called. */
  async connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  isConnected(): boolean {
    return !!this.pub && !this.closing;
  }

  private async doConnect(): Promise<void> {
    const model = await amqp.connect(this.opts.url, { clientProperties: { connection_name: this.opts.service } });
    model.on('error', (err) => this.log.warn({ err }, 'broker connection error'));
    model.on('close', () => this.onConnectionLost(model));
    try {
      const pub = await model.createConfirmChannel();
      pub.on('error', (err) => this.log.warn({ err }, 'publish channel error'));
      pub.setMaxListeners(0); // one 'close' listener per publish awaiting its confirm
      pub.on('close', () => {
        if (this.pub === pub) this.pub = undefined;
        if (this.model === model && !this.closing) model.close().catch(() => undefined);
      });
      await pub.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
      this.model = model;
      this.pub = pub;
      for (const c of this.consumers.values()) await this.startConsumer(c);
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
    this.reconnectAttempt = 0;
    this.log.info('connected to broker');
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private onConnectionLost(model: ChannelModel): void {
    if (this.model !== model && this.model !== undefined) return;
    this.model = undefined;
    this.pub = undefined;
    for (const c of this.consumers.values()) {
      c.channel = undefined;
      c.consumerTag = undefined;
    }
    if (this.closing) return;
    this.reconnects++;
    this.opts.metrics?.counter('bus_reconnects_total', 'Broker reconnections').inc();
    this.log.warn('broker connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(250 * 2 ** this.reconnectAttempt, 5_000);
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((err) => {
        this.log.warn({ err: (err as Error).message }, 'reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
  }

  private whenConnected(timeoutMs: number): Promise<ConfirmChannel> {
    if (this.pub) return Promise.resolve(this.pub);
    if (this.closing) return Promise.reject(new Error('bus is closed'));
    if (!this.connecting && !this.reconnectTimer) this.scheduleReconnect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no broker connection within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = () => {
        clearTimeout(timer);
        if (this.pub) resolve(this.pub);
        else reject(new Error('bus is closed'));
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Publish an event and wait for the broker's confirm. Retried across connection loss
   * until `publishTimeoutMs`; a resolved promise means the broker has the message durably.
   */
  async publish(event: EventEnvelope): Promise<void> {
    const headers: Record<string, unknown> = {};
    propagation.inject(otelContext.active(), headers);
    if (!headers.traceparent) headers.traceparent = currentContext()?.traceparent ?? childTraceparent();
    headers['x-tenant-id'] = event.tenantId;
    await this.sendConfirmed(EVENTS_EXCHANGE, event.type, Buffer.from(JSON.stringify(event)), {
      messageId: event.id,
      type: event.type,
      correlationId: event.correlationId,
      timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
      headers,
    });
    this.opts.metrics?.counter('bus_published_total', 'Events confirmed by the broker', ['type']).inc({ type: event.type });
  }

  private async sendConfirmed(exchange: string, routingKey: string, body: Buffer, props: amqp.Options.Publish): Promise<void> {
    const deadline = Date.now() + (this.opts.publishTimeoutMs ?? 30_000);
    let lastErr: unknown;
    while (Date.now() < deadline && !this.closing) {
      let ch: ConfirmChannel;
      try {
        ch = await this.whenConnected(Math.max(1, deadline - Date.now()));
      } catch (err) {
        lastErr = err;
        break;
      }
      try {
        await new Promise<void>((resolve, reject) => {
          const onClose = () => reject(new Error('channel closed before confirm'));
          ch.once('close', onClose);
          try {
            ch.publish(exchange, routingKey, body, { ...props, persistent: true, contentType: 'application/json' }, (err) => {
              ch.removeListener('close', onClose);
              if (err) reject(err instanceof Error ? err : new Error('broker refused the message (nack)'));
              else resolve();
            });
          } catch (err) {
            ch.removeListener('close', onClose);
            reject(err);
          }
        });
        return;
      } catch (err) {
        lastErr = err;
        // Either the channel died (wait for the reconnect) or the broker nacked (retry).
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`publish to ${routingKey} not confirmed: ${(lastErr as Error)?.message ?? 'bus closed'}`);
  }

  /** Register a consumer; it starts now if connected, and again after every reconnect. */
  async consume<B extends string>(name: string, opts: ConsumerOptions<B>): Promise<void> {
    const queue = `${this.opts.service}.${name}`;
    if (this.consumers.has(name)) throw new Error(`consumer ${name} registered twice`);
    // Every delivery is checked by parseEvent against the contract of its own type before
    // the handler runs, and the queue receives only the bound types: so the handler gets
    // exactly the typed event its bindings promise. This is the one place that says so.
    const state: ConsumerState = { ...opts, handler: opts.handler as EventHandler, name, queue };
    this.consumers.set(name, state);
    if (this.model) await this.startConsumer(state);
  }

  /** Queue names used by a consumer (for operators and tests). */
  queuesOf(name: string): { queue: string; parked: string; retries: string[] } {
    const queue = `${this.opts.service}.${name}`;
    return { queue, parked: `${queue}.parked`, retries: this.retryDelays.map((d) => `${queue}.retry.${d}ms`) };
  }

  private async startConsumer(c: ConsumerState): Promise<void> {
    const model = this.model;
    if (!model) return;
    const ch = await model.createChannel();
    ch.on('error', (err) => this.log.warn({ err, consumer: c.name }, 'consumer channel error'));
    const { queue, parked, retries } = this.queuesOf(c.name);
    await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await ch.assertQueue(queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', ...(c.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}) },
    });
    await ch.assertQueue(parked, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const [i, delay] of this.retryDelays.entries()) {
      // A message waits here for `delay`, then dead-letters back into the main queue.
      await ch.assertQueue(retries[i]!, {
        durable: true,
        arguments: { 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
      });
    }
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
    const attempt = Number(headers[ATTEMPT_HEADER] ?? 0) + 1;
    let raw: unknown;
    try {
      raw = JSON.parse(msg.content.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      await this.park(c, ch, msg, attempt, `unparseable: ${parsed.reason}`);
      return;
    }
    const event = parsed.event;
    // The handler is typed by the bindings: an event whose own type no binding matches (a
    // publisher that routed it under another key) never reaches it.
    if (!c.bindings.some((b) => topicMatches(b, event.type))) {
      await this.park(c, ch, msg, attempt, `type ${event.type} matches none of the consumer's bindings`);
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
            await this.retryAfterOutage(c, ch, msg, attempt);
            return;
          }
          this.log.warn({ err, consumer: c.name, eventId: event.id, type: event.type, attempt }, 'handler failed');
          if (attempt > this.retryDelays.length) await this.park(c, ch, msg, attempt, (err as Error)?.message ?? 'handler failed');
          else await this.retryLater(c, ch, msg, attempt);
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

  private async retryLater(c: ConsumerState, ch: Channel, msg: ConsumeMessage, attempt: number): Promise<void> {
    const target = this.queuesOf(c.name).retries[attempt - 1]!;
    await this.moveTo(ch, msg, target, { [ATTEMPT_HEADER]: attempt });
    this.opts.metrics?.counter('bus_retries_total', 'Deliveries scheduled for retry', ['consumer']).inc({ consumer: c.name });
  }

  /**
   * The database was unreachable (FerretDB down or restarting): not the event's fault, so
   * it goes back through the retry queues with growing delays (the longest repeats) and
   * keeps its attempt count; however long the outage, it is never parked for it.
   */
  private async retryAfterOutage(c: ConsumerState, ch: Channel, msg: ConsumeMessage, attempt: number): Promise<void> {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const outages = Number(headers[OUTAGE_HEADER] ?? 0) + 1;
    const { retries } = this.queuesOf(c.name);
    const target = retries[Math.min(outages, retries.length) - 1];
    this.log.warn(
      { consumer: c.name, messageId: msg.properties.messageId, outages },
      'database unreachable; retrying without spending an attempt',
    );
    this.opts.metrics
      ?.counter('bus_outage_retries_total', 'Deliveries retried because the database was unreachable', ['consumer'])
      .inc({ consumer: c.name });
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

  private async park(c: ConsumerState, ch: Channel, msg: ConsumeMessage, attempt: number, reason: string): Promise<void> {
    await this.moveTo(ch, msg, this.queuesOf(c.name).parked, {
      [ATTEMPT_HEADER]: attempt,
      'x-praxis-parked-reason': reason.slice(0, 500),
      'x-praxis-parked-at': new Date().toISOString(),
      'x-praxis-original-routing-key': msg.fields.routingKey,
    });
    this.opts.metrics?.counter('bus_parked_total', 'Messages parked after failing', ['consumer']).inc({ consumer: c.name });
    this.log.error({ consumer: c.name, messageId: msg.properties.messageId, attempt }, 'message parked');
  }

  /** Copy a message to another queue with confirm, then ack the original (at-least-once). */
  private async moveTo(ch: Channel, msg: ConsumeMessage, queue: string, extraHeaders: Record<string, unknown>): Promise<void> {
    try {
      const { headers, ...props } = msg.properties;
      await this.sendConfirmed('', queue, msg.content, {
        ...stripUndefined(props),
        headers: { ...(headers ?? {}), ...extraHeaders },
      });
      ch.ack(msg);
    } catch (err) {
      // Could not move it: give it back to the broker, which redelivers it.
      this.log.warn({ err, queue }, 'could not move message; requeueing');
      try {
        ch.nack(msg, false, true);
      } catch {
        // Channel already gone: the broker requeues unacked messages itself.
      }
    }
  }

  /** Move up to `limit` parked messages back onto the consumer's queue. Returns how many moved. */
  async replayParked(name: string, limit = 1000): Promise<number> {
    const { queue, parked } = this.queuesOf(name);
    const model = this.model;
    if (!model) throw new Error('not connected');
    const ch = await model.createChannel();
    let moved = 0;
    try {
      while (moved < limit) {
        const msg = await ch.get(parked, { noAck: false });
        if (!msg) break;
        const { headers, ...props } = msg.properties;
        const h = { ...(headers ?? {}) } as Record<string, unknown>;
        delete h[ATTEMPT_HEADER];
        delete h['x-praxis-parked-reason'];
        await this.sendConfirmed('', queue, msg.content, { ...stripUndefined(props), headers: h });
        ch.ack(msg);
        moved++;
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
    return moved;
  }

  /** Messages waiting in a queue (for readiness, metrics and tests). */
  async queueDepth(queue: string): Promise<number> {
    const model = this.model;
    if (!model) throw new Error('not connected');
    const ch = await model.createChannel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Stop consuming, let in-flight handlers finish, then close. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const c of this.consumers.values()) {
      if (c.channel && c.consumerTag) await c.channel.cancel(c.consumerTag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inflight]);
    for (const w of this.waiters) w();
    this.waiters.clear();
    const model = this.model;
    this.model = undefined;
    this.pub = undefined;
    if (model) await model.close().catch(() => undefined);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
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
