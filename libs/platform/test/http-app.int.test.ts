import { TestIssuer, bearer, testLogger } from '@praxis/testing';
import request from 'supertest';
import { z } from 'zod';
import { ApiRouter, Metrics, TokenAuthenticator, createHttpApp, problems } from '../src';

function buildApp() {
  const issuer = new TestIssuer();
  const revoked = new Set<string>();
  const redis = { exists: async (k: string) => (revoked.has(k) ? 1 : 0) };
  const api = new ApiRouter(new TokenAuthenticator(issuer.verifier(), redis as never));
  api.route(
    {
      method: 'post',
      path: '/things/:id',
      summary: 'make a thing',
      auth: { permission: 'patient:write' },
      params: z.strictObject({ id: z.string().regex(/^[a-z0-9]+$/) }),
      query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
      body: z.strictObject({ name: z.string().min(1), tags: z.array(z.string()).optional() }),
      status: 201,
    },
    async ({ params, body, auth }) => ({ id: params.id, name: body.name, tenant: auth.tenantId }),
  );
  api.route({ method: 'get', path: '/boom', summary: 'throws', auth: 'public' }, async () => {
    throw new Error('database password is hunter2');
  });
  api.route({ method: 'get', path: '/db-down', summary: 'database unreachable', auth: 'public' }, async () => {
    const err = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    err.name = 'MongoServerSelectionError';
    throw err;
  });
  api.route({ method: 'get', path: '/locked', summary: 'locked', auth: 'public' }, async () => {
    throw problems.locked(30);
  });
  const app = createHttpApp({
    service: 'test',
    logger: testLogger(),
    metrics: new Metrics('test'),
    routers: [api],
    readiness: { always: async () => true },
  });
  return { app, issuer, revoked };
}

describe('http app', () => {
  const { app, issuer } = buildApp();
  const tenant = issuer.tenant();

  it('validates and answers', async () => {
    const res = await request(app).post('/api/v1/things/abc').set(bearer(tenant.clinician.token)).send({ name: 'x' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'abc', name: 'x', tenant: tenant.tenantId });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('echoes a valid incoming request id and replaces an invalid one', async () => {
    const ok = await request(app).get('/livez').set('X-Request-Id', 'req-12345678');
    expect(ok.headers['x-request-id']).toBe('req-12345678');
    const bad = await request(app).get('/livez').set('X-Request-Id', 'bad id <script>');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers problem+json 400 for unknown body fields, naming them', async () => {
    const res = await request(app).post('/api/v1/things/abc').set(bearer(tenant.admin.token)).send({ name: 'x', role: 'admin' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Invalid request' });
    expect(res.body.errors[0].message).toMatch(/role/);
  });

  it('refuses $ operators in bodies and query strings', async () => {
    const body = await request(app)
      .post('/api/v1/things/abc')
      .set(bearer(tenant.admin.token))
      .send({ name: { $gt: '' } });
    expect(body.status).toBe(400);
    expect(body.body.errors[0]).toMatchObject({ path: 'body.name.$gt' });
    const query = await request(app).post('/api/v1/things/abc?dryRun[$ne]=x').set(bearer(tenant.admin.token)).send({ name: 'x' });
    expect(query.status).toBe(400);
  });

  it('refuses unknown query parameters', async () => {
    const res = await request(app).post('/api/v1/things/abc?sort=name').set(bearer(tenant.admin.token)).send({ name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/sort/);
  });

  it('answers 400 for malformed JSON and 413 for a body over the limit', async () => {
    const bad = await request(app)
      .post('/api/v1/things/abc')
      .set(bearer(tenant.admin.token))
      .set('Content-Type', 'application/json')
      .send('{"name":');
    expect(bad.status).toBe(400);
    const big = await request(app)
      .post('/api/v1/things/abc')
      .set(bearer(tenant.admin.token))
      .send({ name: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
    expect(big.headers['content-type']).toMatch(/problem\+json/);
  });

  it('answers 401 without a token and 403 without the permission', async () => {
    const none = await request(app).post('/api/v1/things/abc').send({ name: 'x' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const support = issuer.sign({ tid: tenant.tenantId, role: 'support', scope: 'settings' });
    const forbidden = await request(app).post('/api/v1/things/abc').set(bearer(support)).send({ name: 'x' });
    expect(forbidden.status).toBe(403);
  });

  it('answers unknown routes with problem+json 404', async () => {
    const res = await request(app).get('/api/v1/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('turns a thrown error into a 500 with an error id and no stack or message', async () => {
    const res = await request(app).get('/api/v1/boom');
    expect(res.status).toBe(500);
    expect(res.body.errorId).toBeTruthy();
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|at .*\.ts/);
  });

  it('answers 503 when the database cannot be reached, without the driver message', async () => {
    const res = await request(app).get('/api/v1/db-down');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|27017/);
  });

  it('sends Retry-After with 423', async () => {
    const res = await request(app).get('/api/v1/locked');
    expect(res.status).toBe(423);
    expect(res.headers['retry-after']).toBe('30');
  });

  it('serves health, readiness, metrics and an OpenAPI document from the route declarations', async () => {
    expect((await request(app).get('/livez')).status).toBe(200);
    expect((await request(app).get('/readyz')).body).toMatchObject({ status: 'ready' });
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket/);
    const doc = (await request(app).get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/things/{id}'].post.requestBody.content['application/json'].schema.properties.name).toBeDefined();
    expect(doc.paths['/api/v1/things/{id}'].post['x-permission']).toBe('patient:write');
  });

  it('sets security headers', async () => {
    const res = await request(app).get('/livez');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('session revocation', () => {
  it('rejects a token whose session was revoked', async () => {
    const { app, issuer, revoked } = buildApp();
    const token = issuer.sign({ tid: 't1', role: 'admin', sid: 'ses_revoke_me' });
    expect((await request(app).post('/api/v1/things/a').set(bearer(token)).send({ name: 'x' })).status).toBe(201);
    revoked.add('praxis:revoked-session:ses_revoke_me');
    expect((await request(app).post('/api/v1/things/a').set(bearer(token)).send({ name: 'x' })).status).toBe(401);
  });
});
