// Benchmark (not a test): what the gateway adds to a request. In one run, with autocannon:
//   1. a bare node:http JSON server (the floor on this machine),
//   2. an authenticated GET /api/v1/patients/:id straight to records,
//   3. the same request through the gateway (token check, revocation check, two rate-limit
//      checks in Redis, pooled proxying, access log),
//   4. a second gateway in front of the bare server (the gateway's own cost, nothing to hide it),
//      alternated with the bare server itself over ROUNDS rounds, flat out and at 5,000 req/s,
//   5. 2 and 3 again over a single connection (per-request latency without queueing).
// Every server runs as its own process (the e2e platform fixture). Prints req/s, p50, p99
// and the ratios, and writes .data/reports/bench-gateway.json.
// Run: scripts/bench gateway
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Api, strongPassword, uniqueSlug } from '../../../test/e2e/client';
import { ROOT, startPlatform } from '../../../test/e2e/platform';
import { cpuSecondsOfListener, startBareServer } from './bare-server';

const CONNECTIONS = 10;
const WARMUP_S = 2;
const DURATION_S = 5;
/** The steady offered load of the gateway-over-bare latency run (issue 17: p99 under 5 ms at 5,000 req/s). */
const AT_RATE = 5_000;
/** Direct and gateway runs alternate over several rounds; the median round is reported. */
const ROUNDS = 3;

