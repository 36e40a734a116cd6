// Consent's routes against real FerretDB, RabbitMQ and Redis: notice versions, notices in
// person and by email (the link's whole life), preferences with history and versions,
// codes, who may do what, tenant isolation, bad input.
import type { EventEnvelope } from '@praxis/contracts';
import request from 'supertest';
import { type Harness, startHarness } from './harness';
import { bearer } from './testing';

describe('consent: notices, preferences, codes', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let patientId: string;
  const api = () => request(h.consent.app);
  const mine = (e: EventEnvelope) => e.tenantId === t.tenantId;
  const SNOMED = 'http://snomed.info/sct';

  beforeAll(async () => {
    h = await startHarness({ settings: { noticeLinkTtlMs: 6000 } });
    t = h.tenant();
    patientId = await h.patient(t.tenantId);
    expect(
      (
        await api()
          .post('/api/v1/privacy-notice-versions')
          .set(bearer(t.admin.token))
          .send({ version: '2026-01', text: 'We keep your record safe.' })
      ).status,
    ).toBe(201);
  });
  afterAll(() => h.close());

  it('publishes notice versions (admin), the newest current; staff read them; a duplicate is 409', async () => {
    const v2 = await api()
      .post('/api/v1/privacy-notice-versions')
      .set(bearer(t.admin.token))
      .send({ version: '2026-02', text: 'Version two.' });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ version: '2026-02', current: true });
    expect(
      (await api().post('/api/v1/privacy-notice-versions').set(bearer(t.admin.token)).send({ version: '2026-02', text: 'again' })).status,
    ).toBe(409);
    expect(
      (await api().post('/api/v1/privacy-notice-versions').set(bearer(t.receptionist.token)).send({ version: '2026-03', text: 'x' }))
        .status,
    ).toBe(403);
    const list = await api().get('/api/v1/privacy-notice-versions').set(bearer(t.receptionist.token));
    expect(list.status).toBe(200);
    expect(list.body.items.map((v: { version: string; current: boolean }) => [v.version, v.current])).toEqual([
      ['2026-02', true],
      ['2026-01', false],
    ]);
  });

  it('records a notice acknowledged in person', async () => {
    const res = await api()
      .post(`/api/v1/patients/${patientId}/privacy-notices`)
      .set(bearer(t.receptionist.token))
      .send({ noticeVersion: '2026-01', method: 'in_person' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ patientId, noticeVersion: '2026-01', method: 'in_person', status: 'acknowledged' });
    const e = await h.waitForEvent(
      (x) => mine(x) && x.type === 'consent.notice.acknowledged' && x.data.method === 'in_person',
      'notice acknowledged',
    );
    expect(e).toMatchObject({
      subject: { patientId },
      actor: { kind: 'user', id: t.receptionist.id },
      data: { patientId, noticeVersion: '2026-01' },
    });
    expect(
      (
        await api()
          .post(`/api/v1/patients/${patientId}/privacy-notices`)
          .set(bearer(t.receptionist.token))
          .send({ noticeVersion: '1999', method: 'in_person' })
      ).status,
    ).toBe(400);
  });

  it('emails a notice: the link (from the event) shows it, acknowledges once, then 404; an expired link is 410', async () => {
    const sent = await api()
      .post(`/api/v1/patients/${patientId}/privacy-notices`)
      .set(bearer(t.clinician.token))
      .send({ noticeVersion: '2026-02', method: 'email' });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ method: 'email', status: 'sent', expiresAt: expect.any(String) });
    const requested = await h.waitForEvent(
      (x) => mine(x) && x.type === 'consent.notice.requested' && x.data.noticeRequestId === sent.body.id,
      'notice requested',
    );
    expect(requested.data).toMatchObject({
      patientId,
      noticeVersion: '2026-02',
      ackPath: expect.stringMatching(/^\/privacy-notices\/ack\/[A-Za-z0-9_-]{40,}$/),
    });
    const path = `/api/v1${String(requested.data.ackPath)}`;
    // The database holds only a hash of the token.
    const token = String(requested.data.ackPath).split('/').pop()!;
    expect(
      JSON.stringify(
        await h.mongo
          .collection('notice_requests')
          .find({}, { projection: { _outbox: 0 } })
          .toArray(),
      ),
    ).not.toContain(token);

    const page = await api().get(path);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ practice: t.tenantId, version: '2026-02', text: 'Version two.' });
    const status = await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(t.receptionist.token));
    expect(status.body.notices.map((n: { status: string; method: string }) => `${n.method}:${n.status}`)).toEqual([
      'in_person:acknowledged',
      'email:sent',
    ]);

    const [a, b] = await Promise.all([api().post(path), api().post(path)]);
    expect([a.status, b.status].sort()).toEqual([200, 404]);
    const e = await h.waitForEvent((x) => mine(x) && x.type === 'consent.notice.acknowledged' && x.data.method === 'email', 'email ack');
    expect(e.actor).toEqual({ kind: 'patient', id: patientId });
    expect((await api().get(path)).status).toBe(404);
    expect((await api().post(path)).status).toBe(404);
    expect((await api().get('/api/v1/privacy-notices/ack/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    const after = await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(t.receptionist.token));
    expect(after.body.notices.map((n: { status: string; method: string }) => `${n.method}:${n.status}`)).toEqual([
      'in_person:acknowledged',
      'email:acknowledged',
    ]);

    // A second link, left until it expires (the test sets 6 s instead of 14 days).
    const late = await api()
      .post(`/api/v1/patients/${patientId}/privacy-notices`)
      .set(bearer(t.clinician.token))
      .send({ noticeVersion: '2026-02', method: 'email' });
    const lateEvent = await h.waitForEvent(
      (x) => x.type === 'consent.notice.requested' && x.data.noticeRequestId === late.body.id,
      'second link',
    );
    await new Promise((r) => setTimeout(r, 6500));
    const expired = await api().get(`/api/v1${String(lateEvent.data.ackPath)}`);
    expect(expired.status).toBe(410);
    expect(expired.headers['content-type']).toContain('application/problem+json');
    expect((await api().post(`/api/v1${String(lateEvent.data.ackPath)}`)).status).toBe(410);
  });

  it('keeps preference history with a version per change; a PUT that changes nothing adds nothing', async () => {
    const p = await h.patient(t.tenantId);
    const fresh = await api().get(`/api/v1/patients/${p}/consent`).set(bearer(t.receptionist.token));
    expect(fresh.body).toMatchObject({ preferences: { sms: true, email: true }, preferenceHistory: [], codes: [], notices: [] });
    expect((await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.receptionist.token)).send({ sms: false })).body).toEqual({
      sms: false,
      email: true,
    });
    expect((await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.receptionist.token)).send({ sms: false })).body).toEqual({
      sms: false,
      email: true,
    });
    expect(
      (await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.admin.token)).send({ email: false, sms: true })).body,
    ).toEqual({ sms: true, email: false });
    const view = await api().get(`/api/v1/patients/${p}/consent`).set(bearer(t.clinician.token));
    expect(view.body.preferences).toEqual({ sms: true, email: false });
    expect(view.body.preferenceHistory.map((x: { version: number; sms: boolean; email: boolean }) => [x.version, x.sms, x.email])).toEqual([
      [1, false, true],
      [2, true, false],
    ]);
    const changes = await waitForCount(h, (e) => e.type === 'consent.preference.changed' && e.data.patientId === p, 2);
    expect(changes.map((e) => e.data)).toEqual([
      { patientId: p, sms: false, email: true, version: 1 },
      { patientId: p, sms: true, email: false, version: 2 },
    ]);
    expect((await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.admin.token)).send({})).status).toBe(400);
  });

  it('records consent and dissent codes with who and when; events carry codes only', async () => {
    const res = await api()
      .post(`/api/v1/patients/${patientId}/consent-codes`)
      .set(bearer(t.receptionist.token))
      .send({ kind: 'dissent', system: SNOMED, code: '38341003', display: 'Dissent from sharing (test display)' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'dissent', code: '38341003', recordedBy: t.receptionist.id, recordedAt: expect.any(String) });
    const e = await h.waitForEvent((x) => mine(x) && x.type === 'consent.code.recorded', 'code recorded');
    expect(e.data).toEqual({ patientId, kind: 'dissent', system: SNOMED, code: '38341003' });
    expect(JSON.stringify(e)).not.toContain('test display');
    const view = await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(t.receptionist.token));
    expect(view.body.codes).toEqual([
      expect.objectContaining({ kind: 'dissent', system: SNOMED, code: '38341003', display: 'Dissent from sharing (test display)' }),
    ]);
  });

  it('refuses bad input with 400 problem+json: unknown fields, $ keys, bad codes, bad systems', async () => {
    const bad: [string, string, object][] = [
      ['put', `/api/v1/patients/${patientId}/preferences`, { sms: false, fax: true }],
      ['put', `/api/v1/patients/${patientId}/preferences`, { sms: 'no' }],
      ['put', `/api/v1/patients/${patientId}/preferences`, { $set: { sms: false } }],
      [
        'post',
        `/api/v1/patients/${patientId}/consent-codes`,
        { kind: 'dissent', system: SNOMED, code: '38341004', display: 'check digit wrong' },
      ],
      ['post', `/api/v1/patients/${patientId}/consent-codes`, { kind: 'maybe', system: SNOMED, code: '38341003', display: 'x' }],
      ['post', `/api/v1/patients/${patientId}/consent-codes`, { kind: 'consent', system: 'not a uri', code: 'x', display: 'x' }],
      ['post', `/api/v1/patients/${patientId}/consent-codes`, { kind: 'consent', system: SNOMED, code: { $gt: '' }, display: 'x' }],
      ['post', `/api/v1/patients/${patientId}/privacy-notices`, { noticeVersion: '2026-01', method: 'carrier-pigeon' }],
      ['post', `/api/v1/patients/${patientId}/privacy-notices`, { noticeVersion: { $ne: null }, method: 'in_person' }],
      ['post', '/api/v1/subject-access-requests', { patientId, extra: 1 }],
      ['post', '/api/v1/erasure-requests', { patientId }],
      ['post', '/api/v1/erasure-requests', { patientId: { $ne: 'x' }, reason: 'r' }],
    ];
    for (const [method, url, body] of bad) {
      const res = await (method === 'put' ? api().put(url) : api().post(url)).set(bearer(t.admin.token)).send(body);
      expect({ url, body, status: res.status }).toEqual({ url, body, status: 400 });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('lets a receptionist record preferences but not open subject access or erasure (403); no token is 401', async () => {
    expect(
      (await api().put(`/api/v1/patients/${patientId}/preferences`).set(bearer(t.receptionist.token)).send({ email: true })).status,
    ).toBe(200);
    for (const token of [t.receptionist.token, t.clinician.token]) {
      expect((await api().post('/api/v1/subject-access-requests').set(bearer(token)).send({ patientId })).status).toBe(403);
      expect((await api().post('/api/v1/erasure-requests').set(bearer(token)).send({ patientId, reason: 'asked' })).status).toBe(403);
      expect((await api().get('/api/v1/subject-access-requests/abc').set(bearer(token))).status).toBe(403);
      expect((await api().get('/api/v1/erasure-requests/abc').set(bearer(token))).status).toBe(403);
    }
    const service = h.issuer.sign({ tid: t.tenantId, role: 'service', sub: 'consent', amr: ['svc'] });
    expect((await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(service))).status).toBe(403);
    expect((await api().get(`/api/v1/patients/${patientId}/consent`)).status).toBe(401);
  });

  it('answers 404 for another practice’s patient and for an unknown one, on every route', async () => {
    const other = h.tenant();
    for (const tenantToken of [other.admin.token]) {
      expect((await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(tenantToken))).status).toBe(404);
      expect((await api().put(`/api/v1/patients/${patientId}/preferences`).set(bearer(tenantToken)).send({ sms: false })).status).toBe(404);
      expect(
        (
          await api()
            .post(`/api/v1/patients/${patientId}/consent-codes`)
            .set(bearer(tenantToken))
            .send({ kind: 'consent', system: SNOMED, code: '38341003', display: 'x' })
        ).status,
      ).toBe(404);
      expect((await api().post('/api/v1/subject-access-requests').set(bearer(tenantToken)).send({ patientId })).status).toBe(404);
      expect((await api().post('/api/v1/erasure-requests').set(bearer(tenantToken)).send({ patientId, reason: 'x' })).status).toBe(404);
    }
    // Another practice's notice version does not exist here either.
    expect((await api().get('/api/v1/privacy-notice-versions').set(bearer(other.admin.token))).body.items).toEqual([]);
    expect((await api().get('/api/v1/patients/pat_unknown/consent').set(bearer(t.admin.token))).status).toBe(404);
    // The state of the patient in its own practice is untouched.
    expect((await api().get(`/api/v1/patients/${patientId}/consent`).set(bearer(t.admin.token))).body.preferences).toEqual({
      sms: true,
      email: true,
    });
  });

  it('shows the practice name it stores until auth.tenant.updated says the name changed; a name read before a rename is not kept', async () => {
    const sent = await api()
      .post(`/api/v1/patients/${patientId}/privacy-notices`)
      .set(bearer(t.clinician.token))
      .send({ noticeVersion: '2026-01', method: 'email' });
    expect(sent.status).toBe(201);
    const requested = await h.waitForEvent(
      (x) => mine(x) && x.type === 'consent.notice.requested' && x.data.noticeRequestId === sent.body.id,
      'notice requested',
    );
    const path = `/api/v1${String(requested.data.ackPath)}`;
    const practices = h.consent.patients;
    // What the page stores after asking auth (this harness runs without auth).
    const readBefore = await practices.practiceName(t.tenantId);
    expect(await practices.rememberPracticeName(t.tenantId, 'Old Lane Surgery', readBefore.gen)).toBe(true);
    expect((await api().get(path)).body).toMatchObject({ practice: 'Old Lane Surgery' });

    // Another setting changed: the name stays. Then the rename: it goes, on the bus event alone.
    const actor = { kind: 'user' as const, id: t.admin.id };
    await h.publish({ type: 'auth.tenant.updated', tenantId: t.tenantId, actor, data: { fields: ['mfaRequired'] } });
    const renamedAt = Date.now();
    await h.publish({ type: 'auth.tenant.updated', tenantId: t.tenantId, actor, data: { fields: ['name'] } });
    for (;;) {
      const page = await api().get(path);
      if (page.body.practice !== 'Old Lane Surgery') {
        expect(page.body.practice).toBe(t.tenantId); // no name stored, no slug known here: the id
        break;
      }
      if (Date.now() - renamedAt > 20_000) throw new Error('the stored name outlived auth.tenant.updated by 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`practice name dropped ${Date.now() - renamedAt} ms after auth.tenant.updated was published`);
    expect(await practices.practiceName(t.tenantId)).toEqual({ gen: 1 }); // one rename counted, the mfa change not

    // A reader that asked auth before the rename finishes after it: its (old) answer is not stored.
    expect(await practices.rememberPracticeName(t.tenantId, 'Old Lane Surgery', readBefore.gen)).toBe(false);
    expect(await practices.rememberPracticeName(t.tenantId, 'New Lane Surgery', 1)).toBe(true);
    expect((await api().get(path)).body).toMatchObject({ practice: 'New Lane Surgery' });
  });
});

async function waitForCount(h: Harness, pred: (e: EventEnvelope) => boolean, n: number): Promise<EventEnvelope[]> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = h.events.filter(pred);
    if (found.length >= n) return found.sort((a, b) => Number(a.data.version) - Number(b.data.version));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} events`);
}
