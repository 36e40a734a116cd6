// Service-to-service tokens: a service with its client secret gets a short-lived ES256
// token for one practice (role service, its name as sub), usable on internal routes
// through the ordinary verifier; a wrong or missing secret, an unknown service or an
// unknown practice get nothing. The platform's AuthServiceTokens caches per practice.
import { AuthServiceTokens, authContextFromClaims } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { API, type Harness, type Practice, claimsOf, signUpPractice, startAuth } from './harness';

const secret = randomBytes(32).toString('base64url');
const other = randomBytes(32).toString('base64url');
let h: Harness;
let p: Practice;
let server: Server;
let url: string;

const basic = (name: string, s: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${s}`).toString('base64')}` });
const ask = (headers: Record<string, string>, body: unknown) =>
  request(h.app)
    .post(`${API}/internal/service-tokens`)
    .set(headers)
    .send(body as object);

beforeAll(async () => {
  h = await startAuth({ SERVICE_CLIENT_SECRETS: `consent:${secret},messaging:${other}`, SERVICE_TOKEN_TTL_S: '120' });
  p = await signUpPractice(h.app, 'Service Token Practice');
  server = h.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.close();
});

describe('service tokens', () => {
  it('issues a short-lived service token to a service with its client secret, and audits it', async () => {
    const res = await ask(basic('consent', secret), { tenantId: p.tenantId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: expect.any(Number) });
    expect(res.body.expiresIn).toBeLessThanOrEqual(120);
    const claims = claimsOf(res.body.accessToken);
    expect(claims).toMatchObject({ role: 'service', sub: 'consent', tid: p.tenantId, amr: ['svc'] });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(120);
    // The ordinary verifier accepts it, and it carries exactly the internal permission.
    const verified = await h.deps.verifier.verify(res.body.accessToken);
    const ctx = authContextFromClaims(verified);
    expect(ctx.actor).toEqual({ kind: 'service', id: 'consent' });
    expect(ctx.can('internal:subject-data')).toBe(true);
    expect(ctx.can('patient:read')).toBe(false);
    const e = await h.event('auth.service-token.issued', (x) => x.tenantId === p.tenantId);
    expect(e.data).toEqual({ service: 'consent', expiresIn: res.body.expiresIn });
    expect(JSON.stringify(e)).not.toContain(secret);
  });

  it('refuses a wrong secret, another service’s secret, an unknown service, no credentials and a bearer token', async () => {
    for (const headers of [
      basic('consent', `${secret}x`),
      basic('consent', other),
      basic('records', secret),
      basic('consent', ''),
      {},
      { Authorization: 'Bearer abcdefghijkl' },
    ]) {
      const res = await ask(headers, { tenantId: p.tenantId });
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers 404 for an unknown practice and 400 for bad input', async () => {
    expect((await ask(basic('consent', secret), { tenantId: 'ten_unknown' })).status).toBe(404);
    expect((await ask(basic('consent', secret), { tenantId: p.tenantId, role: 'admin' })).status).toBe(400);
    expect((await ask(basic('consent', secret), { tenantId: { $ne: 'x' } })).status).toBe(400);
  });

  it('AuthServiceTokens fetches a token once per practice and reuses it until near expiry', async () => {
    const tokens = new AuthServiceTokens({ authUrl: url, service: 'messaging', clientSecret: other });
    const [a, b] = await Promise.all([tokens.tokenFor(p.tenantId), tokens.tokenFor(p.tenantId)]);
    expect(a).toBe(b);
    expect(await tokens.tokenFor(p.tenantId)).toBe(a);
    expect(claimsOf(a)).toMatchObject({ sub: 'messaging', tid: p.tenantId, role: 'service' });
    const issued = h.events.filter((e) => e.type === 'auth.service-token.issued' && e.data.service === 'messaging');
    await new Promise((r) => setTimeout(r, 500));
    expect(h.events.filter((e) => e.type === 'auth.service-token.issued' && e.data.service === 'messaging').length).toBeLessThanOrEqual(
      Math.max(1, issued.length),
    );
    const wrong = new AuthServiceTokens({ authUrl: url, service: 'messaging', clientSecret: secret });
    await expect(wrong.tokenFor(p.tenantId)).rejects.toThrow(/401/);
  });
});
