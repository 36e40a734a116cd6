// CPU profile of the gateway (not a benchmark: scripts/bench does not run it). Starts auth
// and a gateway whose "records" is a bare node:http JSON server, runs authenticated
// GET /api/v1/patients/:id through it with autocannon while the gateway runs under
// `node --cpu-prof`, and prints where the gateway's CPU time went: self time by package
// and by function, and inclusive time of the gateway's own steps. The bare server is
// measured in the same run, so the figures come with their baseline.
// Run: node --import tsx services/gateway/bench/profile.ts [seconds]
// Writes the profile under .data/reports/profiles/ (open it in Chrome DevTools or speedscope).
import autocannon from 'autocannon';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Api, strongPassword, uniqueSlug } from '../../../test/e2e/client';
import { ROOT, startPlatform } from '../../../test/e2e/platform';
import { cpuSeconds, startBareServer } from './bare-server';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, the project's own code, or Node itself. */
function owner(url: string): string {
  if (!url) return '(native/idle)';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node:' + (url.split('/')[1] ?? url).replace(/^node:/, '');
  const local = /(services\/[^/]+|libs\/[^/]+)\/src\/(.*)$/.exec(url);
  if (local) return `${local[1]}/${local[2]}`;
  return url;
}

function summarise(profile: CpuProfile, fromMicroseconds: number, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfByPackage = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < fromMicroseconds) return;
    total += dt;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') idle += name === '(idle)' ? dt : 0;
    const fnKey = `${name || '(anonymous)'} ${owner(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    selfByFn.set(fnKey, (selfByFn.get(fnKey) ?? 0) + dt);
    const pkg = name === '(garbage collector)' ? '(gc)' : name === '(idle)' ? '(idle)' : owner(node.callFrame.url);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url.includes('/services/') && !f.url.includes('/libs/')) continue;
      const key = `${f.functionName || '(anonymous)'} ${owner(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveByFn.set(key, (inclusiveByFn.get(key) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const pct = (x: number) => `${((x / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number, skip: string[] = []) =>
    [...m.entries()]
      .filter(([k]) => !skip.includes(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${k}`);
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
    'self time by package:',
    ...list(selfByPackage, 20, ['(idle)']),
    'self time by function:',
    ...list(selfByFn, top, ['(idle) (native/idle):0']),
    "inclusive time of the project's own functions:",
    ...list(inclusiveByFn, top),
  ].join('\n');
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const dir = path.join(ROOT, '.data', 'reports', 'profiles', `gateway-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const bare = await startBareServer();
  // The gateway's "records" is the bare server; the gateway runs under the profiler.
  const platform = await startPlatform({
    services: ['auth'],
    logLevel: 'info',
    env: {
      gateway: {
        RECORDS_URL: new URL(bare.url).origin,
        RATE_LIMIT_USER_PER_MIN: '100000000',
        RATE_LIMIT_IP_PER_MIN: '100000000',
        NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}`,
      },
    },
  }).catch((err: unknown) => {
    bare.child.kill('SIGTERM');
    throw err;
  });
  const startedAt = Date.now();
  let loadFromMs: number | undefined;
  try {
    const api = new Api(`${platform.url}/api/v1`);
    const slug = uniqueSlug('prof');
    const password = strongPassword();
    const email = `admin@${slug}.example.test`;
    const signUp = await api.post('/tenants', { name: 'Profile Practice', slug, admin: { name: 'Profile Admin', email, password } });
    if (signUp.status !== 201) throw new Error(`sign-up failed: ${signUp.status}`);
    const login = await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password });
    const headers = { authorization: `Bearer ${login.body.accessToken}`, accept: 'application/json' };
    const gw = platform.url;
    const pid = platform.pid('gateway')!;
    const run = async (url: string, h: Record<string, string>, cpuOf?: number) => {
      await autocannon({ url, headers: h, connections: 10, duration: 2 });
      const cpu0 = cpuOf ? cpuSeconds(cpuOf) : 0;
      const r = await autocannon({ url, headers: h, connections: 10, duration: seconds });
      const cpu = cpuOf ? cpuSeconds(cpuOf) - cpu0 : 0;
      return {
        reqPerSec: Math.round(r.requests.average),
        p50: r.latency.p50,
        p99: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors,
        ...(cpuOf ? { cpuMicrosecondsPerRequest: Math.round((cpu / r.requests.total) * 1e6) } : {}),
      };
    };
    const bareFig = await run(bare.url, {});
    loadFromMs = Date.now() - startedAt;
    const gwFig = await run(`${gw}/api/v1/patients/pat_x`, headers, pid);
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(`bare server        ${JSON.stringify(bareFig)}`);
    console.log(`gateway over bare  ${JSON.stringify(gwFig)}  ratio ${(gwFig.reqPerSec / bareFig.reqPerSec).toFixed(3)}`);
    console.log(
      `gateway CPU per request ${gwFig.cpuMicrosecondsPerRequest} µs (user + system, /proc): at most ${Math.round(1e6 / gwFig.cpuMicrosecondsPerRequest!)} req/s on one core`,
    );
  } finally {
    bare.child.kill('SIGTERM');
    await platform.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  // Start-up (module loading) and the bare server's run are left out: samples from when the load began.
  console.log(summarise(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, (loadFromMs ?? 0) * 1000));
  console.log(`profile: ${path.relative(ROOT, path.join(dir, file))}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
