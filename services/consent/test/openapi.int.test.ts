import request from 'supertest';
import { type Harness, startHarness } from './harness';

describe('OpenAPI document and operations endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('describes every consent route with its permission, public and internal ones included', async () => {
    const res = await request(h.consent.app).get('/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, { 'x-permission'?: string; security?: unknown[] }>>;
    const expected: [string, string, string | undefined][] = [
      ['/api/v1/privacy-notice-versions', 'post', 'dsr:manage'],
      ['/api/v1/privacy-notice-versions', 'get', 'consent:read'],
      ['/api/v1/patients/{id}/privacy-notices', 'post', 'consent:write'],
      ['/api/v1/privacy-notices/ack/{token}', 'get', undefined],
      ['/api/v1/privacy-notices/ack/{token}', 'post', undefined],
      ['/api/v1/patients/{id}/consent', 'get', 'consent:read'],
      ['/api/v1/patients/{id}/preferences', 'put', 'consent:write'],
      ['/api/v1/patients/{id}/consent-codes', 'post', 'consent:write'],
      ['/api/v1/subject-access-requests', 'post', 'dsr:manage'],
      ['/api/v1/subject-access-requests', 'get', 'dsr:manage'],
      ['/api/v1/subject-access-requests/{id}', 'get', 'dsr:manage'],
      ['/api/v1/erasure-requests', 'get', 'dsr:manage'],
      ['/api/v1/subject-access-requests/{id}/export', 'get', 'dsr:manage'],
      ['/api/v1/erasure-requests', 'post', 'dsr:manage'],
      ['/api/v1/erasure-requests/{id}', 'get', 'dsr:manage'],
      ['/api/v1/internal/patients/{id}/export', 'get', 'internal:subject-data'],
    ];
    for (const [p, method, permission] of expected) {
      expect({ p, method, exists: Boolean(paths[p]?.[method]), permission: paths[p]?.[method]?.['x-permission'] }).toEqual({
        p,
        method,
        exists: true,
        permission,
      });
    }
    expect(paths['/api/v1/privacy-notices/ack/{token}']!.get!.security).toEqual([]);
  });

  it('documents the subject access request’s additive fields, failureReason and retrying (not in API.md)', async () => {
    const res = await request(h.consent.app).get('/openapi.json');
    type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; description?: string; $ref?: string };
    const components = (res.body.components?.schemas ?? {}) as Record<string, Schema>;
    const resolve = (s: Schema): Schema => (s.$ref ? resolve(components[s.$ref.split('/').pop()!]!) : s);
    const op = res.body.paths['/api/v1/subject-access-requests/{id}'].get as {
      responses: Record<string, { content: Record<string, { schema: Schema }> }>;
    };
    const view = resolve(op.responses['200']!.content['application/json']!.schema);
    expect(view.properties?.failureReason).toMatchObject({ type: 'string' });
    expect(view.properties?.failureReason?.description).toMatch(/why it failed/i);
    const retrying = resolve(view.properties!.retrying!);
    expect(Object.keys(retrying.properties ?? {}).sort()).toEqual(['attempts', 'nextAttemptAt', 'participant', 'reason', 'since']);
    // Additive: neither is required, so a client written to API.md is not broken by them.
    expect(view.required ?? []).not.toContain('failureReason');
    expect(view.required ?? []).not.toContain('retrying');
  });

  it('answers liveness and readiness', async () => {
    expect((await request(h.consent.app).get('/livez')).body).toMatchObject({ status: 'ok', service: 'consent' });
    expect((await request(h.consent.app).get('/readyz')).status).toBe(200);
  });
});
