// The outbox relay at scale and under faults, on the real servers: a backlog written while
// the bus is unreachable, two replicas on one collection, and a replica SIGKILLed in the
// middle of a drain. Every figure measured is printed. The events travel in a RabbitMQ
// virtual host of this suite's own (outbox-fixtures.ts), so they reach no other queue.
import { infra, testDbName, testLogger, unique, waitFor } from '@praxis/testing';
import amqp from 'amqplib';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { Bus, Metrics, OutboxRelay, connectMongo, createHttpApp, pingMongo } from '../src';
import { DeliveryLog, TcpGate, amqpUrl, createVhost, deleteVhost, freePort, portAccepts, writePending } from './outbox-fixtures';

const say = (...a: unknown[]) => console.log('[outbox relay]', ...a);

async function metricValue(metrics: Metrics, name: string): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  return m ? ((await m.get()).values[0]?.value ?? 0) : 0;
}

describe('outbox relay: backlog, replicas and crashes (real FerretDB and RabbitMQ)', () => {
  const run = unique('relay');
  const logger = testLogger();
  let url: string;
  let mongo: Connection;
  let consumer: Bus;
  const logs = new Map<string, DeliveryLog>();
  const children: ChildProcess[] = [];

  /** Deliveries of the probe events whose tenant is `tenant` (one per test). */
  const logOf = (tenant: string) => {
    let l = logs.get(tenant);
    if (!l) logs.set(tenant, (l = new DeliveryLog()));
    return l;
  };

  beforeAll(async () => {
    url = await createVhost(run);
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('relay') });
    consumer = new Bus({ url, service: run, logger, prefetch: 500 });
    await consumer.connect();
    await consumer.consume('count', {
      bindings: ['platform.probe.sent'],
      handler: async (e) => {
        logs.get(e.tenantId)?.record(e);
      },
    });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await consumer.close();
    await deleteVhost(run);
    await mongo.dropDatabase();
    await mongo.close();
  });

  const pending = (collection: string) => mongo.collection(collection).countDocuments({ _outboxPending: true });

  it('drains a 10,000-event backlog written while the bus was unreachable, and /readyz stays ready meanwhile', async () => {
    const tenant = `${run}-backlog`;
    const log = logOf(tenant);
    const col = mongo.collection('backlog');
    const gate = new TcpGate(await freePort());
    const metrics = new Metrics('relay-test');
    const bus = new Bus({ url: amqpUrl(run, gate.port), service: `${run}-pub`, logger, publishTimeoutMs: 1_000 });
    const relay = new OutboxRelay({
      bus,
      logger,
      metrics,
      conn: mongo,
      collections: [col],
      intervalMs: 50,
      maxIntervalMs: 500,
      leaseMs: 2_000,
    });
    await relay.init();
    relay.start();
    try {
      // The bus really is unreachable: nothing listens where it points.
      expect(await portAccepts(gate.port)).toBe(false);
      await expect(amqp.connect(amqpUrl(run, gate.port))).rejects.toThrow(/ECONNREFUSED/);
      expect(bus.isConnected()).toBe(false);

      let t = Date.now();
      const ids = await writePending(col, tenant, 10_000);
      relay.nudge();
      say(`backlog: wrote 10,000 documents with one event each in ${((Date.now() - t) / 1000).toFixed(1)} s while the bus was unreachable`);
      await waitFor(async () => (await metricValue(metrics, 'outbox_lag_seconds')) > 1, {
        what: 'the relay to report lag',
        timeoutMs: 20_000,
      });
      expect(log.unique).toBe(0);
      expect(await pending('backlog')).toBe(10_000);
      say(
        `bus down: 0 events delivered, 10,000 documents pending, outbox_lag_seconds ${(await metricValue(metrics, 'outbox_lag_seconds')).toFixed(1)}`,
      );

      // The bus comes back; readiness (database + broker, as services declare it) is
      // sampled while the relay catches up.
      const app = createHttpApp({
        service: 'relay-test',
        logger,
        metrics,
        readiness: {
          database: () => pingMongo(mongo),
          broker: async () => {
            if (!bus.isConnected()) throw new Error('not connected');
          },
        },
      });
      await gate.open();
      await waitFor(() => bus.isConnected(), { what: 'bus reconnected', timeoutMs: 15_000 });
      t = Date.now();
      const ready: number[] = [];
      let maxReadyMs = 0;
      let maxBacklog = 0;
      while (log.has(ids) < ids.length && Date.now() - t < 60_000) {
        const r0 = Date.now();
        ready.push((await request(app).get('/readyz')).status);
        maxReadyMs = Math.max(maxReadyMs, Date.now() - r0);
        maxBacklog = Math.max(maxBacklog, await metricValue(metrics, 'outbox_backlog'));
        await new Promise((r) => setTimeout(r, 200));
      }
      const drained = (Date.now() - t) / 1000;
      await waitFor(async () => (await pending('backlog')) === 0, { what: 'flags cleared', timeoutMs: 90_000 });
      say(
        `bus back: 10,000 events delivered in ${drained.toFixed(1)} s (${Math.round(10_000 / drained)} events/s incl. consumer); ` +
          `deliveries ${log.deliveries}, duplicates ${log.duplicates}; /readyz ${ready.filter((s) => s === 200).length}/${ready.length} ready ` +
          `(slowest ${maxReadyMs} ms); highest outbox_backlog seen ${maxBacklog}; gate connections ${gate.connections}`,
      );
      expect(log.has(ids)).toBe(10_000);
      expect(ready.length).toBeGreaterThan(0);
      expect(ready.every((s) => s === 200)).toBe(true);
      expect(await metricValue(metrics, 'outbox_published_total')).toBeGreaterThanOrEqual(10_000);
      expect(await metricValue(metrics, 'outbox_lag_seconds')).toBeLessThan(1);
    } finally {
      await relay.stop();
      await bus.close();
      await gate.close();
    }
  }, 180_000);

  it('two replicas relaying one collection publish each event once, and hand over without losing any', async () => {
    const tenant = `${run}-pair`;
    const log = logOf(tenant);
    const col = mongo.collection('pair');
    const replicas = ['a', 'b'].map((name) => {
      const metrics = new Metrics(`relay-${name}`);
      const bus = new Bus({ url, service: `${run}-${name}`, logger });
      const relay = new OutboxRelay({
        bus,
        logger,
        metrics,
        conn: mongo,
        collections: [col],
        owner: `replica-${name}`,
        intervalMs: 50,
        maxIntervalMs: 250,
        leaseMs: 3_000,
      });
      return { name, metrics, bus, relay };
    });
    for (const r of replicas) {
      await r.bus.connect();
      await r.relay.init();
      r.relay.start();
    }
    try {
      // Writes arrive over a few seconds (both replicas nudged, as each service replica
      // nudges its own relay), so several lease terms see publishing.
      const write = async (from: number, batches: number) => {
        const ids: string[] = [];
        for (let i = 0; i < batches; i++) {
          ids.push(...(await writePending(col, tenant, 50, from + i * 50)));
          for (const r of replicas) if (!stopped.has(r.name)) r.relay.nudge();
          await new Promise((r) => setTimeout(r, 75));
        }
        return ids;
      };
      const stopped = new Set<string>();
      const steady = await write(0, 20);
      await waitFor(() => log.has(steady) === steady.length, { what: 'the first 1,000 delivered', timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1_000)); // anything published twice would arrive by now
      const once = steady.filter((id) => log.counts.get(id) === 1).length;
      const leader = replicas.find((r) => r.relay.lease.holds());
      say(`two replicas, steady state: 1,000 events, each delivered once: ${once}; lease held by ${leader?.name ?? 'nobody'}`);
      expect(once).toBe(1_000);

      // The holder shuts down (a rolling deploy) while events keep coming: the other
      // takes over after its grace; nothing is lost, and only what the first had in flight
      // could go out twice (a graceful stop waits for its clean-ups, so normally nothing).
      expect(leader).toBeDefined();
      stopped.add(leader!.name);
      const handover = write(1_000, 20);
      await leader!.relay.stop();
      const later = await handover;
      await waitFor(() => log.has(later) === later.length, { what: 'the next 1,000 delivered', timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1_000));
      const byReplica = await Promise.all(
        replicas.map(async (r) => `${r.name}: ${await metricValue(r.metrics, 'outbox_published_total')}`),
      );
      const twice = later.filter((id) => (log.counts.get(id) ?? 0) > 1).length;
      say(
        `two replicas, hand-over: 1,000 more events, all delivered; ${twice} delivered twice; published by ${byReplica.join(', ')} (replica ${leader!.name} stopped)`,
      );
      expect(log.has([...steady, ...later])).toBe(2_000);
      expect(steady.every((id) => log.counts.get(id) === 1)).toBe(true);
      expect(twice).toBeLessThanOrEqual(2 * 500);
      for (const r of replicas) expect(await metricValue(r.metrics, 'outbox_published_total')).toBeGreaterThan(0);
      await waitFor(async () => (await pending('pair')) === 0, { what: 'outbox cleared', timeoutMs: 60_000 });
    } finally {
      for (const r of replicas) {
        await r.relay.stop();
        await r.bus.close();
      }
    }
  }, 120_000);

  it('a replica SIGKILLed in the middle of a drain loses nothing; its successor takes over when the lease runs out', async () => {
    const tenant = `${run}-kill`;
    const log = logOf(tenant);
    const col = mongo.collection('kill');
    const ids = await writePending(col, tenant, 5_000);
    const config = {
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: mongo.name,
      AMQP_URL: url,
      COLLECTION: 'kill',
      OWNER: 'doomed',
      LEASE_MS: '2000',
      BATCH: '250',
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'outbox-relay-child.ts'), JSON.stringify(config)], {
      cwd: path.join(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let childOut = '';
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (childOut += d.toString()));
    await waitFor(() => log.unique >= 1_000, {
      what: `the child to publish 1,000 (it said: ${childOut.slice(-200)})`,
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    const atKill = {
      delivered: log.unique,
      pending: await pending('kill'),
      recorded: (await mongo.collection('outbox_relayed').find({}).toArray()).reduce((n, d) => n + (d.ids as string[]).length, 0),
    };
    const leases = (await mongo.collection('outbox_leases').find({}).toArray()).map((l) => `${String(l._id)} ${l.owner}`);
    say(
      `lease terms at the kill (now ${Math.floor(Date.now() / 2_000)}): ${leases.join(', ')}; the child said: ${childOut
        .split('\n')
        .filter((l) => !l.startsWith('published'))
        .slice(-5)
        .join(' | ')}`,
    );
    // Mid-drain: some events out, many still pending.
    expect(child.signalCode).toBe('SIGKILL');
    expect(atKill.delivered).toBeLessThan(5_000);
    expect(atKill.pending).toBeGreaterThan(0);

    const metrics = new Metrics('relay-successor');
    const bus = new Bus({ url, service: `${run}-successor`, logger });
    await bus.connect();
    const successor = new OutboxRelay({
      bus,
      logger,
      metrics,
      conn: mongo,
      collections: [col],
      owner: 'successor',
      intervalMs: 50,
      maxIntervalMs: 200,
      leaseMs: 2_000,
    });
    const t = Date.now();
    successor.start();
    try {
      await waitFor(() => successor.lease.holds(), { what: 'the successor to take the lease', timeoutMs: 10_000, intervalMs: 20 });
      const leaseWait = (Date.now() - t) / 1000;
      await waitFor(() => log.has(ids) === ids.length, { what: 'every event delivered', timeoutMs: 60_000 });
      const done = (Date.now() - t) / 1000;
      await waitFor(async () => (await pending('kill')) === 0, { what: 'outbox cleared', timeoutMs: 90_000 });
      await new Promise((r) => setTimeout(r, 500));
      const twice = [...log.counts.values()].filter((n) => n > 1).length;
      say(
        `SIGKILL mid-drain: child killed after ${atKill.delivered} of 5,000 delivered with ${atKill.pending} documents pending ` +
          `and ${atKill.recorded} events recorded in outbox_relayed as published; ` +
          `successor took the lease after ${leaseWait.toFixed(1)} s and finished after ${done.toFixed(1)} s; ` +
          `published ${log.unique} distinct events (lost ${5_000 - log.has(ids)}), deliveries at the consumer ${log.deliveries}, ` +
          `duplicates at the broker ${log.duplicates} (${twice} events twice, each dropped by a consumer's idempotency check); successor published ${await metricValue(metrics, 'outbox_published_total')}`,
      );
      expect(log.has(ids)).toBe(5_000);
      // Only what the dead replica had confirmed and neither recorded in outbox_relayed nor
      // removed can come twice: at most the one chunk it had in flight (250).
      expect(log.duplicates).toBeLessThanOrEqual(250);
      expect(await mongo.collection('outbox_relayed').countDocuments({})).toBe(0);
      expect([...log.counts.values()].every((n) => n <= 2)).toBe(true);
    } finally {
      await successor.stop();
      await bus.close();
    }
  }, 180_000);
});
