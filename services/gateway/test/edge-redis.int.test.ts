// The gateway's Redis client (src/rate-limit/edge-redis.ts) against real servers: the
// shared Redis, a TLS Redis with a password started here, a port where nothing listens and
// a server that accepts and never answers.
import { infra, localhostCertificate, unique, waitFor } from '@praxis/testing';
import { Redis } from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EdgeRedis } from '../src/rate-limit/edge-redis';
import { RateLimiter } from '../src/rate-limit/limiter';
import { deadPort } from './harness';

/** PONG from the client once the server answers it. */
const pong = (edge: EdgeRedis, timeoutMs = 10_000) =>
  waitFor(async () => (await edge.ping().catch(() => undefined)) === 'PONG', { timeoutMs, what: 'PONG' });

describe('EdgeRedis', () => {
  let admin: Redis;
  beforeAll(async () => {
    admin = new Redis(infra.redisUrl);
  });
  afterAll(() => admin.disconnect());

  it('runs the edge script, keeps answers in order under concurrency, and reloads a flushed script', async () => {
    const edge = new EdgeRedis({ url: infra.redisUrl });
    await edge.connect();
    try {
      expect(await edge.ping()).toBe('PONG');
      const prefix = unique('t:edge');
      const limiter = new RateLimiter(edge, prefix);
      const rule = { name: 'ip', limit: 150, windowMs: 60_000 };
      // 200 checks issued in one tick go out together; each answer must be its own.
      const results = await Promise.all(Array.from({ length: 200 }, () => limiter.check([{ rule, subject: 'a' }])));
      expect(results.filter((r) => r.outcome === 'allowed')).toHaveLength(150);
      expect(results.filter((r) => r.outcome === 'limited')).toHaveLength(50);
      await admin.set(`${prefix}:revoked`, '1', 'EX', 60);
      expect((await limiter.check([{ rule, subject: 'b' }], `${prefix}:revoked`)).outcome).toBe('revoked');
      // The server forgets its scripts (a restart, a failover): NOSCRIPT, loaded again, answered.
      await admin.script('FLUSH');
      expect((await limiter.check([{ rule, subject: 'c' }])).outcome).toBe('allowed');
      await expect(edge.evalsha('0'.repeat(40), 0)).rejects.toThrow(/NOSCRIPT/);
    } finally {
      await edge.quit();
    }
  });

  it('fails at once while Redis is away, and works again once it is back', async () => {
    const port = await deadPort();
    const edge = new EdgeRedis({ url: `redis://127.0.0.1:${port}` });
    await edge.connect();
    let server: ChildProcess | undefined;
    try {
      const t0 = Date.now();
      await expect(edge.ping()).rejects.toThrow(/not connected/);
      expect(Date.now() - t0).toBeLessThan(50);
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      await pong(edge);
      console.log(`edge-redis: reconnected ${Date.now() - t0} ms after the first refusal`);
      // The server goes: commands in flight fail, and new ones fail at once.
      server.kill('SIGKILL');
      await new Promise((r) => server!.once('exit', r));
      await new Promise((r) => setTimeout(r, 100));
      await expect(edge.ping()).rejects.toThrow(/not connected|closed/);
    } finally {
      server?.kill('SIGKILL');
      await edge.quit();
    }
  });

  it('gives up on a server that does not answer, within its deadline, and starts a new connection', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const { port } = silent.address() as net.AddressInfo;
    const edge = new EdgeRedis({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
    await edge.connect();
    try {
      const t0 = Date.now();
      await expect(edge.ping()).rejects.toThrow(/did not answer within 300 ms/);
      const waited = Date.now() - t0;
      console.log(`edge-redis: gave up after ${waited} ms`);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(1_000);
      await new Promise((r) => setTimeout(r, 600));
      expect(sockets.length).toBeGreaterThanOrEqual(2); // the late connection was dropped, a new one made
    } finally {
      await edge.quit();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(() => r(undefined)));
    }
  });

  it('speaks TLS with a password and a database number (rediss://, as in production), and refuses an unknown certificate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-redis-'));
    const { certFile, keyFile } = localhostCertificate(dir, 1);
    const port = await deadPort();
    const password = unique('pw');
    const server = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        certFile,
        '--tls-key-file',
        keyFile,
        '--tls-auth-clients',
        'no',
        '--requirepass',
        password,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(certFile);
    const good = new EdgeRedis({ url: `rediss://:${password}@localhost:${port}/3`, tls: { ca } });
    const untrusted = new EdgeRedis({ url: `rediss://:${password}@localhost:${port}/3` });
    const wrongPassword = new EdgeRedis({ url: `rediss://:nope@localhost:${port}/3`, tls: { ca } });
    try {
      await good.connect();
      await pong(good);
      const sha = (await good.script('LOAD', "return redis.call('SET', KEYS[1], ARGV[1])")) as string;
      await good.evalsha(sha, 1, 'edge-key', 'in-db-3');
      const peek = new Redis({ port, host: 'localhost', password, db: 3, tls: { ca } });
      expect(await peek.get('edge-key')).toBe('in-db-3');
      peek.disconnect();
      await untrusted.connect();
      await expect(untrusted.ping()).rejects.toThrow(/not connected/);
      await wrongPassword.connect();
      await expect(wrongPassword.ping()).rejects.toThrow(/not connected/);
    } finally {
      await Promise.all([good.quit(), untrusted.quit(), wrongPassword.quit()]);
      server.kill('SIGKILL');
    }
  });
});