interface Figures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon against `url` for DURATION_S: flat out over `connections`, or at a steady
 * offered load of `rate` req/s (the latency at that load, without a saturated run's queueing).
 */
async function measure(
  url: string,
  headers: Record<string, string>,
  connections = CONNECTIONS,
  warmup = true,
  rate?: number,
): Promise<Figures> {
  if (warmup) await autocannon({ url, headers, connections, duration: WARMUP_S });
  const r = await autocannon({ url, headers, connections, duration: DURATION_S, ...(rate ? { overallRate: rate } : {}) });
  return {
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function medianOf(runs: Figures[]): Figures & { rounds: Figures[] } {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    rounds: runs,
  };
}

/**
 * Every patient read leaves an access event in records' outbox; wait until its relay has
 * published them, so one run's backlog does not slow the next one down.
 */
async function settle(recordsUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = await fetch(`${recordsUrl}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    const m = /^outbox_backlog(?:\{[^}]*\})? (\d+)/m.exec(text);
    if (!m || m[1] === '0') return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Alternate two targets over ROUNDS rounds (A B, B A, A B …) and keep every round; with
 * `recordsUrl`, records' relay is let settle before each run (runs that read patients).
 */
async function alternate<A extends Figures, B extends Figures>(
  a: () => Promise<A>,
  b: () => Promise<B>,
  recordsUrl?: string,
): Promise<[A[], B[]]> {
  const ra: A[] = [];
  const rb: B[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const runA = async () => void ra.push(await a());
    const runB = async () => void rb.push(await b());
    for (const run of i % 2 === 0 ? [runA, runB] : [runB, runA]) {
      if (recordsUrl) await settle(recordsUrl);
      await run();
    }
  }
  return [ra, rb];
}

async function main(): Promise<void> {
  const platform = await startPlatform({
    services: ['auth', 'records'],
    logLevel: 'info',
    // Limits far above what one benchmark user sends, so the run measures the checks, not refusals.
    env: { gateway: { RATE_LIMIT_USER_PER_MIN: '100000000', RATE_LIMIT_IP_PER_MIN: '100000000' } },
  });
  const bare = await startBareServer();
  try {
    const api = new Api(`${platform.url}/api/v1`);
    const slug = uniqueSlug('bench');
    const password = strongPassword();
    const email = `admin@${slug}.example.test`;
    const signUp = await api.post('/tenants', { name: 'Bench Practice', slug, admin: { name: 'Bench Admin', email, password } });
    if (signUp.status !== 201) throw new Error(`sign-up failed: ${signUp.status}`);
    const login = await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password });
    const token = login.body.accessToken;
    const patient = await api.post<{ id: string }>('/patients', { givenName: 'Bench', familyName: 'Mark', birthDate: '1970-01-01' }, token);
    if (patient.status !== 201) throw new Error(`creating the patient failed: ${patient.status}`);
    const pathname = `/api/v1/patients/${patient.body.id}`;
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };

    // A second gateway whose "records" is the bare server: the gateway's own cost, with
    // no slow service behind it to hide it.
    const overStub = await platform.startGateway({ RECORDS_URL: new URL(bare.url).origin });
    const recordsUrl = platform.urls.records!;
    const directUrl = `${recordsUrl}${pathname}`;
    const gatewayUrl = `${platform.url}${pathname}`;
    // The gateway's own CPU per request (user + system, from /proc), over the bare server.
    const gatewayCpu = cpuSecondsOfListener(Number(new URL(overStub).port));
    const overBareUrl = `${overStub}/api/v1/patients/pat_x`;
    await measure(bare.url, {});
    await autocannon({ url: overBareUrl, headers, connections: CONNECTIONS, duration: WARMUP_S });
    // The bare server and the gateway in front of it alternate over ROUNDS rounds (this
    // host's speed moves by 2x from one minute to the next): each round's ratio is to the
    // bare server measured right beside it.
    const overBareRun = async (rate?: number): Promise<Figures & { cpuMicrosecondsPerRequest: number }> => {
      const before = gatewayCpu();
      const f = await measure(overBareUrl, headers, CONNECTIONS, false, rate);
      return { ...f, cpuMicrosecondsPerRequest: Math.round(((gatewayCpu() - before) / f.requests) * 1e6) };
    };
    // (Nothing here reads patients from records, so no settling between runs.)
    const [bareRounds, overBareRounds] = await alternate(
      () => measure(bare.url, {}, CONNECTIONS, false),
      () => overBareRun(),
    );
    const cpuPerRequest = overBareRounds.map((r) => r.cpuMicrosecondsPerRequest);
    const cpuMicrosecondsPerRequest = median(cpuPerRequest);
    const roundRatios = overBareRounds.map((g, i) => Math.round((g.reqPerSec / bareRounds[i]!.reqPerSec) * 1000) / 1000);
    // The same gateway at a steady offered load of AT_RATE req/s (not flat out): the latency
    // a client sees at that load, without the queueing of a saturated run, and the share of
    // one core the gateway process uses for it; alternated with the bare server at that rate.
    const [atRateRounds, bareAtRateRounds] = await alternate(
      async () => {
        const f = await overBareRun(AT_RATE);
        return { ...f, coreShare: Math.round(((f.cpuMicrosecondsPerRequest * f.requests) / 1e6 / DURATION_S) * 100) / 100 };
      },
      () => measure(bare.url, {}, CONNECTIONS, false, AT_RATE),
    );
    // Warm both paths once, then alternate them so neither always runs second.
    await measure(directUrl, headers, CONNECTIONS);
    await measure(gatewayUrl, headers, CONNECTIONS);
    const [direct, gateway] = await alternate(
      () => measure(directUrl, headers, CONNECTIONS, false),
      () => measure(gatewayUrl, headers, CONNECTIONS, false),
      recordsUrl,
    );
    // One connection: latency without queueing, per request.
    const [directSingle, gatewaySingle] = await alternate(
      () => measure(directUrl, headers, 1, false),
      () => measure(gatewayUrl, headers, 1, false),
      recordsUrl,
    );
    const results = {
      bare: medianOf(bareRounds),
      direct: medianOf(direct),
      gateway: medianOf(gateway),
      gatewayOverBare: medianOf(overBareRounds),
      gatewayOverBareAtRate: medianOf(atRateRounds),
      bareAtRate: medianOf(bareAtRateRounds),
      directSingle: medianOf(directSingle),
      gatewaySingle: medianOf(gatewaySingle),
    };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const report = {
      name: 'gateway',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      setup: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        warmupSeconds: WARMUP_S,
        rounds: ROUNDS,
        reported: 'median round (direct and gateway alternate; so do bare and the gateway in front of it)',
        request: 'GET /api/v1/patients/:id (authenticated, records reads and decrypts, records the view)',
      },
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      results,
      gatewayCpuMicrosecondsPerRequest: cpuMicrosecondsPerRequest,
      ratios: {
        gatewayToDirectP99: ratio(results.gateway.p99Ms, results.direct.p99Ms),
        gatewayToDirectReqPerSec: ratio(results.gateway.reqPerSec, results.direct.reqPerSec),
        directToBareReqPerSec: ratio(results.direct.reqPerSec, results.bare.reqPerSec),
        gatewayToBareReqPerSec: ratio(results.gateway.reqPerSec, results.bare.reqPerSec),
        gatewayOverBareToBareReqPerSec: ratio(results.gatewayOverBare.reqPerSec, results.bare.reqPerSec),
        gatewayOverBareToBareEachRound: roundRatios,
        gatewayToDirectSingleConnectionP50: ratio(results.gatewaySingle.p50Ms, results.directSingle.p50Ms),
        gatewayToDirectSingleConnectionP99: ratio(results.gatewaySingle.p99Ms, results.directSingle.p99Ms),
      },
      // Issue 17's aims for the gateway's own cost (the same tests as `pnpm bench report`,
      // except that p99 must hold in every round at 5,000 req/s, not only in the median).
      // autocannon records latency in whole milliseconds rounded down, so a p99 printed as
      // 4 ms is under 5 ms and one printed as 5 ms is not.
      aims: {
        'gateway over bare ≥ 5,000 req/s (median round)': results.gatewayOverBare.reqPerSec >= AT_RATE,
        'gateway over bare ≥ 0.1× bare (median round)': median(roundRatios) >= 0.1,
        'gateway CPU ≤ 200 µs per request (median round)': cpuMicrosecondsPerRequest <= 200,
        'p99 < 5 ms at 5,000 req/s offered (every round)': atRateRounds.every((r) => r.p99Ms < 5 && r.reqPerSec >= AT_RATE * 0.98),
      },
    };
    const table = (Object.keys(results) as (keyof typeof results)[]).map(
      (k) =>
        `  ${k.padEnd(16)} ${String(results[k].reqPerSec).padStart(7)} req/s   p50 ${String(results[k].p50Ms).padStart(4)} ms   p99 ${String(results[k].p99Ms).padStart(4)} ms   (${results[k].requests} requests, ${results[k].non2xx} non-2xx, ${results[k].errors} errors)`,
    );
    console.log(
      [
        'gateway benchmark',
        ...table,
        `  gateway CPU per request (over the bare server): ${cpuMicrosecondsPerRequest} µs (rounds ${cpuPerRequest.join(', ')}); load average ${report.loadAverage.join(' ')}`,
        `  gateway over bare ÷ bare, each round: ${roundRatios.join(', ')} (median ×${median(roundRatios)}); p99 at ${AT_RATE} req/s offered, each round: ${atRateRounds.map((r) => `${r.p99Ms} ms at ${r.reqPerSec}/s`).join(', ')}`,
        `  records GET through the gateway ÷ direct: p99 ×${report.ratios.gatewayToDirectP99}, req/s ×${report.ratios.gatewayToDirectReqPerSec}; direct/bare req/s ×${report.ratios.directToBareReqPerSec}`,
        ...Object.entries(report.aims).map(([aim, met]) => `  aim ${met ? 'met' : 'NOT met'}: ${aim}`),
      ].join('\n'),
    );
    const out = path.join(ROOT, '.data', 'reports');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'bench-gateway.json'), JSON.stringify(report, null, 2) + '\n');
  } finally {
    bare.child.kill('SIGTERM');
    await platform.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
