// Records throughput (run by `scripts/bench records`): patient GET and create per second,
// with p99, through the service over HTTP (autocannon, real token checks, encryption,
// the audited view written to the outbox before each answer, the relay publishing to the
// broker) beside the raw mongodb driver doing the equivalent reads and writes (findOne by
// _id, insertOne of a same-shaped document) against the same FerretDB in the same run.
// Each comparison runs raw, service, service, raw (half the phase time each), so load from
// other processes on the shared FerretDB weighs on both sides alike.
// The read's raw baseline is the work a patient GET cannot avoid (issue 17): one indexed
// findOne and one durable insert of a view-event document, one after the other; findOne
// alone is measured too. Both collections first get --patients=N other patients (default
// 100,000, over 50 practices) so that every lookup runs at that size.
// Options: --seconds=S per phase and side (default 7), --connections=C (default 10),
// --patients=N (default 100000).
// Results: .data/reports/bench-records.json.
import { infra, runBench, unique, writeBenchReport } from '@praxis/testing';
import autocannon from 'autocannon';
import mongoose from 'mongoose';
import { randomBytes } from 'node:crypto';
import { serveRecords } from './serve-records';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
}

const SECONDS = arg('seconds', 7);
const CONNECTIONS = arg('connections', 10);
const SEED = 100;
const PATIENTS = arg('patients', 100_000);
const PRACTICES = 50;
const log = (...a: unknown[]) => console.log('[records bench]', ...a);

const person = {
  givenName: 'Bench',
  familyName: 'Mark',
  birthDate: '1980-01-01',
  email: 'bench@example.org',
  mobile: '+447700900000',
  address: { line1: '1 Bench St', city: 'Leeds', postcode: 'LS1 1AA' },
};

interface Phase {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  ops: number;
  errors: number;
}

/** Closed-loop load with C concurrent workers for S seconds, like autocannon's connections. */
async function closedLoop(op: (i: number) => Promise<unknown>, seconds: number, concurrency: number): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await op(i++);
        } catch {
          errors++;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => +(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0).toFixed(2);
  return { perSec: Math.round(latencies.length / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99), ops: latencies.length, errors };
}

async function cannon(opts: autocannon.Options, seconds: number): Promise<Phase> {
  const r = await autocannon({ ...opts, connections: CONNECTIONS, duration: seconds });
  const total = r.requests.total;
  return { perSec: Math.round(total / seconds), p50Ms: r.latency.p50, p99Ms: r.latency.p99, ops: total, errors: r.errors + r.non2xx };
}

/** Two halves combined: rate over both, the worse p50/p99 (conservative). */
function merge(a: Phase, b: Phase): Phase {
  return {
    perSec: Math.round((a.perSec + b.perSec) / 2),
    p50Ms: Math.max(a.p50Ms, b.p50Ms),
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    ops: a.ops + b.ops,
    errors: a.errors + b.errors,
  };
}

/**
 * Raw and service in A-B-B-A order, each half the phase time, so a change in the
 * machine's load during the run (FerretDB is shared) weighs on both sides alike.
 */
async function abba(rawOp: () => Promise<Phase>, serviceOp: () => Promise<Phase>): Promise<{ raw: Phase; service: Phase }> {
  const r1 = await rawOp();
  const s1 = await serviceOp();
  const s2 = await serviceOp();
  const r2 = await rawOp();
  return { raw: merge(r1, r2), service: merge(s1, s2) };
}

