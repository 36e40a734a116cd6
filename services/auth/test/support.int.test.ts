// Support mode: platform support users (2FA mandatory), grants, sessions into a practice
// with `act`, the list of support logins, and revocation/expiry of grants.
import { revokedSessionKey } from '@praxis/contracts';
import { unique } from '@praxis/testing';
import request from 'supertest';
import { totpCode } from '../src/mfa/totp';
import { createSupportUser } from '../src/support/support-users';
import { API, type Harness, type Practice, addUser, bearer, claimsOf, login, signUpPractice, startAuth, strongPassword } from './harness';

let h: Harness;
let p: Practice;
let admin: string;
let support: { id: string; email: string; password: string; secret: string; token: string; recoveryCodes: string[] };

beforeAll(async () => {
  h = await startAuth();
  p = await signUpPractice(h.app, 'Support Practice');
  admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
  const email = `${unique('support')}@praxis.test`;
  const password = strongPassword();
  const id = await createSupportUser(h.auth, { email, name: 'Sue Support', password });
  // First login: 2FA is mandatory, so the password only opens an enrolment.
  const first = await request(h.app).post(`${API}/support/login`).send({ email, password });
  expect(first.body).toEqual({ mfaRequired: true, mfaEnrolmentRequired: true, mfaToken: expect.any(String) });
  const enrol = await request(h.app).post(`${API}/auth/mfa/totp`).send({ mfaToken: first.body.mfaToken });
  expect(new URL(enrol.body.otpauthUrl).searchParams.get('issuer')).toBe('Praxis (support)');
  const act = await request(h.app)
    .post(`${API}/auth/mfa/totp/activate`)
    .send({ mfaToken: first.body.mfaToken, code: totpCode(enrol.body.secret) });
  expect(act.status).toBe(200);
  support = { id, email, password, secret: enrol.body.secret, token: act.body.accessToken, recoveryCodes: act.body.recoveryCodes };
});
afterAll(async () => {
  await h.close();
});

const grant = (token: string, body: object) => request(h.app).post(`${API}/support/grants`).set(bearer(token)).send(body);
const openSupport = (slug: string) => request(h.app).post(`${API}/support/sessions`).set(bearer(support.token)).send({ tenant: slug });

