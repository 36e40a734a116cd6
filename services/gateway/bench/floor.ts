// How much of the gateway's cost any Node proxy pays (not a benchmark: scripts/bench does not
// run it; docs/performance.md, "The floor of a Node proxy"). Starts the bare node:http JSON
// server, then, one after another, proxies (floor-proxy.ts) that add the gateway's edge steps
// one at a time, and loads each with autocannon (10 connections, 2 s warm-up, 8 s): req/s,
// p99, the proxy's CPU per request (user + system from /proc) and the ratio to the bare server
// measured in the same run. Needs Redis on 127.0.0.1:6379 (scripts/infra up) for `redis`.
// Run: node --import tsx services/gateway/bench/floor.ts [variant ...]
//   a variant is `none` or steps of floor-proxy.ts joined by commas (default: each step, then all).
import autocannon from 'autocannon';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, freePort } from '../../../test/e2e/platform';
import { cpuSeconds, startBareServer } from './bare-server';

async function startProxy(upstream: string, add: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'services/gateway/bench/floor-proxy.ts'), upstream, String(port), add],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`proxy exited (${c})`)));
  });
  return { url: `http://127.0.0.1:${port}/patients/pat_x`, child };
}

async function load(url: string, pid?: number) {
  await autocannon({ url, connections: 10, duration: 2 });
  const before = pid ? cpuSeconds(pid) : 0;
  const r = await autocannon({ url, connections: 10, duration: 8 });
  return {
    reqPerSec: Math.round(r.requests.average),
    p99Ms: r.latency.p99,
    ...(pid ? { cpuMicrosecondsPerRequest: Math.round(((cpuSeconds(pid) - before) / r.requests.total) * 1e6) } : {}),
  };
}

async function main() {
  const steps = ['redis', 'headers', 'ids', 'log', 'express'];
  const variants = process.argv.slice(2).length ? process.argv.slice(2) : ['none', ...steps, steps.join(','), 'none'];
  const bare = await startBareServer();
  try {
    const baseline = await load(bare.url);
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`${'bare node:http server'.padEnd(40)} ${JSON.stringify(baseline)}`);
    for (const v of variants) {
      const upstream = new URL(bare.url).origin;
      const proxy = await startProxy(upstream, v);
      try {
        const f = await load(proxy.url, proxy.child.pid);
        console.log(`${`proxy + ${v}`.padEnd(40)} ${JSON.stringify({ ...f, ratio: +(f.reqPerSec / baseline.reqPerSec).toFixed(3) })}`);
      } finally {
        proxy.child.kill();
      }
    }
  } finally {
    bare.child.kill();
  }
}

void main();
