// The gateway against real HTTP upstreams and real Redis: routing, edge token checks,
// size limits, timeouts, streaming, headers, CORS, readiness and the OpenAPI document.
import { revokedSessionKey } from '@praxis/contracts';
import { OUTCOME_UNKNOWN, TrustedProxies } from '@praxis/platform';
import { capturingLogger, unique } from '@praxis/testing';
import http from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { type FakeUpstream, type TestGateway, call, deadPort, fakeUpstream, rawGet, startGateway } from './harness';

const serviceDoc = (routes: [string, string, boolean?][]) => ({
  openapi: '3.1.0',
  paths: Object.fromEntries(
    routes.map(([method, path]) => [path, { [method]: { summary: `${method} ${path}`, responses: { 200: { description: 'ok' } } } }]),
  ),
  components: { schemas: { Problem: { type: 'object' } } },
});

describe('gateway', () => {
  let auth: FakeUpstream;
  let records: FakeUpstream;
  let consent: FakeUpstream;
  let slow: FakeUpstream;
  let gw: TestGateway;
  let token: string;
  let sid: string;
  const slowTimers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    auth = await fakeUpstream('auth', {
      openapi: serviceDoc([
        ['post', '/api/v1/auth/login'],
        ['get', '/api/v1/internal/users/{id}'],
        ['get', '/api/v1/auth/me'],
      ]),
      handler: (req, res) => {
        if (req.url === '/.well-known/jwks.json') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ kty: 'EC', kid: 'k1' }] }));
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'auth' })
          .end(JSON.stringify({ upstream: 'auth', url: req.url }));
      },
    });
    records = await fakeUpstream('records', {
      openapi: serviceDoc([
        ['get', '/api/v1/patients/{id}'],
        ['post', '/api/v1/patients'],
        ['get', '/api/v1/patients/{id}/consent'], // consent owns this: dropped from records' part
      ]),
      handler: async (req, res, body) => {
        if (req.url?.startsWith('/api/v1/patients/dies')) {
          req.socket.destroy(); // the service died with the request in hand
          return;
        }
        if (req.url?.startsWith('/api/v1/patients/streaming')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first;');
          await new Promise((r) => setTimeout(r, 600));
          res.end('second');
          return;
        }
        res.writeHead(201, {
          'content-type': 'application/json',
          'x-upstream': 'records',
          'access-control-allow-origin': '*',
          'keep-alive': 'timeout=5',
        });
        res.end(JSON.stringify({ upstream: 'records', method: req.method, url: req.url, bodyBytes: body.length }));
      },
    });
    consent = await fakeUpstream('consent', {
      openapi: serviceDoc([['get', '/api/v1/patients/{id}/consent']]),
      handler: (req, res) => {
        if (!req.url?.endsWith('/export')) {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ upstream: 'consent', method: req.method, url: req.url }));
          return;
        }
        // A long download: the headers at once, then a part every 250 ms for 3 s — four
        // times the gateway's response timeout in all, never that long between two parts.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"items":[0');
        let n = 1;
        const t = setInterval(() => {
          res.write(`,${n++}`);
          if (n === 13) {
            clearInterval(t);
            res.end(']}');
          }
        }, 250);
        slowTimers.add(t);
        res.on('close', () => clearInterval(t));
      },
    });
    slow = await fakeUpstream('messaging', {
      handler: (_req, res) => {
        // Answers long after the gateway's response timeout.
        const t = setTimeout(() => res.writeHead(200).end('{}'), 5_000);
        slowTimers.add(t);
        res.on('close', () => clearTimeout(t));
      },
    });
    const dead = await deadPort();
    gw = await startGateway(
      { auth: auth.url, records: records.url, consent: consent.url, messaging: slow.url, audit: `http://127.0.0.1:${dead}` },
      { responseTimeoutMs: 800 },
    );
    sid = unique('ses');
    token = gw.issuer.sign({ tid: unique('ten'), role: 'clinician', sid });
  });

  afterAll(async () => {
    for (const t of slowTimers) clearTimeout(t);
    await gw.close();
    await Promise.all([auth, records, consent, slow].map((u) => u.close()));
  });

  const bearer = () => ({ authorization: `Bearer ${token}` });

  it('forwards a request to the service that owns the path, same path and query, answer streamed back', async () => {
    const res = await call(gw.url, 'GET', '/api/v1/patients/p1?x=1', { headers: bearer() });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ upstream: 'records', method: 'GET', url: '/api/v1/patients/p1?x=1' });
    expect(res.headers['x-upstream']).toBe('records');
    // Hop-by-hop and CORS headers of the service never reach the client.
    expect(res.headers['keep-alive']).not.toBe('timeout=5');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends consent sub-resources of a patient to consent, notes to records, login to auth', async () => {
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1/consent', { headers: bearer() })).json()).toMatchObject({ upstream: 'consent' });
    expect(
      (
        await call(gw.url, 'PUT', '/api/v1/patients/p1/preferences', {
          headers: { ...bearer(), 'content-type': 'application/json' },
          body: '{}',
        })
      ).json(),
    ).toMatchObject({ upstream: 'consent' });
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1/notes', { headers: bearer() })).json()).toMatchObject({ upstream: 'records' });
    expect(
      (await call(gw.url, 'POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '{}' })).json(),
    ).toMatchObject({ upstream: 'auth' });
  });

  it('passes the request id, a child traceparent of the same trace and the client address upstream', async () => {
    const requestId = unique('req-abcdef');
    const traceId = 'a'.repeat(31) + '1';
    const before = records.seen.length;
    const res = await call(gw.url, 'GET', '/api/v1/patients/p2', {
      headers: {
        ...bearer(),
        'x-request-id': requestId,
        traceparent: `00-${traceId}-${'b'.repeat(16)}-01`,
        'x-forwarded-for': '203.0.113.9',
      },
    });
    expect(res.headers['x-request-id']).toBe(requestId);
    const seen = records.seen[before]!;
    expect(seen.headers['x-request-id']).toBe(requestId);
    expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(seen.headers.traceparent).not.toContain('b'.repeat(16));
    // Loopback is a trusted proxy in tests, so its X-Forwarded-For names the client.
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9');
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('replaces an invalid request id with its own and answers it', async () => {
    const res = await call(gw.url, 'GET', '/api/v1/patients/p3', { headers: { ...bearer(), 'x-request-id': 'bad id!' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never routes service-only endpoints, whatever the spelling', async () => {
    const before = auth.seen.length + records.seen.length;
    for (const p of ['/api/v1/internal/users/u1', '/api/v1/INTERNAL/users/u1', '/api/v1/%69nternal/users/u1', '/api/v1/internal']) {
      const res = await call(gw.url, 'GET', p, { headers: bearer() });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(auth.seen.length + records.seen.length).toBe(before);
  });

  it('refuses dot segments, empty segments and encoded slashes with 400', async () => {
    for (const p of ['/api/v1/patients/../internal/x', '/api/v1/patients/%2e%2e/internal', '/api/v1//patients', '/api/v1/patients/a%2Fb']) {
      expect(await rawGet(gw.url, p, bearer())).toBe(400);
    }
  });

  it('answers 404 problem+json for paths no service owns', async () => {
    const res = await call(gw.url, 'GET', '/api/v1/nothing-here', { headers: bearer() });
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, type: 'urn:praxis:problem:not-found' });
    expect((await call(gw.url, 'GET', '/nothing-here')).status).toBe(404);
  });

  it('refuses a request without a valid token at the edge, before any service sees it', async () => {
    const before = records.seen.length;
    const none = await call(gw.url, 'GET', '/api/v1/patients/p1');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const forged = await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
    expect(records.seen.length).toBe(before);
  });

  it('refuses a token whose session was revoked', async () => {
    const revokedSid = unique('ses');
    const t = gw.issuer.sign({ tid: unique('ten'), role: 'admin', sid: revokedSid });
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { authorization: `Bearer ${t}` } })).status).toBe(201);
    await gw.redis.set(revokedSessionKey(revokedSid), '1', 'EX', 60);
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
  });

  it('lets public routes through without a token', async () => {
    expect(
      (await call(gw.url, 'POST', '/api/v1/tenants', { headers: { 'content-type': 'application/json' }, body: '{}' })).json(),
    ).toMatchObject({ upstream: 'auth' });
    expect(
      (await call(gw.url, 'POST', '/api/v1/auth/mfa/verify', { headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ).toBe(200);
    expect(
      (await call(gw.url, 'POST', '/api/v1/auth/refresh', { headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ).toBe(200);
    // …but not the routes next to them.
    expect((await call(gw.url, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await call(gw.url, 'POST', '/api/v1/auth/logout')).status).toBe(401);
    expect((await call(gw.url, 'GET', '/api/v1/tenants')).status).toBe(401);
  });

  it('passes /.well-known/jwks.json through to auth', async () => {
    const res = await call(gw.url, 'GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ keys: [{ kty: 'EC', kid: 'k1' }] });
  });

  it('streams request bodies up to 1 MB and refuses bigger ones with 413, declared or chunked', async () => {
    const ok = await call(gw.url, 'POST', '/api/v1/patients', {
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: Buffer.alloc(1024 * 1024, 0x20),
    });
    expect(ok.status).toBe(201);
    expect(ok.json()).toMatchObject({ bodyBytes: 1024 * 1024 });

    const declared = await call(gw.url, 'POST', '/api/v1/patients', {
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: Buffer.alloc(1024 * 1024 + 1, 0x20),
    });
    expect(declared.status).toBe(413);
    expect(declared.json()).toMatchObject({ status: 413, type: 'urn:praxis:problem:payload-too-large' });

    const chunks = async function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(64 * 1024, 0x20);
    };
    const chunked = await call(gw.url, 'POST', '/api/v1/patients', {
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: Readable.from(chunks()),
    });
    expect(chunked.status).toBe(413);
  });

  it('streams the answer: the first bytes arrive before the service has finished', async () => {
    const started = Date.now();
    const firstChunkAt = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${gw.url}/api/v1/patients/streaming`, { headers: bearer() }, (res) => {
        res.once('data', () => resolve(Date.now() - started));
        res.resume();
      });
      req.on('error', reject);
    });
    expect(firstChunkAt).toBeLessThan(500);
  });

  it('answers 503 at once when a service is down', async () => {
    const res = await call(gw.url, 'GET', '/api/v1/audit/events', { headers: bearer() });
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ status: 503, type: 'urn:praxis:problem:unavailable' });
    expect(res.ms).toBeLessThan(1_000);
  });

  it('says whether a failed change may have been made: 503 when the service was never reached, 504 when it was', async () => {
    const statuses = {
      readCutOff: (await call(gw.url, 'GET', '/api/v1/patients/dies', { headers: bearer() })).status,
      changeCutOff: await call(gw.url, 'PATCH', '/api/v1/patients/dies', {
        headers: { ...bearer(), 'content-type': 'application/json' },
        body: '{"a":1}',
      }),
      changeToDownService: (
        await call(gw.url, 'POST', '/api/v1/audit/events', { headers: { ...bearer(), 'content-type': 'application/json' }, body: '{}' })
      ).status,
      changeTooSlow: (
        await call(gw.url, 'POST', '/api/v1/messages', { headers: { ...bearer(), 'content-type': 'application/json' }, body: '{}' })
      ).status,
    };
    expect(statuses.changeCutOff.json()).toMatchObject({ status: 504, type: 'urn:praxis:problem:timeout', detail: OUTCOME_UNKNOWN });
    expect({ ...statuses, changeCutOff: statuses.changeCutOff.status }).toEqual({
      readCutOff: 503,
      changeCutOff: 504,
      changeToDownService: 503,
      changeTooSlow: 504,
    });
  });

  it('answers 504 when a service is too slow, after the response timeout and not much later', async () => {
    const res = await call(gw.url, 'GET', '/api/v1/messages/m1', { headers: bearer() });
    expect(res.status).toBe(504);
    expect(res.json()).toMatchObject({ status: 504, type: 'urn:praxis:problem:timeout' });
    expect(res.ms).toBeGreaterThanOrEqual(400); // undici's timers are coarse (~0.5 s)
    expect(res.ms).toBeLessThan(3_000);
  });

  it('passes a streamed download through: the deadline is on the first byte, not on the whole transfer', async () => {
    const started = Date.now();
    const res = await request(`${gw.url}/api/v1/subject-access-requests/sar1/export`, { headers: bearer(), reset: true });
    const firstByteMs = Date.now() - started;
    const parts: number[] = [];
    let body = '';
    for await (const c of res.body) {
      parts.push(Date.now() - started);
      body += (c as Buffer).toString('utf8');
    }
    const totalMs = Date.now() - started;
    console.log(
      `streamed download through the gateway: headers after ${firstByteMs} ms, ${parts.length} parts, done after ${totalMs} ms (response timeout 800 ms)`,
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(body)).toEqual({ items: Array.from({ length: 13 }, (_, i) => i) });
    expect(firstByteMs).toBeLessThan(800);
    expect(totalMs).toBeGreaterThan(2_500); // the transfer outlasted the timeout several times over
    expect(parts.length).toBeGreaterThan(5); // and arrived as it was written, not buffered to the end
  });

  it('sets security headers on every answer', async () => {
    const res = await call(gw.url, 'GET', '/livez');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for listed origins', async () => {
    const pre = await call(gw.url, 'OPTIONS', '/api/v1/patients', {
      headers: {
        origin: 'https://app.example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.test');
    expect(String(pre.headers['access-control-allow-headers'])).toContain('Authorization');
    const refused = await call(gw.url, 'OPTIONS', '/api/v1/patients', {
      headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const actual = await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { ...bearer(), origin: 'https://app.example.test' } });
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.test');
    expect(String(actual.headers['access-control-expose-headers'])).toContain('X-Request-Id');
    const other = await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { ...bearer(), origin: 'https://evil.example.test' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('is not ready while a configured service is down, and says which', async () => {
    const res = await call(gw.url, 'GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'not-ready',
      checks: { redis: 'ok', auth: 'ok', records: 'ok', consent: 'ok', audit: 'failing' },
    });
    expect((await call(gw.url, 'GET', '/livez')).status).toBe(200);
  });

  it('serves Prometheus metrics with route classes, not raw paths', async () => {
    const res = await call(gw.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_request_duration_seconds');
    expect(res.text).toContain('route="/patients/:id"');
    expect(res.text).not.toContain('/patients/p1');
    expect(res.text).toContain('gateway_upstream_failures_total');
  });

  it('assembles one OpenAPI document without service-only endpoints, with the gateway’s own', async () => {
    const res = await call(gw.url, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, { tags?: string[] }>>; 'x-unavailable-services'?: string[] };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/login',
        '/api/v1/auth/me',
        '/api/v1/patients',
        '/api/v1/patients/{id}',
        '/api/v1/patients/{id}/consent',
        '/livez',
        '/readyz',
        '/.well-known/jwks.json',
        '/docs',
      ]),
    );
    expect(Object.keys(doc.paths).some((p) => p.includes('/internal'))).toBe(false);
    expect(doc.paths['/api/v1/patients/{id}/consent']!.get!.tags).toEqual(['consent']);
    expect(doc['x-unavailable-services']).toEqual(expect.arrayContaining(['audit', 'messaging']));
  });

  it('serves the web client and the API browser as same-origin static pages', async () => {
    const home = await call(gw.url, 'GET', '/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toContain('text/html');
    expect(home.text).toContain('<script src="/app.js"');
    const docs = await call(gw.url, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/docs/docs.js');
    expect((await call(gw.url, 'GET', '/app.js')).status).toBe(200);
  });
});

describe('gateway rate limits', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway(
      { auth: upstream.url, records: upstream.url },
      { rateLimits: { ipPerMinute: 8, authIpPerMinute: 4, userPerMinute: 5 } },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const fromIp = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });

  it('limits each user, with 429 problem+json and Retry-After', async () => {
    const t = gw.issuer.sign({ tid: unique('ten'), role: 'admin' });
    const ip = '198.51.100.10';
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: fromIp(ip, { authorization: `Bearer ${t}` }) });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(last!.headers['content-type']).toContain('application/problem+json');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another user from the same address is not held back by the first user's limit.
    const other = gw.issuer.sign({ tid: unique('ten'), role: 'admin' });
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: fromIp(ip, { authorization: `Bearer ${other}` }) })).status).toBe(
      200,
    );
  });

  it('limits each client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: fromIp('198.51.100.20') })).status);
    // Unauthenticated requests still count against the address (401 until it is spent).
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
    expect((await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: fromIp('198.51.100.21') })).status).toBe(401);
  });

  it('is ready when Redis and every configured service are', async () => {
    const res = await call(gw.url, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', service: 'gateway', checks: { redis: 'ok', auth: 'ok', records: 'ok' } });
  });

  it('limits the public auth endpoints per address more tightly', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await call(gw.url, 'POST', '/api/v1/auth/login', {
            headers: fromIp('198.51.100.30', { 'content-type': 'application/json' }),
            body: '{}',
          })
        ).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe('gateway without Redis', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway({ auth: upstream.url, records: upstream.url }, { redisUrl: `redis://127.0.0.1:${await deadPort()}` });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('fails closed: API requests get 503, nothing reaches the service, and it is not ready', async () => {
    const t = gw.issuer.sign({ tid: unique('ten'), role: 'admin' });
    const res = await call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(upstream.seen.length).toBe(0);
    expect((await call(gw.url, 'GET', '/readyz')).status).toBe(503);
    expect((await call(gw.url, 'GET', '/livez')).status).toBe(200);
  });
});

describe('gateway access log', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  const captured = capturingLogger('gateway');

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway({ auth: upstream.url, records: upstream.url }, { logger: captured.logger });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('logs method, route class, status and time, never the path ids or the query string', async () => {
    const t = gw.issuer.sign({ tid: unique('ten'), role: 'admin' });
    await call(gw.url, 'GET', '/api/v1/patients?familyName=Featherstonehaugh', { headers: { authorization: `Bearer ${t}` } });
    await call(gw.url, 'GET', '/api/v1/patients/pat_secretid42/notes', { headers: { authorization: `Bearer ${t}` } });
    const lines = captured.lines().filter((l) => l.includes('"msg":"request"'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const all = captured.lines().join('\n');
    expect(all).not.toContain('Featherstonehaugh');
    expect(all).not.toContain('pat_secretid42');
    expect(all).not.toContain(t);
    const entries = lines.map((l) => JSON.parse(l) as { http: { route: string; status: number; ms: number }; requestId: string });
    expect(entries.map((e) => e.http.route)).toEqual(expect.arrayContaining(['/patients', '/patients/:id/notes']));
    expect(entries[0]!.requestId).toBeTruthy();
    expect(typeof entries[0]!.http.ms).toBe('number');
  });
});

describe('gateway readiness on Redis alone', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway(
      { auth: upstream.url, records: upstream.url, audit: `http://127.0.0.1:${await deadPort()}` },
      { readiness: 'redis' },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('stays ready while one service is down, still naming it', async () => {
    const res = await call(gw.url, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', auth: 'ok', audit: 'failing' } });
  });
});

describe('gateway with no trusted proxy in front', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    gw = await startGateway({ auth: upstream.url, records: upstream.url }, { trustedProxies: TrustedProxies.none });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('replaces a client-made X-Forwarded-For with the address it really sees', async () => {
    const t = gw.issuer.sign({ tid: unique('ten'), role: 'admin' });
    await call(gw.url, 'GET', '/api/v1/patients/p1', {
      headers: { authorization: `Bearer ${t}`, 'x-forwarded-for': '203.0.113.66', forwarded: 'for=203.0.113.66' },
    });
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.forwarded).toBeUndefined();
  });
});
