// TOTP 2FA: enrolment, activation, the ±1 step window, one use per step, recovery codes,
// disabling, a practice's mandatory 2FA, and an admin's reset.
import request from 'supertest';
import { totpCode } from '../src/mfa/totp';
import { API, type Harness, type Practice, addUser, bearer, claimsOf, enableTotp, login, signUpPractice, startAuth } from './harness';

let h: Harness;
let p: Practice;
let admin: string;

beforeAll(async () => {
  h = await startAuth();
  p = await signUpPractice(h.app, 'Mfa Practice');
  admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
});
afterAll(async () => {
  await h.close();
});

async function userWithTotp() {
  const u = await addUser(h.app, admin, 'clinician');
  const t = await login(h.app, p.slug, u.email, u.password);
  const totp = await enableTotp(h.app, t.accessToken);
  return { ...u, ...totp, token: t.accessToken };
}

async function challenge(email: string, password: string): Promise<string> {
  const res = await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email, password });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
  return res.body.mfaToken;
}

describe('enrolment', () => {
  it('gives a secret and an otpauth URL naming Praxis and the practice, then ten recovery codes', async () => {
    const u = await addUser(h.app, admin, 'receptionist');
    const t = await login(h.app, p.slug, u.email, u.password);
    const enrol = await request(h.app).post(`${API}/auth/mfa/totp`).set(bearer(t.accessToken)).send({});
    expect(enrol.status).toBe(200);
    expect(enrol.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(enrol.body.otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('issuer')).toBe('Praxis (Mfa Practice)');
    expect(url.searchParams.get('secret')).toBe(enrol.body.secret);
    const wrong = await request(h.app).post(`${API}/auth/mfa/totp/activate`).set(bearer(t.accessToken)).send({ code: '000000' });
    expect(wrong.status).toBe(401);
    const act = await request(h.app)
      .post(`${API}/auth/mfa/totp/activate`)
      .set(bearer(t.accessToken))
      .send({ code: totpCode(enrol.body.secret) });
    expect(act.status).toBe(200);
    expect(act.body.recoveryCodes).toHaveLength(10);
    expect(new Set(act.body.recoveryCodes).size).toBe(10);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).body.mfa).toEqual({ totp: true });
    await h.event('auth.mfa.activated', (e) => e.data.userId === u.id);
  });

  it('stores the secret sealed and the recovery codes hashed', async () => {
    const u = await userWithTotp();
    const raw = await h.auth.users.model.collection.findOne({ _id: u.id as never });
    const stored = JSON.stringify(raw);
    expect(stored).not.toContain(u.secret);
    for (const c of u.recoveryCodes) expect(stored).not.toContain(c);
    expect(raw!.totpSecret.ct).toMatch(/^v1\./);
  });

  it('refuses a second enrolment while 2FA is on', async () => {
    const u = await userWithTotp();
    expect((await request(h.app).post(`${API}/auth/mfa/totp`).set(bearer(u.token)).send({})).status).toBe(409);
  });
});

