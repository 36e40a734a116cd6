// Audit throughput (run by `scripts/bench audit`):
//   1. raw baselines in the same run: bus publish+consume with a no-op handler, and raw
//      database inserts (insertMany, batches of the prefetch size) of the same entry
//      documents, bare and with the audit indexes, in batches of the append batch size;
//   2. audit end to end: events/s from publish to chained-and-stored, one tenant (every
//      event contends for the same chain: the worst case) and several tenants;
//   3. a burst published while audit is stopped, then how the backlog drains.
// Raw indexed inserts are measured again right before 2 (each) and 3, and each phase is
// also compared with that adjacent figure (the machine is shared; its load moves within a
// run); the load average is recorded beside each phase.
// Ratios: against raw inserts (bare and indexed), the bus, and the bus + insert bound
// (1 / (1/bus + 1/insert): both on the same cores with no overhead at all).
// Options: --events=N (default 50000), --tenants=T (default 10), --burst=B (default N),
// --prefetch=P (default 2000), --batch=B (default 500, also the raw insert batch).
// The events travel in a RabbitMQ virtual host of the bench's own on the local broker.
// Results: .data/reports/bench-audit.json.
import { Bus, KekRing, Metrics, connectMongo, makeEvent } from '@praxis/platform';
import { deleteTestQueues, infra, runBench, testLogger, unique, writeBenchReport } from '@praxis/testing';
import type { EventEnvelope } from '@praxis/contracts';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { buildAuditLog } from '../src/app';
import { chainEntries, GENESIS_HASH } from '../src/log/chain';
import { startLogConsumer } from '../src/log/consumer';
import { toEntryDoc } from '../src/log/model';
import { verifyTenantLog } from '../src/verify/verify-log';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
}

// 50,000 (the issue's burst) runs in about two minutes on a 2-core machine; pass a smaller
// --events for a quick look.
const N = arg('events', 50_000);
const TENANTS = arg('tenants', 10);
const BURST = arg('burst', N);
const PREFETCH = arg('prefetch', 2000);
const BATCH = arg('batch', 500);
const logger = testLogger('audit-bench');
const log = (...a: unknown[]) => console.log('[audit bench]', ...a);

function events(n: number, tenants: string[]): EventEnvelope[] {
  return Array.from({ length: n }, (_, i) => {
    const tenantId = tenants[i % tenants.length]!;
    const patientId = `pat_${i % 997}`;
    return makeEvent({
      type: 'records.patient.viewed',
      tenantId,
      actor: { kind: 'user', id: `usr_${i % 13}` },
      subject: { patientId },
      data: { patientId },
    });
  });
}

