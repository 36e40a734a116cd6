// A/B of two gateway builds under the same load at the same time (not a benchmark:
// scripts/bench does not run it; docs/performance.md). On a shared machine whose speed
// moves by 2x from one minute to the next, two runs one after the other cannot show a 10 %
// difference; two gateways loaded together at the same fixed rate can. It starts auth, a
// bare JSON server as "records" and two gateways over it, A with the environment in --a= and
// B with --b= (JSON objects; the code under test reads a variable of its own to choose a
// variant), then runs --rounds= rounds (default 6) of 8 s in which both get --rate= req/s
// (default 1,500) of authenticated GET /api/v1/patients/:id at once, and prints each
// one's CPU per request (/proc) per round and the median of B/A over the rounds.
// Run: node --import tsx services/gateway/bench/ab.ts --b='{"SOME_FLAG":"1"}' [--a='{}'] [--rounds=6] [--rate=1500]
import { runBench } from '@praxis/testing';
import autocannon from 'autocannon';
import { Api, strongPassword, uniqueSlug } from '../../../test/e2e/client';
import { startPlatform } from '../../../test/e2e/platform';
import { cpuSecondsOfListener, startBareServer } from './bare-server';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

async function main() {
  const bare = await startBareServer();
  const envB = JSON.parse(arg('b', '{}')) as Record<string, string>;
  const envA = JSON.parse(arg('a', '{}')) as Record<string, string>;
  const base = { RECORDS_URL: new URL(bare.url).origin, RATE_LIMIT_USER_PER_MIN: '100000000', RATE_LIMIT_IP_PER_MIN: '100000000' };
  const platform = await startPlatform({ services: ['auth'], logLevel: 'info', env: { gateway: { ...base, ...envA } } });
  try {
    const urlB = await platform.startGateway({ ...base, ...envB });
    const api = new Api(`${platform.url}/api/v1`);
    const slug = uniqueSlug('ab');
    const password = strongPassword();
    const email = `admin@${slug}.example.test`;
    await api.post('/tenants', { name: 'AB Practice', slug, admin: { name: 'AB Admin', email, password } });
    const login = await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password });
    const headers = { authorization: `Bearer ${login.body.accessToken}`, accept: 'application/json' };
    const cpuOf = (url: string) => cpuSecondsOfListener(Number(new URL(url).port));
    const gws = { A: { url: platform.url, cpu: cpuOf(platform.url) }, B: { url: urlB, cpu: cpuOf(urlB) } };
    for (const g of Object.values(gws)) await autocannon({ url: `${g.url}/api/v1/patients/pat_x`, headers, connections: 10, duration: 4 });
    const res: { A: number[]; B: number[] } = { A: [], B: [] };
    const rounds = Number(arg('rounds', '6'));
    const rate = Number(arg('rate', '1500'));
    for (let i = 0; i < rounds; i++) {
      const c0 = { A: gws.A.cpu(), B: gws.B.cpu() };
      const [ra, rb] = await Promise.all(
        (['A', 'B'] as const).map((k) =>
          autocannon({ url: `${gws[k].url}/api/v1/patients/pat_x`, headers, connections: 10, duration: 8, overallRate: rate }),
        ),
      );
      for (const [k, r] of [
        ['A', ra!],
        ['B', rb!],
      ] as const) {
        if (r.non2xx || r.errors) throw new Error(`${k}: ${r.non2xx} non-2xx ${r.errors} errors`);
        res[k].push(Math.round(((gws[k].cpu() - c0[k]) / r.requests.total) * 1e6));
      }
      console.log(
        `round ${i}: A ${Math.round(ra!.requests.average)}/s p99 ${ra!.latency.p99}  B ${Math.round(rb!.requests.average)}/s p99 ${rb!.latency.p99}`,
      );
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    console.log('A us/req', res.A.join(' '), 'median', med(res.A));
    console.log('B us/req', res.B.join(' '), 'median', med(res.B));
    const ratios = res.A.map((a, i) => res.B[i]! / a).sort((x, y) => x - y);
    console.log(
      'B/A per pair median',
      ratios[Math.floor(ratios.length / 2)]!.toFixed(3),
      'pairs',
      ratios.map((r) => r.toFixed(2)).join(' '),
    );
  } finally {
    bare.child.kill('SIGTERM');
    await platform.stop();
  }
}
runBench(main);
