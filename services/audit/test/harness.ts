// Test wiring: a real audit core on its own database, its app with tokens from a
// throwaway issuer, and a consumer on a queue named for this suite.
import type { EventEnvelope } from '@praxis/contracts';
import { Bus, KekRing, Metrics, type NewEvent, TokenAuthenticator, connectMongo, connectRedis, makeEvent } from '@praxis/platform';
import { TestIssuer, deleteTestQueues, infra, testDbName, testLogger, unique } from '@praxis/testing';
import type { Connection } from 'mongoose';
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { type Audit, type AuditCore, type AuditDeps, buildAudit } from '../src/app';
import { LOG_CONSUMER, startLogConsumer } from '../src/log/consumer';

const PARALLEL_CONSUMER = 'log-parallel';

/** The KEK of the tests, as a service gets it from its configuration. */
export const kekConfig = { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-1' };
export const kek = new KekRing(kekConfig);

export interface Harness {
  dbName: string;
  conn: Connection;
  redis: Redis;
  issuer: TestIssuer;
  /** The audit service of this suite, built as main.ts builds it (not started: tests start consumers themselves). */
  audit: Audit;
  core: AuditCore;
  app: Express;
  service: string;
  buses: Bus[];
  connections: Connection[];
  /** Another audit core on its own connection to the same database (a second replica). */
  replica(): Promise<AuditCore>;
  /**
   * A tenant id whose events this suite's consumers log. The queue is bound to `#`, so it
   * also receives every other suite's events (and benchmarks' floods): those are acked
   * and dropped, so they cannot slow this suite down.
   */
  track(tenantId: string): string;
  /** Start a consumer (a Bus with this suite's service name) feeding `core`. */
  consumer(core?: AuditCore, prefetch?: number, opts?: { parallel?: boolean }): Promise<Bus>;
  publisher(): Promise<Bus>;
  /** Stop every consumer of this suite's queue (audit is down; the durable queue stays). */
  stopConsumers(): Promise<void>;
  close(): Promise<void>;
}

export async function harness(opts: { checkpointEvery?: number; checkpointIntervalMs?: number } = {}): Promise<Harness> {
  const logger = testLogger('audit');
  const dbName = testDbName('audit');
  const conn = await connectMongo({ url: infra.mongoUrl, dbName });
  const redis = await connectRedis(infra.redisUrl, 'audit-test');
  const issuer = new TestIssuer();
  const service = unique('audit');
  // The service's own bus carries only its outbox (never started here, as before).
  const appBus = new Bus({ url: infra.amqpUrl, service: `${service}-app`, logger });
  await appBus.connect();
  const build = (mongo: Connection): Promise<Audit> =>
    buildAudit({
      logger,
      metrics: new Metrics('audit'),
      mongo,
      bus: appBus,
      authenticator: new TokenAuthenticator(issuer.verifier(), redis),
      keks: kek,
      checkpointEvery: opts.checkpointEvery ?? 10,
      checkpointIntervalMs: opts.checkpointIntervalMs ?? 60_000,
    } satisfies AuditDeps);
  const audit = await build(conn);
  const core: AuditCore = audit;
  const app = audit.app;
  const buses: Bus[] = [];
  const connections: Connection[] = [conn];
  const cores: AuditCore[] = [core];
  let pub: Bus | undefined;
  const consumers: Bus[] = [];
  const tracked = new Set<string>();
  const h: Harness = {
    dbName,
    conn,
    redis,
    issuer,
    audit,
    core,
    app,
    service,
    buses,
    connections,
    async replica() {
      const c2 = await connectMongo({ url: infra.mongoUrl, dbName });
      connections.push(c2);
      const core2 = await build(c2);
      cores.push(core2);
      return core2;
    },
    track(tenantId) {
      tracked.add(tenantId);
      return tenantId;
    },
    async consumer(c = core, prefetch = 500, opts = {}) {
      const bus = new Bus({ url: infra.amqpUrl, service, logger, retryDelaysMs: [100, 300] });
      await bus.connect();
      buses.push(bus);
      consumers.push(bus);
      // A queue without the single-active flag must have another name (queue arguments
      // cannot change once declared).
      const parallel = opts.parallel ? { name: PARALLEL_CONSUMER, singleActiveConsumer: false } : {};
      await startLogConsumer(
        bus,
        { append: (e) => (tracked.has(e.tenantId) ? c.appender.append(e) : Promise.resolve()) },
        { prefetch, ...parallel },
      );
      return bus;
    },
    async publisher() {
      if (!pub) {
        pub = new Bus({ url: infra.amqpUrl, service: `${service}-pub`, logger });
        await pub.connect();
        buses.push(pub);
      }
      return pub;
    },
    async stopConsumers() {
      for (const b of consumers.splice(0)) await b.close();
    },
    async close() {
      for (const c of cores) await c.checkpointer.stop();
      await appBus.close();
      const any = buses[0];
      for (const b of buses) await b.close();
      if (any) for (const name of [LOG_CONSUMER, PARALLEL_CONSUMER]) await deleteTestQueues(any.queuesOf(name));
      await conn.dropDatabase().catch(() => undefined);
      for (const c of connections) await c.close();
      await redis.quit();
    },
  };
  return h;
}

/** A patient-view event of a tenant (ids only). */
export function viewed(tenantId: string, patientId: string, actor: NewEvent['actor'] = { kind: 'user', id: 'usr_test' }): EventEnvelope {
  return makeEvent({ type: 'records.patient.viewed', tenantId, actor, subject: { patientId }, data: { patientId } });
}

export function probe(tenantId: string, seq: number): EventEnvelope {
  return makeEvent({ type: 'platform.probe.sent', tenantId, actor: { kind: 'system', id: 'test' }, data: { seq, run: tenantId } });
}

export async function entriesOf(core: AuditCore, tenantId: string) {
  return core.log.entries.find({ tenantId }).sort({ seq: 1 }).lean();
}
