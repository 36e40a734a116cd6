// The gateway's cheap path (docs/performance.md) still does every check: a token's
// signature is verified once and remembered, but revocation, expiry and the rate limits
// are checked on every request, and every answer still gets its request id, security
// headers and access-log line. Real Redis, a real HTTP upstream, tokens from a TestIssuer
// behind a verifier that counts its verifications.
import { revokedSessionKey } from '@praxis/contracts';
import { TestIssuer, capturingLogger, unique } from '@praxis/testing';
import { type FakeUpstream, type TestGateway, call, fakeUpstream, startGateway } from './harness';

describe('gateway edge checks with a remembered token', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let verifications = 0;
  const captured = capturingLogger('gateway');

  beforeAll(async () => {
    upstream = await fakeUpstream('records');
    const issuer = new TestIssuer();
    const real = issuer.verifier();
    const verifier = {
      verify: (token: string) => {
        verifications++;
        return real.verify(token);
      },
      refresh: () => real.refresh(),
    };
    gw = await startGateway(
      { auth: upstream.url, records: upstream.url },
      { issuer, verifier, logger: captured.logger, rateLimits: { ipPerMinute: 1_000, authIpPerMinute: 1_000, userPerMinute: 3 } },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const get = (token: string, headers: Record<string, string> = {}) =>
    call(gw.url, 'GET', '/api/v1/patients/p1', { headers: { authorization: `Bearer ${token}`, ...headers } });

  it('verifies a token once, and refuses it on the very next request after its session is revoked', async () => {
    const sid = unique('ses');
    const token = gw.issuer.sign({ tid: unique('ten'), role: 'admin', sid });
    const before = verifications;
    expect((await get(token)).status).toBe(200);
    expect((await get(token)).status).toBe(200);
    expect(verifications - before).toBe(1); // the second request was answered from the cache
    await gw.redis.set(revokedSessionKey(sid), '1', 'EX', 60);
    const seen = upstream.seen.length;
    const refused = await get(token);
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(verifications - before).toBe(1); // refused on the cached path, not by a new verification
    expect(upstream.seen.length).toBe(seen);
  });

  it('stops answering from the cache at the token’s expiry, and refuses it once expired', async () => {
    const token = gw.issuer.sign({ tid: unique('ten'), role: 'admin' }, 1);
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
    expect((await get(token)).status).toBe(200);
    const before = verifications;
    await new Promise((r) => setTimeout(r, exp - Date.now() + 100));
    // Past exp the cache is not used: the verifier decides again (it allows 5 s of clock skew).
    await get(token);
    expect(verifications - before).toBe(1);
    await new Promise((r) => setTimeout(r, exp + 5_500 - Date.now()));
    const seen = upstream.seen.length;
    const late = await get(token);
    expect(late.status).toBe(401);
    expect(upstream.seen.length).toBe(seen);
    console.log(`expired token: refused ${Date.now() - exp} ms after its exp; ${verifications - before} verifications after it expired`);
  }, 20_000);

  it('still limits each user when the token comes from the cache', async () => {
    const token = gw.issuer.sign({ tid: unique('ten'), role: 'clinician' });
    const before = verifications;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(token)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(verifications - before).toBe(1);
  });

  it('gives every answer on the cached path its request id, security headers and access-log line', async () => {
    const tenant = unique('ten');
    const token = gw.issuer.sign({ tid: tenant, role: 'admin' });
    await get(token);
    // A request id the client chose that looks like a phone number: echoed to the client
    // and passed upstream, but redacted in the log, as the logger's redaction would.
    const res = await get(token, { 'x-request-id': '07700900123', traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('07700900123');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    const last = upstream.seen.at(-1)!;
    expect(last.headers['x-request-id']).toBe('07700900123');
    expect(last.headers.traceparent).toMatch(new RegExp(`^00-${'ab'.repeat(16)}-[0-9a-f]{16}-01$`));
    expect(last.headers['x-forwarded-for']).toBeTruthy();

    const lines = captured
      .lines()
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.tenantId === tenant);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({ level: 'info', service: 'gateway', msg: 'request' });
    expect(mine[0]!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(mine[1]).toMatchObject({
      requestId: '[phone]',
      traceId: 'ab'.repeat(16),
      http: { method: 'GET', route: '/patients/:id', upstream: 'records', status: 200 },
    });
    expect(typeof (mine[1]!.http as { ms: number }).ms).toBe('number');
    expect(typeof mine[1]!.time).toBe('string');
    expect(captured.lines().join('\n')).not.toContain('07700900123');
  });
});
