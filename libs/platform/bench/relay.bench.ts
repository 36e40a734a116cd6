// Outbox relay throughput and lag (run by `pnpm bench relay`):
//   1. baseline in the same run: the bus's own rate, publishes (with confirms, in windows of
//      1,000) and consumption of the same probe events by one consumer, first publish to
//      last delivery;
//   2. at each collection size (documents with no pending events; default 1,000, 10,000
//      and 100,000): a burst of events written while the relay is stopped (one per new
//      document, as creates write them), then from the relay's start to the consumer
//      holding all of them: events/s, and its ratio to the bus's rate measured again (the
//      same number of probe events) right before the burst, since the shared machine's
//      load moves within a run; --repeats such pairs, medians reported; then steady writes
//      (one insert with its event and a nudge, as a service writes, at --rate per second)
//      and the lag from each event's occurredAt to its delivery: p50, p99, max;
//   3. a crash: a backlog written while the lease is held by a replica that died just
//      after extending it (the worst moment), then a fresh replica starts: how long until
//      it holds the lease, and until every event is delivered (beside the bus measured
//      right before). The load average is recorded beside each figure.
// Options: --sizes=1000,10000,100000 --burst=5000 --repeats=3 --rate=200 --seconds=10
// --backlog=10000 --bus=20000. Database: TEST_MONGO_URL (default the local FerretDB); the events travel in
// a RabbitMQ virtual host of their own on the local broker. Results: .data/reports/bench-relay.json.
import type { EventEnvelope } from '@praxis/contracts';
import { infra, testLogger, unique, writeBenchReport } from '@praxis/testing';
import { readFileSync } from 'node:fs';
import { Bus, OUTBOX_LEASES_COLLECTION, OutboxRelay, connectMongo, withOutbox } from '../src';
import { DeliveryLog, createVhost, deleteVhost, probe, writePending, writeSettled } from '../test/outbox-fixtures';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const SIZES = arg('sizes', '1000,10000,100000').split(',').map(Number);
const BURST = Number(arg('burst', '5000'));
const RATE = Number(arg('rate', '200'));
const SECONDS = Number(arg('seconds', '10'));
const BACKLOG = Number(arg('backlog', '10000'));
const BUS_EVENTS = Number(arg('bus', '20000'));
const REPEATS = Number(arg('repeats', '3'));
const logger = testLogger('relay-bench');
const log = (...a: unknown[]) => console.log('[relay bench]', ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function main(): Promise<void> {
  const run = unique('relaybench');
  const url = await createVhost(run);
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName: `bench_relay_${run.split('-')[1]}` });
  const deliveries = new Map<string, DeliveryLog>();
  const logOf = (tenant: string) => {
    let l = deliveries.get(tenant);
    if (!l) deliveries.set(tenant, (l = new DeliveryLog()));
    return l;
  };
  const consumer = new Bus({ url, service: run, logger, prefetch: 1000 });
  await consumer.connect();
  await consumer.consume('count', {
    bindings: ['platform.probe.sent'],
    prefetch: 1000,
    handler: async (e) => deliveries.get(e.tenantId)?.record(e),
  });
  const bus = new Bus({ url, service: `${run}-pub`, logger });
  await bus.connect();
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    database: infra.mongoUrl.replace(/\/\/[^@]*@/, '//'),
    options: { sizes: SIZES, burst: BURST, rate: RATE, seconds: SECONDS, backlog: BACKLOG, busEvents: BUS_EVENTS },
  };
  try {
    // 1. The bus alone; measured again right before each burst (the machine is shared and
    // its load moves within a run: each burst's ratio is to the bus measured beside it).
    let busRuns = 0;
    const measureBus = async (n: number): Promise<number> => {
      const tenant = `${run}-bus${busRuns++}`;
      const d = logOf(tenant);
      const events = Array.from({ length: n }, (_, i) => probe(tenant, i));
      const t0 = performance.now();
      for (let i = 0; i < events.length; i += 1000) await Promise.all(events.slice(i, i + 1000).map((e) => bus.publish(e)));
      await until(() => d.unique >= n, 120_000, 'bus baseline deliveries');
      return Math.round(n / ((performance.now() - t0) / 1000));
    };
    {
      const rate = await measureBus(BUS_EVENTS);
      results.bus = { events: BUS_EVENTS, perSecond: rate };
      log(`bus alone: ${BUS_EVENTS} events published (confirmed) and consumed at ${rate}/s`);
    }

    // 2. At each collection size.
    const col = mongo.collection('documents');
    await col.createIndex({ _outboxPending: 1 });
    let settled = 0;
    const sizes: Record<string, unknown>[] = [];
    for (const size of SIZES) {
      const tf = performance.now();
      await writeSettled(col, `${run}-s${size}`, size - settled);
      settled = size;
      const total = await col.estimatedDocumentCount();
      log(`collection: ${total} documents (${Math.round(performance.now() - tf)} ms to add ${size} without events)`);

      // a. bursts, each beside the bus measured just before it (--repeats times; medians)
      const bursts: {
        perSecond: number;
        busPerSecond: number;
        ratio: number;
        seconds: number;
        cleanedUpAfterSeconds: number;
        load: string;
      }[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const busPerSecond = await measureBus(BURST);
        const relay = new OutboxRelay({ bus, logger, conn: mongo, collections: [col], owner: `bench-${size}-${r}` });
        await relay.init();
        const burstTenant = `${run}-b${size}-${r}`;
        const bd = logOf(burstTenant);
        const ids = await writePending(col, burstTenant, BURST);
        const t0 = performance.now();
        relay.start();
        await until(() => bd.has(ids) === ids.length, 600_000, 'burst delivered');
        const seconds = (performance.now() - t0) / 1000;
        await until(async () => (await col.countDocuments({ _outboxPending: true })) === 0, 600_000, 'burst cleaned up');
        const cleanedUpAfterSeconds = (performance.now() - t0) / 1000;
        await relay.stop();
        const perSecond = BURST / seconds;
        bursts.push({ perSecond, busPerSecond, ratio: perSecond / busPerSecond, seconds, cleanedUpAfterSeconds, load: loadavg() });
        log(
          `  ${total} documents, burst ${r + 1}/${REPEATS}: ${Math.round(perSecond)}/s, the bus just before ${busPerSecond}/s (${(perSecond / busPerSecond).toFixed(2)}x); load ${loadavg()}`,
        );
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const perSecond = med(bursts.map((b) => b.perSecond));
      const busRate = med(bursts.map((b) => b.busPerSecond));
      const ratio = med(bursts.map((b) => b.ratio));
      const cleanS = med(bursts.map((b) => b.cleanedUpAfterSeconds));
      const burstS = med(bursts.map((b) => b.seconds));
      const duplicates = bursts.reduce((n, _, r) => n + logOf(`${run}-b${size}-${r}`).duplicates, 0);
      const relay = new OutboxRelay({ bus, logger, conn: mongo, collections: [col], owner: `bench-${size}` });
      await relay.init();
      relay.start();
      // b. steady writes
      const steadyTenant = `${run}-r${size}`;
      const sd = logOf(steadyTenant);
      const written: EventEnvelope[] = [];
      const writes: Promise<unknown>[] = [];
      const ts = performance.now();
      for (let i = 0; i < RATE * SECONDS; i++) {
        const due = ts + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const e = probe(steadyTenant, i);
        written.push(e);
        writes.push(
          col
            .insertOne(withOutbox({ _id: `${steadyTenant}-${i}`, tenantId: steadyTenant, pad: 'x'.repeat(320) }, [e]) as never)
            .then(() => relay.nudge()),
        );
      }
      const achievedRate = (RATE * SECONDS) / ((performance.now() - ts) / 1000);
      await Promise.all(writes);
      await until(() => sd.has(written.map((e) => e.id)) === written.length, 120_000, 'steady events delivered');
      const lags = written.map((e) => sd.firstAt.get(e.id)! - Date.parse(e.occurredAt)).sort((a, b) => a - b);
      await relay.stop();
      const row = {
        documents: total,
        burst: {
          events: BURST,
          seconds: +burstS.toFixed(2),
          perSecond: Math.round(perSecond),
          busPerSecond: busRate,
          ratioToBus: +ratio.toFixed(2),
          repeats: bursts.map((b) => ({ ...b, perSecond: Math.round(b.perSecond), ratio: +b.ratio.toFixed(2) })),
          cleanedUpAfterSeconds: +cleanS.toFixed(2),
          duplicates,
        },
        steady: {
          events: written.length,
          writesPerSecond: Math.round(achievedRate),
          lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] },
          duplicates: sd.duplicates,
        },
      };
      sizes.push(row);
      log(
        `${total} documents: burst of ${BURST} relayed at ${Math.round(perSecond)}/s (median of ${REPEATS}; median ratio ${row.burst.ratioToBus}x the bus measured just before each, median ${busRate}/s; cleaned up after ${cleanS.toFixed(1)} s); ` +
          `steady ${Math.round(achievedRate)} writes/s: lag p50 ${row.steady.lagMs.p50} ms, p99 ${row.steady.lagMs.p99} ms, max ${row.steady.lagMs.max} ms`,
      );
    }
    results.sizes = sizes;

    // 3. After a crash: the lease is held by a replica that died right after extending it.
    {
      const tenant = `${run}-crash`;
      const d = logOf(tenant);
      const ids = await writePending(col, tenant, BACKLOG);
      const leaseMs = 3_000;
      // Die just after extending the lease (half a term before the next one): the worst case.
      await sleep(leaseMs - (Date.now() % leaseMs) + leaseMs / 2 + 20);
      const k = Math.floor(Date.now() / leaseMs);
      await mongo
        .collection(OUTBOX_LEASES_COLLECTION)
        .insertMany([k, k + 1].map((t) => ({ _id: `relay|${t}`, owner: 'crashed', at: new Date() })) as never[]);
      const busRate = await measureBus(BURST);
      const relay = new OutboxRelay({ bus, logger, conn: mongo, collections: [col], owner: 'successor', leaseMs });
      await relay.init();
      const t0 = performance.now();
      relay.start();
      await until(() => relay.lease.holds(), 60_000, 'successor holds the lease');
      const leaseS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      await until(() => d.has(ids) === ids.length, 600_000, 'backlog delivered');
      const drainS = (performance.now() - t1) / 1000;
      await relay.stop();
      results.crash = {
        backlog: BACKLOG,
        leaseWaitSeconds: +leaseS.toFixed(2),
        drainSeconds: +drainS.toFixed(2),
        totalSeconds: +(leaseS + drainS).toFixed(2),
        perSecond: Math.round(BACKLOG / drainS),
        busPerSecond: busRate,
        load: loadavg(),
        duplicates: d.duplicates,
      };
      log(
        `crash: ${BACKLOG} pending; the successor held the lease after ${leaseS.toFixed(1)} s (worst case: the dead replica's terms, 1.5 of ${leaseMs} ms, then half a term's grace) and delivered them all ${drainS.toFixed(1)} s later (${Math.round(BACKLOG / drainS)}/s, ${(BACKLOG / drainS / busRate).toFixed(2)}x the bus measured just before, ${busRate}/s); ${(leaseS + drainS).toFixed(1)} s in all; load ${loadavg()}`,
      );
    }
    log(`results: ${writeBenchReport('bench-relay.json', results)}`);
  } finally {
    await bus.close();
    await consumer.close();
    await deleteVhost(run);
    await mongo.dropDatabase();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
