import request from 'supertest';
import { type Harness, startHarness } from './harness';

describe('OpenAPI document and operations endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('describes every records route with its permission, internal ones included', async () => {
    const res = await request(h.records.app).get('/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, { 'x-permission'?: string; requestBody?: unknown }>>;
    const expected: [string, string, string][] = [
      ['/api/v1/patients', 'post', 'patient:write-test'],
      ['/api/v1/patients', 'get', 'patient:read-test'],
      ['/api/v1/patients/{id}', 'get', 'patient:read-test'],
      ['/api/v1/patients/{id}', 'patch', 'patient:write-test'],
      ['/api/v1/patients/{id}/notes', 'post', 'note:write'],
      ['/api/v1/patients/{id}/notes', 'get', 'note:read'],
      ['/api/v1/patients/{id}/notes/{noteId}', 'get', 'note:read'],
      ['/api/v1/patients/{id}/notes/{noteId}', 'put', 'note:write'],
      ['/api/v1/patients/{id}/notes/{noteId}/amendments', 'post', 'note:write'],
      ['/api/v1/patients/{id}/notes/{noteId}/versions', 'get', 'note:read'],
      ['/api/v1/templates', 'post', 'template:manage'],
      ['/api/v1/templates', 'get', 'template:render'],
      ['/api/v1/templates/{id}', 'get', 'template:render'],
      ['/api/v1/templates/{id}/render', 'post', 'template:render'],
      ['/api/v1/internal/patients/{id}/export', 'get', 'internal:subject-data'],
      ['/api/v1/internal/patients/{id}/erasure', 'post', 'internal:subject-data'],
      ['/api/v1/internal/patients/{id}/contact', 'get', 'internal:patient-contact'],
      ['/api/v1/internal/templates/{id}/render', 'post', 'internal:patient-contact'],
    ];
    for (const [p, method, permission] of expected)
      expect({ p, method, permission: paths[p]?.[method]?.['x-permission'] }).toEqual({ p, method, permission });
    expect(paths['/api/v1/patients']!.post!.requestBody).toBeDefined();
  });

  it('answers liveness and readiness', async () => {
    expect((await request(h.records.app).get('/livez')).body).toMatchObject({ status: 'ok', service: 'records' });
    expect((await request(h.records.app).get('/readyz')).status).toBe(200);
  });
});
