// The bus's connection to RabbitMQ (docs/platform.md, "Bus topology"): one connection and
// one confirm channel per process, declared exchange, and reconnection with back-off after
// a broker restart (the owner restarts its consumers in `onConnected`). `sendConfirmed` is
// the one way anything is sent: persistent, on the confirm channel, retried across
// reconnects until the deadline, resolved only once the broker confirmed.
import { EVENTS_EXCHANGE } from '@praxis/contracts';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';

export interface ConnectionOptions {
  url: string;
  /** The connection's name at the broker (the owning service). */
  service: string;
  log: Logger;
  metrics?: Metrics;
  /** How long a send waits for a connection and a confirm before failing. */
  publishTimeoutMs?: number;
  /** Runs on every (re)connection before it counts as connected; a failure fails the connection. */
  onConnected(model: ChannelModel): Promise<void>;
  /** The connection was lost: channels made on it are gone. */
  onLost(): void;
}

export class BusConnection {
  private model?: ChannelModel;
  private pub?: ConfirmChannel;
  private connecting?: Promise<void>;
  private closing = false;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectAttempt = 0;
  private readonly waiters = new Set<() => void>();
  /** How many times the connection was lost and re-established (observability, tests). */
  reconnects = 0;

  constructor(private readonly opts: ConnectionOptions) {}

  /** Connect and declare the exchange. Retries until it works or close() is called. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  isConnected(): boolean {
    return !!this.pub && !this.closing;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** The live connection, or undefined while (re)connecting. */
  current(): ChannelModel | undefined {
    return this.model;
  }

  /** A new channel on the live connection (the caller closes it). */
  async channel(): Promise<amqp.Channel> {
    if (!this.model) throw new Error('not connected');
    return this.model.createChannel();
  }

  /** Send with the broker's confirm, retried across connection loss until `publishTimeoutMs`. */
  async sendConfirmed(exchange: string, routingKey: string, body: Buffer, props: amqp.Options.Publish): Promise<void> {
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

  /** No more reconnects or sends; what is in flight may finish before `close()`. */
  beginClose(): void {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
  }

  async close(): Promise<void> {
    this.beginClose();
    for (const w of this.waiters) w();
    this.waiters.clear();
    const model = this.model;
    this.model = undefined;
    this.pub = undefined;
    if (model) await model.close().catch(() => undefined);
  }

  private async doConnect(): Promise<void> {
    const { log } = this.opts;
    const model = await amqp.connect(this.opts.url, { clientProperties: { connection_name: this.opts.service } });
    model.on('error', (err) => log.warn({ err }, 'broker connection error'));
    model.on('close', () => this.onConnectionLost(model));
    try {
      const pub = await model.createConfirmChannel();
      pub.on('error', (err) => log.warn({ err }, 'publish channel error'));
      pub.setMaxListeners(0); // one 'close' listener per publish awaiting its confirm
      pub.on('close', () => {
        if (this.pub === pub) this.pub = undefined;
        if (this.model === model && !this.closing) model.close().catch(() => undefined);
      });
      await pub.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
      this.model = model;
      this.pub = pub;
      await this.opts.onConnected(model);
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
    this.reconnectAttempt = 0;
    log.info('connected to broker');
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private onConnectionLost(model: ChannelModel): void {
    if (this.model !== model && this.model !== undefined) return;
    this.model = undefined;
    this.pub = undefined;
    this.opts.onLost();
    if (this.closing) return;
    this.reconnects++;
    this.opts.metrics?.counter('bus_reconnects_total', 'Broker reconnections').inc();
    this.opts.log.warn('broker connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(250 * 2 ** this.reconnectAttempt, 5_000);
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((err) => {
        this.opts.log.warn({ err: (err as Error).message }, 'reconnect failed');
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
}
