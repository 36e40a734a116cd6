// Whose X-Forwarded-For the gateway believes (TRUSTED_PROXIES), and the answers of the
// HTTP layer itself: unknown methods and an oversized Authorization header.
import { TrustedProxies } from '@praxis/platform';
import { sendRaw, unique } from '@praxis/testing';
import net from 'node:net';
import { type FakeUpstream, type TestGateway, call, fakeUpstream, startGateway } from './harness';

const login = (gw: TestGateway, xff: string) =>
  call(gw.url, 'POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json', 'x-forwarded-for': xff }, body: '{}' });

describe('client IPs at the gateway', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await fakeUpstream('auth');
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('a client that is not a trusted proxy cannot buy fresh per-IP budgets with made-up X-Forwarded-For headers', async () => {
    const gw = await startGateway(
      { auth: upstream.url },
      {
        trustedProxies: TrustedProxies.parse('10.10.0.0/16'),
        rateLimits: { ipPerMinute: 1_000, authIpPerMinute: 3, userPerMinute: 1_000 },
      },
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await login(gw, `198.51.100.${i}`)).status);
      console.log(`gateway, spoofed X-Forwarded-For from an untrusted peer: ${statuses.join(' ')}`);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // Upstream sees the address the gateway saw, never the made-up chain.
      expect(upstream.seen.at(-1)?.headers['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await gw.close();
    }
  });

  it('behind a trusted proxy each forwarded client has its own budget; header text that is not an IP counts as the proxy', async () => {
    const gw = await startGateway(
      { auth: upstream.url },
      { trustedProxies: TrustedProxies.loopback, rateLimits: { ipPerMinute: 1_000, authIpPerMinute: 3, userPerMinute: 1_000 } },
    );
    try {
      const a = [];
      for (let i = 0; i < 4; i++) a.push((await login(gw, '203.0.113.10')).status);
      expect(a).toEqual([200, 200, 200, 429]);
      expect((await login(gw, '203.0.113.11')).status).toBe(200);
      expect(upstream.seen.at(-1)?.headers['x-forwarded-for']).toBe('203.0.113.11');
      // Garbage is not a client: it falls back to the proxy's own address, and upstream never sees it.
      await login(gw, `<script>${unique('x')}</script>`);
      expect(upstream.seen.at(-1)?.headers['x-forwarded-for']).toBe('127.0.0.1');
      const keys = await gw.redis.keys('*gateway:rl*');
      expect(keys.some((k) => k.includes('script') || k.includes('203.0.113'))).toBe(false);
    } finally {
      await gw.close();
    }
  });
});

describe('the gateway’s own HTTP answers are problem+json', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway({ auth: upstream.url, records: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it.each(['TRACE', 'PROPFIND'])('%s → 405 with Allow', async (method) => {
    const res = await sendRaw(gw.url, { method, path: '/api/v1/patients' });
    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers.allow).toMatch(/GET/);
  });

  it('a 300 KB Authorization header → 431 problem+json, not a reset', async () => {
    const port = Number(new URL(gw.url).port);
    const result = await new Promise<{ text: string; reset: boolean }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let text = '';
      let reset = false;
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('error', () => (reset = true));
      s.on('close', () => resolve({ text, reset }));
      s.write(`GET /api/v1/patients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(300 * 1024)}\r\n\r\n`);
    });
    console.log(`gateway, 300 KB Authorization: ${result.text.split('\r\n')[0]}, reset=${result.reset}`);
    expect(result.reset).toBe(false);
    expect(result.text).toMatch(/^HTTP\/1\.1 431/);
    expect(result.text).toMatch(/application\/problem\+json/);
  });
});
