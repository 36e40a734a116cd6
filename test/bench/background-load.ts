// Background load for benchmarks that must be measured "while the rest of the platform
// carries load" (scripts/bench auth): a records service in this process, on the shared
// FerretDB, RabbitMQ and Redis, given patient reads and creates through HTTP at a steady
// rate (open loop: arrivals do not wait for answers), until SIGTERM. Prints `ready` once
// seeded, and on SIGTERM one JSON line with the rates it kept and their latencies.
// Options: --get=N reads per second (default 100), --post=N creates per second (default 10).
import { serveRecords } from '../../services/records/bench/serve-records';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const GET_PER_S = arg('get', 100);
const POST_PER_S = arg('post', 10);
const person = { givenName: 'Load', familyName: 'Ground', birthDate: '1980-01-01', email: 'load@example.org', mobile: '+447700900001' };

async function main(): Promise<void> {
  const service = await serveRecords('background-load');
  const { tenant } = service;
  const url = `${service.url}/api/v1/patients`;
  const call = async (method: 'GET' | 'POST', path: string, token: string) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: JSON.stringify(person) } : {}),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status >= 300) throw new Error(`${method} answered ${res.status}`);
    return body;
  };
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) ids.push((await call('POST', '', tenant.receptionist.token)).id!);
  process.stdout.write('ready\n');

  const stats = { GET: { ok: 0, failed: 0, ms: [] as number[] }, POST: { ok: 0, failed: 0, ms: [] as number[] } };
  const t0 = performance.now();
  let stopping = false;
  const steady = async (method: 'GET' | 'POST', perSecond: number) => {
    if (perSecond <= 0) return;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; !stopping; i++) {
      const wait = t0 + (i * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = performance.now();
      const p = call(
        method,
        method === 'GET' ? `/${ids[i % ids.length]}` : '',
        method === 'GET' ? tenant.clinician.token : tenant.receptionist.token,
      )
        .then(
          () => {
            stats[method].ok++;
            stats[method].ms.push(performance.now() - s);
          },
          () => void stats[method].failed++,
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  };
  const running = Promise.all([steady('GET', GET_PER_S), steady('POST', POST_PER_S)]);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  stopping = true;
  await running;
  const secs = (performance.now() - t0) / 1000;
  const p = (xs: number[], q: number) => Math.round(xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? 0);
  const summary = (m: 'GET' | 'POST') => ({
    perSecond: Math.round((stats[m].ok / secs) * 10) / 10,
    failed: stats[m].failed,
    p50Ms: p(stats[m].ms, 0.5),
    p99Ms: p(stats[m].ms, 0.99),
  });
  process.stdout.write(`${JSON.stringify({ seconds: Math.round(secs * 10) / 10, get: summary('GET'), post: summary('POST') })}\n`);
  await service.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