async function main(): Promise<void> {
  const run = unique('recbench');
  const rawDbName = `bench_recraw_${randomBytes(4).toString('hex')}`;
  const service = await serveRecords('records-bench');
  const { url, tenant, mongo } = service;
  const raw = new mongoose.mongo.MongoClient(infra.mongoUrl, { maxPoolSize: 20 });
  await raw.connect();
  const rawPatients = raw.db(rawDbName).collection('patients');
  const results: Record<string, unknown> = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    seeded: SEED,
    cpus: (await import('node:os')).cpus().length,
    startedAt: new Date().toISOString(),
  };

  try {
    // Seed both sides with the same number of patients; the raw side gets documents of the
    // same shape and size as the service stores (sealed fields, blind index, ref).
    const ids: string[] = [];
    for (let i = 0; i < SEED; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(`${url}/api/v1/patients`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.admin.token}` },
            body: JSON.stringify(person),
          }).then((r) => r.json() as Promise<{ id: string }>),
        ),
      );
      ids.push(...batch.map((p) => p.id));
    }
    const sample = (await mongo
      .collection('patients')
      .findOne({ _id: ids[0] as never }, { projection: { _outbox: 0, _outboxPending: 0 } }))!;
    const rawDoc = (id: string) => ({ ...sample, _id: id, ref: `PX-${randomBytes(4).toString('hex').toUpperCase()}` });
    await rawPatients.createIndex({ tenantId: 1, ref: 1 }, { unique: true });
    await rawPatients.createIndex({ tenantId: 1, familyNameIdx: 1 });
    const rawIds = ids.map((_, i) => `raw_${run}_${i}`);
    await rawPatients.insertMany(rawIds.map(rawDoc) as never[]);
    // The other practices' patients, on both sides: same shape, other tenants and refs.
    const f0 = performance.now();
    const filler = (prefix: string, i: number) => ({
      ...sample,
      _id: `${prefix}_${i}`,
      tenantId: `ten_bench_${i % PRACTICES}`,
      ref: `PX-F${i.toString(36).toUpperCase()}`,
    });
    for (let from = 0; from < PATIENTS; from += 100) {
      const n = Math.min(100, PATIENTS - from);
      const docs = (prefix: string) => Array.from({ length: n }, (_, k) => filler(prefix, from + k));
      await Promise.all([
        mongo.collection('patients').insertMany(docs(`fill_${run}`) as never[]),
        rawPatients.insertMany(docs(`rawfill_${run}`) as never[]),
      ]);
    }
    results.fillerSeconds = +((performance.now() - f0) / 1000).toFixed(1);
    log(
      `seeded ${SEED} patients and ${PATIENTS} others on each side in ${results.fillerSeconds} s; ${SECONDS}s per phase, ${CONNECTIONS} connections`,
    );
    const rawEvents = raw.db(rawDbName).collection('raw_view_events');
    const viewEvent = (patientId: string) => ({
      _id: randomBytes(16).toString('hex'),
      _outbox: [
        {
          id: randomBytes(16).toString('hex'),
          type: 'records.patient.viewed',
          tenantId: sample.tenantId,
          actor: { kind: 'user', id: 'usr_bench' },
          subject: { patientId },
          data: { patientId },
          occurredAt: new Date().toISOString(),
          correlationId: randomBytes(16).toString('hex'),
          version: 1,
        },
      ],
      _outboxPending: true,
      createdAt: new Date(),
    });

    const half = SECONDS / 2;
    // ---- reads ----
    let n = 0;
    const reads = await abba(
      () =>
        closedLoop(
          async (i) => {
            const id = rawIds[i % rawIds.length]!;
            await rawPatients.findOne({ _id: id as never, tenantId: sample.tenantId });
            await rawEvents.insertOne(viewEvent(id) as never);
          },
          half,
          CONNECTIONS,
        ),
      () =>
        cannon(
          {
            url,
            requests: [
              {
                method: 'GET',
                headers: { authorization: `Bearer ${tenant.clinician.token}` },
                setupRequest: (req) => ({ ...req, path: `/api/v1/patients/${ids[n++ % ids.length]}` }),
              },
            ],
          },
          half,
        ),
    );
    const rawRead = reads.raw;
    const serviceRead = reads.service;
    const rawFindOnly = await closedLoop(
      (i) => rawPatients.findOne({ _id: rawIds[i % rawIds.length] as never, tenantId: sample.tenantId }),
      SECONDS,
      CONNECTIONS,
    );
    log('raw findOne + view-event insertOne', rawRead);
    log('raw findOne alone', rawFindOnly);
    log('service GET /patients/:id', serviceRead);

    // ---- creates ----
    let m = 0;
    const creates = await abba(
      () => closedLoop(() => rawPatients.insertOne(rawDoc(`raw_${run}_c${m++}`) as never), half, CONNECTIONS),
      () =>
        cannon(
          {
            url,
            requests: [
              {
                method: 'POST',
                path: '/api/v1/patients',
                headers: { authorization: `Bearer ${tenant.receptionist.token}`, 'content-type': 'application/json' },
                body: JSON.stringify(person),
              },
            ],
          },
          half,
        ),
    );
    const rawCreate = creates.raw;
    const serviceCreate = creates.service;
    log('raw insertOne', rawCreate);
    log('service POST /patients', serviceCreate);

    const ratio = (a: Phase, b: Phase) => +(a.perSec / Math.max(1, b.perSec)).toFixed(3);
    Object.assign(results, {
      patients: PATIENTS + SEED,
      raw: { read: rawRead, findOnly: rawFindOnly, create: rawCreate },
      service: { read: serviceRead, create: serviceCreate },
      ratios: {
        read: ratio(serviceRead, rawRead),
        readVsFindOnly: ratio(serviceRead, rawFindOnly),
        create: ratio(serviceCreate, rawCreate),
      },
      target: { readRatioAtLeast: 0.5, met: ratio(serviceRead, rawRead) >= 0.5 },
      notes: [
        'service GET = token verification + revocation check (Redis) + findOne + patient-key unwrap (cached) + 6 AES-GCM opens + the view event inserted into the outbox before the answer; the relay publishes it to RabbitMQ with confirms and deletes it',
        'service POST = validation + patient-key wrap and insert + 6 AES-GCM seals + blind index + insert with the created event; raw = one insertOne of a same-shaped document',
      ],
    });
    log('ratios (service / raw):', results.ratios);
  } finally {
    await service.close();
    await raw.db(rawDbName).dropDatabase();
    await raw.close();
  }
  log(`wrote ${writeBenchReport('bench-records.json', results)}`);
}

runBench(main);
