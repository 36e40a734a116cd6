// Fixtures for the outbox relay's tests and benchmark (not tests themselves):
// - a RabbitMQ virtual host of their own on the local broker, so that a flood of probe
//   events reaches no other suite's (or running service's) queue bound to '#';
// - a TCP gate in front of the broker: closed, nothing listens on its port and the bus is
//   unreachable; open, it forwards to the real broker; the shared broker is never stopped;
// - documents carrying events, written in commands of 100 (FerretDB's ordered-insert quirk).
import type { EventEnvelope } from '@praxis/contracts';
import { infra } from '@praxis/testing';
import type { Collection } from 'mongoose';
import net from 'node:net';
import { OUTBOX, OUTBOX_PENDING, makeEvent } from '../src';

const amqp = new URL(infra.amqpUrl);
// The management API of the broker scripts/infra runs (its port is fixed there).
const MGMT = `http://${amqp.hostname}:15672`;
const AUTH = `Basic ${Buffer.from(`${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`).toString('base64')}`;

async function mgmt(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${MGMT}/api/${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`RabbitMQ management ${method} ${path}: ${res.status}`);
}

/** amqp URL of `vhost` on the local broker, through `port` (default: the broker's own). */
export function amqpUrl(vhost: string, port = Number(amqp.port || 5672)): string {
  return `amqp://${amqp.username || 'guest'}:${amqp.password || 'guest'}@${amqp.hostname}:${port}/${encodeURIComponent(vhost)}`;
}

/** A fresh virtual host on the local broker; delete it when done (queues go with it). */
export async function createVhost(name: string): Promise<string> {
  await mgmt('PUT', `vhosts/${encodeURIComponent(name)}`, {});
  await mgmt('PUT', `permissions/${encodeURIComponent(name)}/${encodeURIComponent(decodeURIComponent(amqp.username || 'guest'))}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  return amqpUrl(name);
}

export async function deleteVhost(name: string): Promise<void> {
  await mgmt('DELETE', `vhosts/${encodeURIComponent(name)}`);
}

// A port nothing listens on (the gate opens on it later); whether a TCP connection to a
// port is accepted right now: libs/testing's, under the names these tests use.
export { freePort, portOpen as portAccepts } from '@praxis/testing';

/** A TCP forwarder to the broker that can be closed (connections cut) and opened again. */
export class TcpGate {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  connections = 0;

  constructor(
    readonly port: number,
    private readonly target = { host: amqp.hostname, port: Number(amqp.port || 5672) },
  ) {}

  open(): Promise<void> {
    const server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const probe = (run: string, seq: number): EventEnvelope =>
  makeEvent({ type: 'platform.probe.sent', tenantId: run, actor: { kind: 'system', id: 'relay-test' }, data: { seq, run } });

/** About 400 bytes of document besides the outbox, like a patient record. */
const PAD = 'x'.repeat(320);

/**
 * Insert `n` documents, each carrying one event (as a create through withOutbox would),
 * in commands of at most 100. Returns the events' ids.
 */
export async function writePending(col: Collection, run: string, n: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      const e = probe(run, from + j);
      ids.push(e.id);
      docs.push({ _id: `${run}-${from + j}`, tenantId: run, pad: PAD, [OUTBOX]: [e], [OUTBOX_PENDING]: true });
    }
    await col.insertMany(docs as never[], { ordered: true });
  }
  return ids;
}

/** Insert `n` documents with no events (the data a relay must not be slowed down by). */
export async function writeSettled(col: Collection, run: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 100); j++)
      docs.push({ _id: `${run}-settled-${j}`, tenantId: run, pad: PAD, [OUTBOX]: [], [OUTBOX_PENDING]: false });
    await col.insertMany(docs as never[], { ordered: true });
  }
}

/** Deliveries per event id, as a consumer bound to the probe events of one run sees them. */
export class DeliveryLog {
  readonly counts = new Map<string, number>();
  readonly firstAt = new Map<string, number>();
  deliveries = 0;

  record(e: EventEnvelope): void {
    this.deliveries++;
    this.counts.set(e.id, (this.counts.get(e.id) ?? 0) + 1);
    if (!this.firstAt.has(e.id)) this.firstAt.set(e.id, Date.now());
  }

  get unique(): number {
    return this.counts.size;
  }

  get duplicates(): number {
    return this.deliveries - this.counts.size;
  }

  has(ids: string[]): number {
    return ids.filter((id) => this.counts.has(id)).length;
  }
}
