// The gateway as a process, as it runs in production: a bad configuration stops it with a
// message naming the variable; SIGTERM lets an in-flight request finish, then it exits 0.
import { infra, unique } from '@praxis/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { type FakeUpstream, fakeUpstream } from './harness';

const cwd = path.resolve(__dirname, '..');

function startMain(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', '@praxis/platform/telemetry-register', 'src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gateway process', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await fakeUpstream('records', {
      handler: (req, res) => {
        if (req.url === '/.well-known/jwks.json') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
          return;
        }
        // Public, slow: an in-flight request while the gateway is told to stop.
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'), 700);
      },
    });
  });
  afterAll(() => upstream.close());

  it('refuses to start with a bad configuration, naming the variable', async () => {
    const p = startMain({ REDIS_URL: infra.redisUrl, AUTH_URL: 'not a url', PORT: String(await freePort()) });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('AUTH_URL');
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const p = startMain({
      PORT: String(port),
      REDIS_URL: infra.redisUrl,
      AUTH_URL: upstream.url,
      RATE_LIMIT_PREFIX: unique('t:gw-boot'),
      LOG_LEVEL: 'info',
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${base}/livez`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`gateway did not start:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const inFlight = fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slow: true });
    expect(await p.exited).toBe(0);
    // The access line of that request and the shutdown lines were flushed before exit.
    expect(p.output()).toContain('"route":"/auth/login"');
    expect(p.output()).toContain('"dependency":"redis"');
  });
});