describe('platform support users', () => {
  it('log in with a second factor and hold a platform token with no practice rights', async () => {
    const second = await request(h.app).post(`${API}/support/login`).send({ email: support.email, password: support.password });
    expect(second.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
    const claims = claimsOf(support.token);
    expect(claims).toMatchObject({ tid: 'platform', role: 'support', amr: ['pwd', 'otp'] });
    expect(claims.scope).toBeUndefined();
    expect((await request(h.app).get(`${API}/users`).set(bearer(support.token))).status).toBe(403);
    expect((await request(h.app).get(`${API}/tenants/current`).set(bearer(support.token))).status).toBe(403);
  });

  it('a practice user cannot log in as support, nor support through a practice login', async () => {
    expect((await request(h.app).post(`${API}/support/login`).send({ email: p.admin.email, password: p.admin.password })).status).toBe(401);
    expect(
      (await request(h.app).post(`${API}/auth/login`).send({ tenant: 'platform', email: support.email, password: support.password }))
        .status,
    ).toBe(401);
  });
});

describe('grants and support sessions', () => {
  it('without a live grant, a support session is refused with 403', async () => {
    const other = await signUpPractice(h.app);
    expect((await openSupport(other.slug)).status).toBe(403);
    expect((await openSupport(unique('nosuch'))).status).toBe(403);
  });

  it('only admins manage grants, within 72 hours, with a reason', async () => {
    const c = await addUser(h.app, admin, 'clinician');
    const ct = (await login(h.app, p.slug, c.email, c.password)).accessToken;
    expect((await grant(ct, { scope: 'settings', reason: 'help', durationMinutes: 60 })).status).toBe(403);
    expect((await grant(admin, { scope: 'settings', reason: 'help', durationMinutes: 4321 })).status).toBe(400);
    expect((await grant(admin, { scope: 'everything', reason: 'help', durationMinutes: 60 })).status).toBe(400);
    expect((await grant(admin, { scope: 'settings', durationMinutes: 60 })).status).toBe(400);
  });

  it('under a live grant: tokens with role support, the grant’s scope and act; listed and published', async () => {
    const g = await grant(admin, { scope: 'settings', reason: 'Template layout help', durationMinutes: 4320 });
    expect(g.status).toBe(201);
    expect(g.body).toMatchObject({ id: expect.any(String), scope: 'settings', expiresAt: expect.any(String) });
    const s = await openSupport(p.slug);
    expect(s.status).toBe(201);
    const claims = claimsOf(s.body.accessToken);
    expect(claims).toMatchObject({ tid: p.tenantId, role: 'support', scope: 'settings', sub: support.id, act: { sub: support.id } });
    // settings scope: may read users, may not manage them or see support sessions.
    expect((await request(h.app).get(`${API}/users`).set(bearer(s.body.accessToken))).status).toBe(200);
    expect(
      (
        await request(h.app)
          .post(`${API}/users`)
          .set(bearer(s.body.accessToken))
          .send({ name: 'X', email: 'x@example.test', role: 'admin', password: strongPassword() })
      ).status,
    ).toBe(403);
    expect(
      (
        await request(h.app)
          .post(`${API}/support/grants`)
          .set(bearer(s.body.accessToken))
          .send({ scope: 'records', reason: 'x', durationMinutes: 5 })
      ).status,
    ).toBe(403);
    const me = await request(h.app).get(`${API}/auth/me`).set(bearer(s.body.accessToken));
    expect(me.body).toMatchObject({ id: support.id, role: 'support', scope: 'settings', tenant: { id: p.tenantId } });
    const list = await request(h.app).get(`${API}/support/sessions`).set(bearer(admin));
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: claims.sid, supportUserId: support.id, grantId: g.body.id, startedAt: expect.any(String) }),
      ]),
    );
    const ev = await h.event('auth.support-session.started', (e) => e.data.supportSessionId === claims.sid);
    expect(ev).toMatchObject({
      tenantId: p.tenantId,
      actor: { kind: 'support', id: support.id },
      data: { supportUserId: support.id, grantId: g.body.id },
    });
    // Refresh works while the grant lives, keeping act and scope.
    const r = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: s.body.refreshToken });
    expect(r.status).toBe(200);
    expect(claimsOf(r.body.accessToken)).toMatchObject({ role: 'support', scope: 'settings', act: { sub: support.id } });
    const grants = await request(h.app).get(`${API}/support/grants`).set(bearer(admin));
    expect(grants.body.items.map((x: { id: string }) => x.id)).toContain(g.body.id);
  });

  it('revoking the grant ends its sessions at once', async () => {
    const g = await grant(admin, { scope: 'records', reason: 'Data fix', durationMinutes: 30 });
    const s = await openSupport(p.slug);
    expect(s.status).toBe(201);
    expect(claimsOf(s.body.accessToken).scope).toBe('records');
    expect((await request(h.app).get(`${API}/users`).set(bearer(s.body.accessToken))).status).toBe(200);
    expect((await request(h.app).delete(`${API}/support/grants/${g.body.id}`).set(bearer(admin))).status).toBe(204);
    expect(await h.auth.redis.exists(revokedSessionKey(claimsOf(s.body.accessToken).sid))).toBe(1);
    expect((await request(h.app).get(`${API}/users`).set(bearer(s.body.accessToken))).status).toBe(401);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: s.body.refreshToken })).status).toBe(401);
    await h.event('auth.support-grant.revoked', (e) => e.data.grantId === g.body.id);
    const list = await request(h.app).get(`${API}/support/sessions`).set(bearer(admin));
    expect(list.body.items.find((x: { id: string }) => x.id === claimsOf(s.body.accessToken).sid).endedAt).toEqual(expect.any(String));
  });

  it('an expired grant opens nothing, and its sessions cannot refresh', async () => {
    // Revoke everything live first, so only the grant under test exists.
    for (const x of (await request(h.app).get(`${API}/support/grants`).set(bearer(admin))).body.items) {
      if (x.active) await request(h.app).delete(`${API}/support/grants/${x.id}`).set(bearer(admin));
    }
    const g = await grant(admin, { scope: 'settings', reason: 'Short', durationMinutes: 5 });
    const s = await openSupport(p.slug);
    expect(s.status).toBe(201);
    // Access tokens never outlive the grant.
    expect(claimsOf(s.body.accessToken).exp).toBeLessThanOrEqual(Math.ceil(new Date(g.body.expiresAt).getTime() / 1000));
    await h.auth.grants.model.updateOne({ _id: g.body.id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await openSupport(p.slug)).status).toBe(403);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: s.body.refreshToken })).status).toBe(401);
  });

  it('another practice’s grant is not found', async () => {
    const other = await signUpPractice(h.app);
    const otherAdmin = (await login(h.app, other.slug, other.admin.email, other.admin.password)).accessToken;
    const g = await grant(admin, { scope: 'settings', reason: 'x', durationMinutes: 5 });
    expect((await request(h.app).delete(`${API}/support/grants/${g.body.id}`).set(bearer(otherAdmin))).status).toBe(404);
    expect((await request(h.app).get(`${API}/support/sessions`).set(bearer(otherAdmin))).body.items).toEqual([]);
  });

  it('a support session cannot open another support session', async () => {
    await grant(admin, { scope: 'settings', reason: 'x', durationMinutes: 5 });
    const s = await openSupport(p.slug);
    expect((await request(h.app).post(`${API}/support/sessions`).set(bearer(s.body.accessToken)).send({ tenant: p.slug })).status).toBe(
      403,
    );
  });
});
