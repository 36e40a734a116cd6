// Findings of a security review of records, proved fixed: bodies that lie about their
// encoding, text that is not Unicode, bidi and zero-width characters in names, duplicate
// keys, and an empty PATCH.
import { sendRaw } from '@praxis/testing';
import request from 'supertest';
import { bearer } from './testing';
import { type Harness, startHarness } from './harness';

describe('records refuses malformed input', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const patient = { givenName: 'Ada', familyName: 'Lovelace', birthDate: '1985-12-10' };
  beforeAll(async () => {
    h = await startHarness({ relay: false });
    t = h.tenant();
  });
  afterAll(() => h.close());

  const raw = (body: Buffer | string, headers: Record<string, string> = {}) =>
    sendRaw(h.records.app, {
      method: 'POST',
      path: '/api/v1/patients',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${t.clinician.token}`, ...headers },
      body,
    });

  it.each(['gzip', 'deflate', 'br'])(
    'a body claiming Content-Encoding %s that is not → 400 problem+json, with or without a token',
    async (enc) => {
      const res = await raw(JSON.stringify(patient), { 'Content-Encoding': enc });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const anon = await sendRaw(h.records.app, {
        method: 'POST',
        path: '/api/v1/patients',
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': enc },
        body: 'not compressed',
      });
      expect(anon.status).toBe(400);
    },
  );

  it('invalid UTF-8 and escaped lone surrogates → 400', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"givenName":"A'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('da","familyName":"Lovelace","birthDate":"1985-12-10"}'),
    ]);
    expect((await raw(bad)).status).toBe(400);
    expect((await raw('{"givenName":"Ada\\udc00","familyName":"Lovelace","birthDate":"1985-12-10"}')).status).toBe(400);
  });

  it('a duplicate key → 400', async () => {
    const res = await raw('{"givenName":"Ada","familyName":"Lovelace","familyName":"Byron","birthDate":"1985-12-10"}');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/duplicate key/);
  });

  it.each([
    ['givenName', { givenName: 'Ada\u202E' }],
    ['familyName', { familyName: 'Love\u200Dlace' }],
    ['address.line1', { address: { line1: '1 High St\u2067', city: 'Leeds', postcode: 'LS1 1AA' } }],
  ])('bidi and zero-width characters in %s → 400', async (_field, change) => {
    const res = await request(h.records.app)
      .post('/api/v1/patients')
      .set(bearer(t.clinician.token))
      .send({ ...patient, ...change });
    expect(res.status).toBe(400);
  });

  it('an empty PATCH → 400; a note body keeps its newlines but not a bidi override', async () => {
    const created = await request(h.records.app).post('/api/v1/patients').set(bearer(t.clinician.token)).send(patient);
    expect(created.status).toBe(201);
    expect((await request(h.records.app).patch(`/api/v1/patients/${created.body.id}`).set(bearer(t.clinician.token)).send({})).status).toBe(
      400,
    );
    const ok = await request(h.records.app)
      .post(`/api/v1/patients/${created.body.id}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Visit', body: 'Line one\n\tLine two' });
    expect(ok.status).toBe(201);
    const bidi = await request(h.records.app)
      .post(`/api/v1/patients/${created.body.id}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Visit', body: 'dose \u202E01 mg' });
    expect(bidi.status).toBe(400);
  });

  it('TRACE → 405 problem+json', async () => {
    const res = await sendRaw(h.records.app, { method: 'TRACE', path: '/api/v1/patients' });
    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
