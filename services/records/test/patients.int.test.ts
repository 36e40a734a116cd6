import request from 'supertest';
import { bearer } from './testing';
import { type Harness, startHarness } from './harness';
import { checkCharacter } from '../src/patients/ref';

describe('patients (real FerretDB, RabbitMQ, Redis)', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.records.app);
  const alice = {
    givenName: 'Alice',
    familyName: 'Müller-Lüdenscheidt',
    birthDate: '1984-02-29',
    email: 'alice@example.org',
    mobile: '+447700900123',
    address: { line1: '1 High St', city: 'Leeds', postcode: 'LS1 1AA' },
  };

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
  });
  afterAll(() => h.close());

  it('creates a patient with a pseudonymous ref and reads it back', async () => {
    const res = await api().post('/api/v1/patients').set(bearer(t.receptionist.token)).send(alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...alice, test: false });
    expect(res.body.id).toEqual(expect.any(String));
    expect(res.body.ref).toMatch(/^PX-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    const got = await api().get(`/api/v1/patients/${res.body.id}`).set(bearer(t.clinician.token));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('gives every patient a different ref, derived from nothing about them', async () => {
    const refs = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ givenName: 'Same', familyName: 'Person', birthDate: '1990-01-01' });
      expect(r.status).toBe(201);
      refs.add(r.body.ref);
    }
    expect(refs.size).toBe(5);
  });

  it('finds by family name exactly, ignoring case and accents, and by ref', async () => {
    const created = await api()
      .post('/api/v1/patients')
      .set(bearer(t.admin.token))
      .send({ ...alice, familyName: 'Ångström' });
    for (const q of ['Ångström', 'angstrom', 'ANGSTRÖM', '  angström ']) {
      const res = await api().get('/api/v1/patients').query({ familyName: q }).set(bearer(t.receptionist.token));
      expect(res.status).toBe(200);
      expect(res.body.items.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
      expect(res.body.items[0].familyName).toBe('Ångström');
    }
    const partial = await api().get('/api/v1/patients').query({ familyName: 'Ångstr' }).set(bearer(t.admin.token));
    expect(partial.body.items).toEqual([]);
    const byRef = await api().get('/api/v1/patients').query({ ref: created.body.ref.toLowerCase() }).set(bearer(t.clinician.token));
    expect(byRef.status).toBe(200);
    expect(byRef.body.items).toEqual([created.body]);
  });

  it('refuses a ref whose check character is wrong with 400 (a typo, not "no such patient")', async () => {
    const created = await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(alice);
    const ref: string = created.body.ref;
    const payload = ref.replace(/^PX-/, '').replace('-', '').slice(0, 7);
    const good = checkCharacter(payload);
    const wrong = good === '0' ? '1' : '0';
    const res = await api()
      .get('/api/v1/patients')
      .query({ ref: ref.slice(0, -1) + wrong })
      .set(bearer(t.admin.token));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ path: 'query.ref', message: 'check character does not match' });
    expect((await api().get('/api/v1/patients').query({ ref: 'PX-nope' }).set(bearer(t.admin.token))).status).toBe(400);
  });

  it('pages through a list with limit and cursor', async () => {
    const other = h.tenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await api()
            .post('/api/v1/patients')
            .set(bearer(other.admin.token))
            .send({ ...alice, familyName: 'Pager' })
        ).body.id,
      );
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await api()
        .get('/api/v1/patients')
        .query({ familyName: 'pager', limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(other.admin.token));
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((p: { id: string }) => p.id));
      cursor = res.body.next;
      if (i < 2) expect(cursor).toEqual(expect.any(String));
    }
    expect(cursor).toBeUndefined();
    expect(seen.sort()).toEqual(ids.sort());
    const all = await api().get('/api/v1/patients').set(bearer(other.admin.token));
    expect(all.body.items).toHaveLength(5);
    expect((await api().get('/api/v1/patients').query({ limit: 201 }).set(bearer(other.admin.token))).status).toBe(400);
    expect((await api().get('/api/v1/patients').query({ limit: 0 }).set(bearer(other.admin.token))).status).toBe(400);
    expect((await api().get('/api/v1/patients').query({ cursor: 'garbage' }).set(bearer(other.admin.token))).status).toBe(400);
  });

  it('changes demographics with PATCH, re-indexing the family name and removing fields set to null', async () => {
    const created = await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(alice);
    const res = await api()
      .patch(`/api/v1/patients/${created.body.id}`)
      .set(bearer(t.receptionist.token))
      .send({ familyName: 'Newname', email: null, mobile: '+447700900999' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: created.body.id,
      ref: created.body.ref,
      givenName: 'Alice',
      familyName: 'Newname',
      mobile: '+447700900999',
    });
    expect(res.body.email).toBeUndefined();
    const found = await api().get('/api/v1/patients').query({ familyName: 'newname' }).set(bearer(t.admin.token));
    expect(found.body.items.map((p: { id: string }) => p.id)).toContain(created.body.id);
    const again = await api().get(`/api/v1/patients/${created.body.id}`).set(bearer(t.admin.token));
    expect(again.body).toEqual(res.body);
    expect((await api().patch(`/api/v1/patients/${created.body.id}`).set(bearer(t.admin.token)).send({})).status).toBe(400);
    expect((await api().patch(`/api/v1/patients/${created.body.id}`).set(bearer(t.admin.token)).send({ givenName: null })).status).toBe(
      400,
    );
  });

  it.each([
    ['an unknown field', { ...alice, nhsNumber: '123' }],
    ['a missing family name', { givenName: 'A', birthDate: '1990-01-01' }],
    ['a date that is not a calendar day', { ...alice, birthDate: '2023-02-29' }],
    ['a date in another format', { ...alice, birthDate: '01/02/1990' }],
    ['a birth date in the future', { ...alice, birthDate: '2999-01-01' }],
    ['a phone number not in E.164', { ...alice, mobile: '07700 900123' }],
    ['a malformed email', { ...alice, email: 'not-an-email' }],
    ['an unknown address field', { ...alice, address: { ...alice.address, country: 'UK' } }],
    ['a $-operator in the body', { ...alice, familyName: { $ne: null } }],
    ['a $-key nested in the body', { ...alice, address: { $where: '1', line1: 'x', city: 'y', postcode: 'z' } }],
    ['a non-boolean test flag', { ...alice, test: 'yes' }],
  ])('refuses %s with 400', async (_what, body) => {
    const res = await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it.each([
    ['familyName[$ne]=x'],
    ['$where=1'],
    ['familyName=a&familyName=b'],
    ['ref[$regex]=.*'],
    ['unknown=1'],
    ['ref=PX-AAAA-AAAA&familyName=x'],
  ])('refuses the query string %s with 400', async (qs) => {
    const res = await api().get(`/api/v1/patients?${qs}`).set(bearer(t.admin.token));
    expect(res.status).toBe(400);
  });

  it('refuses $-operators in PATCH bodies', async () => {
    const created = await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(alice);
    const res = await api()
      .patch(`/api/v1/patients/${created.body.id}`)
      .set(bearer(t.admin.token))
      .send({ $set: { test: true } });
    expect(res.status).toBe(400);
  });

  it('answers 404 for an unknown id and 401 without a token', async () => {
    expect((await api().get('/api/v1/patients/pat_doesnotexist').set(bearer(t.admin.token))).status).toBe(404);
    expect((await api().get('/api/v1/patients')).status).toBe(401);
    expect((await api().post('/api/v1/patients').send(alice)).status).toBe(401);
  });
});