async function publishAll(bus: Bus, evs: EventEnvelope[]): Promise<number> {
  const t0 = performance.now();
  const window = 1000;
  for (let i = 0; i < evs.length; i += window) await Promise.all(evs.slice(i, i + window).map((e) => bus.publish(e)));
  return (performance.now() - t0) / 1000;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, onTick?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await onTick?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

const rate = (n: number, s: number) => Math.round(n / s);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

// A RabbitMQ virtual host of the bench's own: its consumers bound to every event ('#') see
// only the bench's events, and its 10,000s of events reach no other queue bound to '#' on
// the shared broker (a run without it appended other people's events and filled their
// queues). Deleted at the end, queues and all.
const amqp = new URL(infra.amqpUrl);
const MGMT = `http://${amqp.hostname}:15672/api`;
const USER = decodeURIComponent(amqp.username || 'guest');
const AUTH = `Basic ${Buffer.from(`${USER}:${decodeURIComponent(amqp.password || 'guest')}`).toString('base64')}`;
async function mgmt(method: string, p: string, body?: unknown): Promise<void> {
  const res = await fetch(`${MGMT}/${p}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`RabbitMQ management ${method} ${p}: ${res.status}`);
}
async function createVhost(name: string): Promise<string> {
  await mgmt('PUT', `vhosts/${encodeURIComponent(name)}`, {});
  await mgmt('PUT', `permissions/${encodeURIComponent(name)}/${encodeURIComponent(USER)}`, { configure: '.*', write: '.*', read: '.*' });
  const url = new URL(infra.amqpUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

async function main(): Promise<void> {
  const run = unique('auditbench');
  const amqpUrl = await createVhost(run);
  const dbName = `bench_audit_${randomBytes(4).toString('hex')}`;
  const conn = await connectMongo({ url: infra.mongoUrl, dbName });
  const pub = new Bus({ url: amqpUrl, service: `${run}-pub`, logger, publishTimeoutMs: 120_000 });
  await pub.connect();
  const buses: Bus[] = [];
  const queues: ReturnType<Bus['queuesOf']>[] = [];
  const kek = new KekRing({ KEK: randomBytes(32).toString('base64'), KEK_ID: 'bench' });
  const core = await buildAuditLog({
    mongo: conn,
    keks: kek,
    logger,
    metrics: new Metrics('audit'),
    checkpointEvery: 1000,
    checkpointIntervalMs: 30_000,
    maxBatch: BATCH,
  });
  const results: Record<string, unknown> = {
    events: N,
    tenants: TENANTS,
    burst: BURST,
    prefetch: PREFETCH,
    batch: BATCH,
    cpus: (await import('node:os')).cpus().length,
    startedAt: new Date().toISOString(),
  };
  try {
    // ---- baseline 1: the bus, publish + consume, no-op handler ----
    {
      const bus = new Bus({ url: amqpUrl, service: `${run}-raw`, logger });
      await bus.connect();
      buses.push(bus);
      const tenant = `${run}-raw`;
      let got = 0;
      await bus.consume('sink', {
        bindings: ['records.patient.viewed'],
        prefetch: PREFETCH,
        handler: async (e) => void (e.tenantId === tenant && got++),
      });
      queues.push(bus.queuesOf('sink'));
      const evs = events(N, [tenant]);
      const t0 = performance.now();
      const pubS = await publishAll(pub, evs);
      await until(async () => got >= N, 600_000);
      const s = (performance.now() - t0) / 1000;
      results.busRaw = { publishPerSec: rate(N, pubS), publishAndConsumePerSec: rate(N, s), seconds: +s.toFixed(2) };
      log('bus publish+consume', results.busRaw);
      await bus.close();
      await deleteTestQueues(bus.queuesOf('sink'));
    }

    // ---- baseline 2: raw inserts of the same documents (the indexed one again right before
    // each audit phase below: the shared machine's load moves within a run) ----
    let rawRuns = 0;
    const rawIndexed = async (): Promise<number> => {
      const tenant = `${run}-db${rawRuns}`;
      const docs = chainEntries({ seq: 0, hash: GENESIS_HASH }, events(N, [tenant])).map((e) => toEntryDoc(e, new Date()));
      const indexed = conn.collection(`bench_raw_indexed_${rawRuns++}`);
      for (const [spec, unique_] of [
        [{ tenantId: 1, seq: 1 }, true],
        [{ tenantId: 1, eventId: 1 }, true],
        [{ tenantId: 1, patientId: 1, seq: 1 }, false],
        [{ tenantId: 1, actorId: 1, seq: 1 }, false],
        [{ tenantId: 1, type: 1, seq: 1 }, false],
      ] as const) {
        await indexed.createIndex(spec, { unique: unique_ });
      }
      const t0 = performance.now();
      for (let i = 0; i < docs.length; i += BATCH)
        await indexed.insertMany(docs.slice(i, i + BATCH).map((d) => ({ ...d })) as never[], { ordered: true });
      const perSec = rate(N, (performance.now() - t0) / 1000);
      await indexed.drop();
      return perSec;
    };
    {
      const tenant = `${run}-db`;
      const docs = chainEntries({ seq: 0, hash: GENESIS_HASH }, events(N, [tenant])).map((e) => toEntryDoc(e, new Date()));
      const bare = conn.collection('bench_raw_bare');
      const t0 = performance.now();
      for (let i = 0; i < docs.length; i += BATCH)
        await bare.insertMany(docs.slice(i, i + BATCH).map((d) => ({ ...d })) as never[], { ordered: true });
      const bareS = (performance.now() - t0) / 1000;
      results.dbRaw = { insertManyBarePerSec: rate(N, bareS), insertManyIndexedPerSec: await rawIndexed(), batch: BATCH };
      log('raw inserts', results.dbRaw);
      await bare.drop();
    }

    // ---- audit end to end, 1 tenant and TENANTS tenants ----
    const consumer = new Bus({ url: amqpUrl, service: run, logger, retryDelaysMs: [1000, 5000] });
    await consumer.connect();
    buses.push(consumer);
    await startLogConsumer(consumer, core.appender, { prefetch: PREFETCH });
    queues.push(consumer.queuesOf('log'));
    // Counted in-process as append() resolves (after the entry is stored and the head
    // moved): polling the database would load it and skew the figure.
    const done = new Map<string, number>();
    const append = core.appender.append.bind(core.appender);
    core.appender.append = (e) => append(e).then(() => void done.set(e.tenantId, (done.get(e.tenantId) ?? 0) + 1));
    const stored = async (tenants: string[]) => tenants.reduce((n, t) => n + (done.get(t) ?? 0), 0);
    for (const k of [1, TENANTS]) {
      const rawBefore = await rawIndexed();
      const tenants = Array.from({ length: k }, (_, i) => `${run}-e2e${k}-${i}`);
      const evs = events(N, tenants);
      const t0 = performance.now();
      const pubS = await publishAll(pub, evs);
      await until(async () => (await stored(tenants)) >= N, 900_000);
      const s = (performance.now() - t0) / 1000;
      for (const t of tenants) if ((await core.log.lastEntry(t)).seq !== N / k) throw new Error(`tenant ${t} has a short log`);
      const verifyT0 = performance.now();
      const v = await verifyTenantLog(tenants[0]!, core);
      results[`audit${k === 1 ? 'OneTenant' : 'ManyTenants'}`] = {
        tenants: k,
        endToEndPerSec: rate(N, s),
        seconds: +s.toFixed(2),
        publishSeconds: +pubS.toFixed(2),
        verifyOk: v.ok,
        verifyEntries: v.entries,
        verifySeconds: +((performance.now() - verifyT0) / 1000).toFixed(2),
        rawIndexedJustBeforePerSec: rawBefore,
        vsRawIndexedJustBefore: +(rate(N, s) / rawBefore).toFixed(2),
        loadAverage: loadavg(),
      };
      log(`audit end to end, ${k} tenant(s)`, results[`audit${k === 1 ? 'OneTenant' : 'ManyTenants'}`]);
    }

    // ---- a burst while audit is down, then the drain ----
    {
      await consumer.close();
      const rawBefore = await rawIndexed();
      const tenants = Array.from({ length: TENANTS }, (_, i) => `${run}-burst-${i}`);
      const evs = events(BURST, tenants);
      const pubS = await publishAll(pub, evs);
      const { queue } = consumer.queuesOf('log');
      const depthBefore = await pub.queueDepth(queue);
      const again = new Bus({ url: amqpUrl, service: run, logger, retryDelaysMs: [1000, 5000] });
      await again.connect();
      buses.push(again);
      const t0 = performance.now();
      await startLogConsumer(again, core.appender, { prefetch: PREFETCH });
      const samples: { s: number; stored: number; queued: number }[] = [];
      let lastSample = 0;
      await until(
        async () => (await stored(tenants)) >= BURST,
        900_000,
        async () => {
          if (performance.now() - lastSample < 2000) return;
          lastSample = performance.now();
          samples.push({ s: +((lastSample - t0) / 1000).toFixed(1), stored: await stored(tenants), queued: await pub.queueDepth(queue) });
        },
      );
      const s = (performance.now() - t0) / 1000;
      results.burstDrain = {
        burst: BURST,
        tenants: TENANTS,
        publishSeconds: +pubS.toFixed(2),
        queuedBeforeStart: depthBefore,
        drainSeconds: +s.toFixed(2),
        drainPerSec: rate(BURST, s),
        rawIndexedJustBeforePerSec: rawBefore,
        vsRawIndexedJustBefore: +(rate(BURST, s) / rawBefore).toFixed(2),
        loadAverage: loadavg(),
        samples,
      };
      log('burst drain', { ...(results.burstDrain as object), samples: samples.length });
    }

    const dbBare = (results.dbRaw as { insertManyBarePerSec: number }).insertManyBarePerSec;
    const dbIdx = (results.dbRaw as { insertManyIndexedPerSec: number }).insertManyIndexedPerSec;
    const bus = (results.busRaw as { publishAndConsumePerSec: number }).publishAndConsumePerSec;
    const one = (results.auditOneTenant as { endToEndPerSec: number }).endToEndPerSec;
    const many = (results.auditManyTenants as { endToEndPerSec: number }).endToEndPerSec;
    const drain = (results.burstDrain as { drainPerSec: number }).drainPerSec;
    // Audit must do, for every event, the bus's work and the database's work on the same
    // cores: with no overhead at all it would reach 1 / (1/bus + 1/insert).
    const bound = 1 / (1 / bus + 1 / dbIdx);
    results.busPlusInsertBoundPerSec = Math.round(bound);
    results.ratios = {
      oneTenantVsRawInsertBare: +(one / dbBare).toFixed(2),
      oneTenantVsRawInsertIndexed: +(one / dbIdx).toFixed(2),
      manyTenantsVsRawInsertBare: +(many / dbBare).toFixed(2),
      manyTenantsVsRawInsertIndexed: +(many / dbIdx).toFixed(2),
      oneTenantVsBus: +(one / bus).toFixed(2),
      manyTenantsVsBus: +(many / bus).toFixed(2),
      oneTenantVsBusPlusInsertBound: +(one / bound).toFixed(2),
      manyTenantsVsBusPlusInsertBound: +(many / bound).toFixed(2),
      burstDrainVsRawInsertIndexed: +(drain / dbIdx).toFixed(2),
      burstDrainVsRawInsertBare: +(drain / dbBare).toFixed(2),
      // Each against raw indexed inserts measured right before it.
      oneTenantVsRawIndexedJustBefore: (results.auditOneTenant as { vsRawIndexedJustBefore: number }).vsRawIndexedJustBefore,
      manyTenantsVsRawIndexedJustBefore: (results.auditManyTenants as { vsRawIndexedJustBefore: number }).vsRawIndexedJustBefore,
      burstDrainVsRawIndexedJustBefore: (results.burstDrain as { vsRawIndexedJustBefore: number }).vsRawIndexedJustBefore,
    };
    results.finishedAt = new Date().toISOString();
    log('ratios', results.ratios);
    log(`written to ${writeBenchReport('bench-audit.json', results)}`);
  } finally {
    await core.checkpointer.stop();
    for (const b of buses) await b.close().catch(() => undefined);
    for (const q of queues) await deleteTestQueues(q).catch(() => undefined);
    await pub.close();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await mgmt('DELETE', `vhosts/${encodeURIComponent(run)}`).catch(() => undefined);
  }
}

runBench(main);
