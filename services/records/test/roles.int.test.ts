import request from 'supertest';
import { bearer } from './testing';
import { type Harness, startHarness } from './harness';

type Role = 'admin' | 'clinician' | 'receptionist' | 'supportSettings' | 'supportRecords' | 'service';
const roles: Role[] = ['admin', 'clinician', 'receptionist', 'supportSettings', 'supportRecords', 'service'];

describe('who may do what (every role against every endpoint)', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let other: ReturnType<Harness['tenant']>;
  let tokens: Record<Role, string>;
  const ids = { real: '', test: '', note: '', template: '', otherTemplate: '', ref: '' };
  const person = { givenName: 'Rolf', familyName: 'Rolecheck', birthDate: '1970-05-05' };

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    other = h.tenant();
    tokens = {
      admin: t.admin.token,
      clinician: t.clinician.token,
      receptionist: t.receptionist.token,
      supportSettings: t.support('settings'),
      supportRecords: t.support('records'),
      service: t.service,
    };
    const api = request(h.records.app);
    const real = await api.post('/api/v1/patients').set(bearer(t.admin.token)).send(person);
    ids.real = real.body.id;
    ids.ref = real.body.ref;
    ids.test = (
      await request(h.records.app)
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ ...person, test: true })
    ).body.id;
    ids.note = (
      await request(h.records.app)
        .post(`/api/v1/patients/${ids.real}/notes`)
        .set(bearer(t.clinician.token))
        .send({ title: 'Seen', body: 'Well.' })
    ).body.id;
    ids.template = (
      await request(h.records.app)
        .post('/api/v1/templates')
        .set(bearer(t.admin.token))
        .send({ name: 'Reminder', channel: 'sms', body: 'Ref {{patient.ref}}' })
    ).body.id;
    ids.otherTemplate = (
      await request(h.records.app)
        .post('/api/v1/templates')
        .set(bearer(other.admin.token))
        .send({ name: 'Theirs', channel: 'sms', body: 'Ref {{patient.ref}}' })
    ).body.id;
    expect([ids.real, ids.test, ids.note, ids.template, ids.otherTemplate].every(Boolean)).toBe(true);
  });
  afterAll(() => h.close());

  const call = (token: string, method: 'get' | 'post' | 'patch' | 'put', path: string, body?: object) => {
    const r = request(h.records.app)[method](`/api/v1${path}`).set(bearer(token));
    return body ? r.send(body) : r;
  };

  // Expected status per role; null = not applicable for that row.
  const matrix: { name: string; req: (token: string) => ReturnType<typeof call>; expect: Record<Role, number> }[] = [
    {
      name: 'POST /patients (real)',
      req: (k) => call(k, 'post', '/patients', { ...person, test: false }),
      expect: { admin: 201, clinician: 201, receptionist: 201, supportSettings: 403, supportRecords: 201, service: 403 },
    },
    {
      name: 'POST /patients (test)',
      req: (k) => call(k, 'post', '/patients', { ...person, test: true }),
      expect: { admin: 201, clinician: 201, receptionist: 201, supportSettings: 201, supportRecords: 201, service: 403 },
    },
    {
      name: 'GET /patients/:id (real)',
      req: (k) => call(k, 'get', `/patients/${ids.real}`),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 404, supportRecords: 200, service: 403 },
    },
    {
      name: 'GET /patients/:id (test)',
      req: (k) => call(k, 'get', `/patients/${ids.test}`),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'GET /patients?familyName=',
      req: (k) => call(k, 'get', '/patients?familyName=rolecheck'),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'PATCH /patients/:id (real)',
      req: (k) => call(k, 'patch', `/patients/${ids.real}`, { givenName: 'Rolf' }),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 404, supportRecords: 200, service: 403 },
    },
    {
      name: 'PATCH /patients/:id (test)',
      req: (k) => call(k, 'patch', `/patients/${ids.test}`, { givenName: 'Rolf' }),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'POST /patients/:id/notes',
      req: (k) => call(k, 'post', `/patients/${ids.real}/notes`, { title: 't', body: 'b' }),
      expect: { admin: 201, clinician: 201, receptionist: 403, supportSettings: 403, supportRecords: 403, service: 403 },
    },
    {
      name: 'GET /patients/:id/notes',
      req: (k) => call(k, 'get', `/patients/${ids.real}/notes`),
      expect: { admin: 200, clinician: 200, receptionist: 403, supportSettings: 403, supportRecords: 200, service: 403 },
    },
    {
      name: 'GET /patients/:id/notes/:noteId',
      req: (k) => call(k, 'get', `/patients/${ids.real}/notes/${ids.note}`),
      expect: { admin: 200, clinician: 200, receptionist: 403, supportSettings: 403, supportRecords: 200, service: 403 },
    },
    {
      name: 'POST …/notes/:noteId/amendments',
      req: (k) => call(k, 'post', `/patients/${ids.real}/notes/${ids.note}/amendments`, { title: 't', body: 'b2' }),
      expect: { admin: 201, clinician: 201, receptionist: 403, supportSettings: 403, supportRecords: 403, service: 403 },
    },
    {
      name: 'PUT …/notes/:noteId',
      req: (k) => call(k, 'put', `/patients/${ids.real}/notes/${ids.note}`, { title: 't', body: 'b3' }),
      expect: { admin: 200, clinician: 200, receptionist: 403, supportSettings: 403, supportRecords: 403, service: 403 },
    },
    {
      name: 'GET …/notes/:noteId/versions',
      req: (k) => call(k, 'get', `/patients/${ids.real}/notes/${ids.note}/versions`),
      expect: { admin: 200, clinician: 200, receptionist: 403, supportSettings: 403, supportRecords: 200, service: 403 },
    },
    {
      name: 'POST /templates',
      req: (k) => call(k, 'post', '/templates', { name: 'n', channel: 'sms', body: 'x' }),
      expect: { admin: 201, clinician: 403, receptionist: 403, supportSettings: 201, supportRecords: 201, service: 403 },
    },
    {
      name: 'GET /templates',
      req: (k) => call(k, 'get', '/templates'),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'GET /templates/:id',
      req: (k) => call(k, 'get', `/templates/${ids.template}`),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'POST /templates/:id/render (real patient)',
      req: (k) => call(k, 'post', `/templates/${ids.template}/render`, { patientId: ids.real }),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 404, supportRecords: 200, service: 403 },
    },
    {
      name: 'POST /templates/:id/render (test patient)',
      req: (k) => call(k, 'post', `/templates/${ids.template}/render`, { patientId: ids.test }),
      expect: { admin: 200, clinician: 200, receptionist: 200, supportSettings: 200, supportRecords: 200, service: 403 },
    },
    {
      name: 'GET /internal/patients/:id/export',
      req: (k) => call(k, 'get', `/internal/patients/${ids.real}/export`),
      expect: { admin: 403, clinician: 403, receptionist: 403, supportSettings: 403, supportRecords: 403, service: 200 },
    },
  ];

  describe.each(matrix)('$name', ({ req, expect: expected }) => {
    it.each(roles)('as %s', async (role) => {
      const res = await req(tokens[role]);
      expect({ role, status: res.status }).toEqual({ role, status: expected[role] });
    });
  });

  it('support with scope settings sees only test patients in lists', async () => {
    const res = await call(tokens.supportSettings, 'get', '/patients?familyName=rolecheck&limit=200');
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.every((p: { test: boolean }) => p.test)).toBe(true);
    const byRef = await call(tokens.supportSettings, 'get', `/patients?ref=${ids.ref}`);
    expect(byRef.body.items).toEqual([]);
  });

  it('support with scope settings: an omitted test flag means a test patient, and a test patient cannot be made real', async () => {
    const res = await call(tokens.supportSettings, 'post', '/patients', person);
    expect(res.status).toBe(201);
    expect(res.body.test).toBe(true);
    expect((await call(tokens.supportSettings, 'patch', `/patients/${res.body.id}`, { test: false })).status).toBe(403);
    expect((await call(t.admin.token, 'post', '/patients', person)).body.test).toBe(false);
  });

  it('only a service token may erase, and only in its own tenant', async () => {
    const victim = (await call(t.admin.token, 'post', '/patients', person)).body.id;
    for (const role of roles.filter((r) => r !== 'service')) {
      expect((await call(tokens[role], 'post', `/internal/patients/${victim}/erasure`, {})).status).toBe(403);
    }
    expect((await call(other.service, 'post', `/internal/patients/${victim}/erasure`, {})).status).toBe(404);
    expect((await call(t.admin.token, 'get', `/patients/${victim}`)).status).toBe(200);
    expect((await call(tokens.service, 'post', `/internal/patients/${victim}/erasure`, {})).status).toBe(200);
    expect((await call(t.admin.token, 'get', `/patients/${victim}`)).status).toBe(404);
  });

  describe('another tenant gets 404 on every route that names something of ours', () => {
    const routes: [string, (k: string) => ReturnType<typeof call>][] = [
      ['GET /patients/:id', (k) => call(k, 'get', `/patients/${ids.real}`)],
      ['PATCH /patients/:id', (k) => call(k, 'patch', `/patients/${ids.real}`, { givenName: 'Mallory' })],
      ['POST /patients/:id/notes', (k) => call(k, 'post', `/patients/${ids.real}/notes`, { title: 't', body: 'b' })],
      ['GET /patients/:id/notes', (k) => call(k, 'get', `/patients/${ids.real}/notes`)],
      ['GET /patients/:id/notes/:noteId', (k) => call(k, 'get', `/patients/${ids.real}/notes/${ids.note}`)],
      ['POST …/amendments', (k) => call(k, 'post', `/patients/${ids.real}/notes/${ids.note}/amendments`, { title: 't', body: 'b' })],
      ['PUT …/notes/:noteId', (k) => call(k, 'put', `/patients/${ids.real}/notes/${ids.note}`, { title: 't', body: 'b' })],
      ['GET …/versions', (k) => call(k, 'get', `/patients/${ids.real}/notes/${ids.note}/versions`)],
      ['GET /templates/:id', (k) => call(k, 'get', `/templates/${ids.template}`)],
      ['POST /templates/:id/render (our template)', (k) => call(k, 'post', `/templates/${ids.template}/render`, { patientId: ids.real })],
      [
        'POST /templates/:id/render (their template, our patient)',
        (k) => call(k, 'post', `/templates/${ids.otherTemplate}/render`, { patientId: ids.real }),
      ],
    ];
    it.each(routes)('%s', async (_name, req) => {
      for (const token of [other.admin.token, other.clinician.token]) expect((await req(token)).status).toBe(404);
    });
    it('internal export and erasure', async () => {
      expect((await call(other.service, 'get', `/internal/patients/${ids.real}/export`)).status).toBe(404);
      expect((await call(other.service, 'post', `/internal/patients/${ids.real}/erasure`, {})).status).toBe(404);
      expect((await call(t.admin.token, 'get', `/patients/${ids.real}`)).status).toBe(200);
    });
    it('searches do not reach across tenants', async () => {
      expect((await call(other.admin.token, 'get', `/patients?ref=${ids.ref}`)).body.items).toEqual([]);
      expect((await call(other.admin.token, 'get', '/patients?familyName=Rolecheck')).body.items).toEqual([]);
      expect((await call(other.admin.token, 'get', '/templates')).body.items.map((x: { id: string }) => x.id)).toEqual([ids.otherTemplate]);
    });
  });
});