describe('login with a second factor', () => {
  it('needs the code after the password, and then carries amr pwd+otp', async () => {
    const u = await userWithTotp();
    const mfaToken = await challenge(u.email, u.password);
    const res = await request(h.app)
      .post(`${API}/auth/mfa/verify`)
      .send({ mfaToken, code: totpCode(u.secret, Date.now() + 30_000) });
    expect(res.status).toBe(200);
    expect(claimsOf(res.body.accessToken).amr).toEqual(['pwd', 'otp']);
    // The challenge is single-use.
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/verify`)
          .send({ mfaToken, code: totpCode(u.secret) })
      ).status,
    ).toBe(401);
  });

  it('refuses a replayed code (same step) and publishes it', async () => {
    const u = await userWithTotp();
    // The activation used the current step; the same code again is a replay.
    const mfaToken = await challenge(u.email, u.password);
    const replay = await request(h.app)
      .post(`${API}/auth/mfa/verify`)
      .send({ mfaToken, code: totpCode(u.secret, u.usedAt) });
    expect(replay.status).toBe(401);
    const ev = await h.event('auth.mfa.failed', (e) => e.data.userId === u.id && e.data.reason === 'replayed-code');
    expect(ev.tenantId).toBe(p.tenantId);
    // A code of the next step still works, once.
    const next = totpCode(u.secret, Date.now() + 30_000);
    expect((await request(h.app).post(`${API}/auth/mfa/verify`).send({ mfaToken, code: next })).status).toBe(200);
    const again = await challenge(u.email, u.password);
    expect((await request(h.app).post(`${API}/auth/mfa/verify`).send({ mfaToken: again, code: next })).status).toBe(401);
  });

  it('accepts the previous step, refuses two steps away', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const t = await login(h.app, p.slug, u.email, u.password);
    const enrol = await request(h.app).post(`${API}/auth/mfa/totp`).set(bearer(t.accessToken)).send({});
    // Activate with the previous step's code, so the current step stays unused.
    const act = await request(h.app)
      .post(`${API}/auth/mfa/totp/activate`)
      .set(bearer(t.accessToken))
      .send({ code: totpCode(enrol.body.secret, Date.now() - 30_000) });
    expect(act.status).toBe(200);
    const mfaToken = await challenge(u.email, u.password);
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/verify`)
          .send({ mfaToken, code: totpCode(enrol.body.secret, Date.now() - 60_000) })
      ).status,
    ).toBe(401);
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/verify`)
          .send({ mfaToken, code: totpCode(enrol.body.secret) })
      ).status,
    ).toBe(200);
  });

  it('accepts a recovery code once; a reused one is refused', async () => {
    const u = await userWithTotp();
    const code = u.recoveryCodes[3]!;
    const first = await request(h.app)
      .post(`${API}/auth/mfa/verify`)
      .send({ mfaToken: await challenge(u.email, u.password), code });
    expect(first.status).toBe(200);
    expect(claimsOf(first.body.accessToken).amr).toEqual(['pwd', 'rec']);
    const used = await h.event('auth.recovery-code.used', (e) => e.data.userId === u.id);
    expect(used.data.remaining).toBe(9);
    const reuse = await request(h.app)
      .post(`${API}/auth/mfa/verify`)
      .send({ mfaToken: await challenge(u.email, u.password), code });
    expect(reuse.status).toBe(401);
    // Another unused one still works.
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/verify`)
          .send({ mfaToken: await challenge(u.email, u.password), code: u.recoveryCodes[4]!.toUpperCase() })
      ).status,
    ).toBe(200);
  });

  it('refuses a made-up or expired MFA token', async () => {
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/verify`)
          .send({ mfaToken: 'mfa_' + 'x'.repeat(43), code: '123456' })
      ).status,
    ).toBe(401);
  });

  it('throws a challenge away after five wrong codes', async () => {
    const u = await userWithTotp();
    const mfaToken = await challenge(u.email, u.password);
    let wrong = 0;
    while (wrong < 5) {
      const res = await request(h.app).post(`${API}/auth/mfa/verify`).send({ mfaToken, code: '000000' });
      if (res.status === 401) wrong++;
      else await new Promise((r) => setTimeout(r, Number(res.headers['retry-after'] ?? 1) * 1000));
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await request(h.app)
      .post(`${API}/auth/mfa/verify`)
      .send({ mfaToken, code: totpCode(u.secret, Date.now() + 30_000) });
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/log in again/);
  });
});

describe('disable and reset', () => {
  it('a user disables 2FA with a code', async () => {
    const u = await userWithTotp();
    expect((await request(h.app).post(`${API}/auth/mfa/totp/disable`).set(bearer(u.token)).send({ code: '000000' })).status).toBe(401);
    expect((await request(h.app).post(`${API}/auth/mfa/totp/disable`).set(bearer(u.token)).send({ code: u.recoveryCodes[0] })).status).toBe(
      204,
    );
    const res = await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: u.email, password: u.password });
    expect(res.body.accessToken).toEqual(expect.any(String));
    await h.event('auth.mfa.disabled', (e) => e.data.userId === u.id);
  });

  it('an admin resets a user’s 2FA (audited); another practice’s admin cannot', async () => {
    const u = await userWithTotp();
    const other = await signUpPractice(h.app);
    const otherAdmin = (await login(h.app, other.slug, other.admin.email, other.admin.password)).accessToken;
    expect((await request(h.app).post(`${API}/users/${u.id}/mfa/reset`).set(bearer(otherAdmin))).status).toBe(404);
    expect((await request(h.app).post(`${API}/users/${u.id}/mfa/reset`).set(bearer(u.token))).status).toBe(403);
    expect((await request(h.app).post(`${API}/users/${u.id}/mfa/reset`).set(bearer(admin))).status).toBe(204);
    const ev = await h.event('auth.mfa.reset', (e) => e.data.userId === u.id);
    expect(ev.actor).toEqual({ kind: 'user', id: p.admin.id });
    const res = await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: u.email, password: u.password });
    expect(res.body.accessToken).toEqual(expect.any(String));
  });
});

describe('a practice that requires 2FA', () => {
  it('forces enrolment at the next login: the MFA token only enrols, and activation completes the login', async () => {
    const q = await signUpPractice(h.app, 'Strict Practice');
    const qAdmin = (await login(h.app, q.slug, q.admin.email, q.admin.password)).accessToken;
    const u = await addUser(h.app, qAdmin, 'receptionist');
    expect((await request(h.app).patch(`${API}/tenants/current`).set(bearer(qAdmin)).send({ mfaRequired: true })).body.mfaRequired).toBe(
      true,
    );
    const first = await request(h.app).post(`${API}/auth/login`).send({ tenant: q.slug, email: u.email, password: u.password });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ mfaRequired: true, mfaEnrolmentRequired: true, mfaToken: expect.any(String) });
    // The enrolment token is not a login: it cannot verify a code, nor act as a bearer token.
    expect((await request(h.app).post(`${API}/auth/mfa/verify`).send({ mfaToken: first.body.mfaToken, code: '123456' })).status).toBe(401);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(first.body.mfaToken))).status).toBe(401);
    const enrol = await request(h.app).post(`${API}/auth/mfa/totp`).send({ mfaToken: first.body.mfaToken });
    expect(enrol.status).toBe(200);
    const act = await request(h.app)
      .post(`${API}/auth/mfa/totp/activate`)
      .send({ mfaToken: first.body.mfaToken, code: totpCode(enrol.body.secret) });
    expect(act.status).toBe(200);
    expect(act.body.recoveryCodes).toHaveLength(10);
    expect(claimsOf(act.body.accessToken).amr).toEqual(['pwd', 'otp']);
    // With 2FA required, it cannot be turned off.
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/mfa/totp/disable`)
          .set(bearer(act.body.accessToken))
          .send({ code: act.body.recoveryCodes[0] })
      ).status,
    ).toBe(422);
    // The next login asks for a code.
    const next = await request(h.app).post(`${API}/auth/login`).send({ tenant: q.slug, email: u.email, password: u.password });
    expect(next.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
  });

  it('ends password-only sessions at their next refresh once 2FA is required; sessions with a code go on', async () => {
    const q = await signUpPractice(h.app, 'Tightening Practice');
    const admin = await login(h.app, q.slug, q.admin.email, q.admin.password);
    const u = await addUser(h.app, admin.accessToken, 'clinician');
    const withPassword = await login(h.app, q.slug, u.email, u.password);
    // Before the switch a password-only session refreshes as usual.
    const refreshed = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: withPassword.refreshToken });
    expect(refreshed.status).toBe(200);
    // The admin enrols, so the admin's own new session carries a second factor.
    const { secret, usedAt } = await enableTotp(h.app, admin.accessToken);
    const step1 = await request(h.app).post(`${API}/auth/login`).send({ tenant: q.slug, email: q.admin.email, password: q.admin.password });
    // The next step's code (the activation used this one; ±1 step is accepted).
    const withCode = (
      await request(h.app)
        .post(`${API}/auth/mfa/verify`)
        .send({ mfaToken: step1.body.mfaToken, code: totpCode(secret, usedAt + 30_000) })
    ).body;
    expect(claimsOf(withCode.accessToken).amr).toEqual(['pwd', 'otp']);

    expect(
      (await request(h.app).patch(`${API}/tenants/current`).set(bearer(withCode.accessToken)).send({ mfaRequired: true })).status,
    ).toBe(200);
    const ended = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: refreshed.body.refreshToken });
    expect(ended.status).toBe(401);
    expect(ended.body.detail).toBe('The session has ended.');
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: withCode.refreshToken })).status).toBe(200);
  });
});
