// Sign-up, login, tokens, JWKS, refresh rotation, logout, /auth/me, users and practice settings.
import { accessTokenClaimsSchema, revokedSessionKey } from '@praxis/contracts';
import { randomId } from '@praxis/platform';
import { unique } from '@praxis/testing';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { USED_REFRESH_HASHES_KEPT } from '../src/sessions/model';
import { reassertRevocations } from '../src/sessions/use-cases';
import { ABANDONED_SIGNUP_MS } from '../src/tenants/use-cases';
import {
  API,
  type Harness,
  type Practice,
  addUser,
  bearer,
  claimsOf,
  login,
  signUpPractice,
  startAuth,
  strongPassword,
  verifications,
} from './harness';

let h: Harness;
let p: Practice;

beforeAll(async () => {
  h = await startAuth();
  p = await signUpPractice(h.app);
});
afterAll(async () => {
  await h.close();
});

describe('practice sign-up', () => {
  it('creates the practice and its first admin, and publishes both', async () => {
    const slug = unique('signup');
    const res = await request(h.app)
      .post(`${API}/tenants`)
      .send({ name: 'Sunny Clinic', slug, admin: { name: 'Sam', email: `${slug}@Example.test`, password: strongPassword() } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      tenant: { id: expect.any(String), slug, name: 'Sunny Clinic' },
      user: { id: expect.any(String), email: `${slug}@example.test`, role: 'admin' },
    });
    const created = await h.event('auth.tenant.created', (e) => e.tenantId === res.body.tenant.id);
    expect(created.data).toEqual({ tenantId: res.body.tenant.id, slug });
    const userCreated = await h.event('auth.user.created', (e) => e.tenantId === res.body.tenant.id);
    expect(JSON.stringify(userCreated)).not.toContain('example.test');
  });

  it('answers 409 when the slug is taken', async () => {
    const res = await request(h.app)
      .post(`${API}/tenants`)
      .send({ name: 'Copy', slug: p.slug, admin: { name: 'X', email: 'x@example.test', password: strongPassword() } });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it.each([['UPPER-case'], ['ab'], ['a'.repeat(41)], ['-leading'], ['with space']])('refuses the slug %p with 400', async (slug) => {
    const res = await request(h.app)
      .post(`${API}/tenants`)
      .send({ name: 'X', slug, admin: { name: 'X', email: 'x@example.test', password: strongPassword() } });
    expect(res.status).toBe(400);
  });

  it('takes back the slug of a sign-up that died between its two writes, and only that', async () => {
    const body = (slug: string) => ({
      name: 'Again',
      slug,
      admin: { name: 'Al', email: `${slug}@example.test`, password: strongPassword() },
    });
    const orphan = async (slug: string, ageMs: number) => {
      const at = new Date(Date.now() - ageMs);
      const id = randomId('ten');
      await h.auth.tenants.create(
        { _id: id, slug, name: 'Crashed', mfaRequired: false, status: 'active', createdAt: at, updatedAt: at },
        [],
      );
      return id;
    };
    // Abandoned long enough ago: the new sign-up gets the slug; the orphan is gone.
    const slug = unique('reclaim');
    const old = await orphan(slug, ABANDONED_SIGNUP_MS + 60_000);
    const b = body(slug);
    const res = await request(h.app).post(`${API}/tenants`).send(b);
    expect(res.status).toBe(201);
    expect(res.body.tenant.id).not.toBe(old);
    expect(await h.auth.tenants.get(old)).toBeNull();
    expect((await login(h.app, slug, b.admin.email, b.admin.password)).accessToken).toEqual(expect.any(String));

    // Too recent: it may still be mid-sign-up.
    const fresh = unique('reclaim');
    await orphan(fresh, 1000);
    expect((await request(h.app).post(`${API}/tenants`).send(body(fresh))).status).toBe(409);

    // Old, but with an admin: a real practice.
    const real = await signUpPractice(h.app);
    await h.auth.tenants.model.updateOne({ _id: real.tenantId }, { $set: { createdAt: new Date(Date.now() - 10 * ABANDONED_SIGNUP_MS) } });
    expect((await request(h.app).post(`${API}/tenants`).send(body(real.slug))).status).toBe(409);
    expect(await h.auth.tenants.get(real.tenantId)).not.toBeNull();
  });

  it('refuses short and common passwords', async () => {
    for (const password of ['short-pw', 'password1234', 'Password123!']) {
      const res = await request(h.app)
        .post(`${API}/tenants`)
        .send({ name: 'X', slug: unique('pw'), admin: { name: 'X', email: 'x@example.test', password } });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('body.admin.password');
    }
  });

  it('refuses unknown fields and $-operators', async () => {
    const extra = await request(h.app)
      .post(`${API}/tenants`)
      .send({ name: 'X', slug: unique('x'), admin: { name: 'X', email: 'x@example.test', password: strongPassword() }, role: 'support' });
    expect(extra.status).toBe(400);
    const op = await request(h.app)
      .post(`${API}/auth/login`)
      .send({ tenant: p.slug, email: { $ne: 'x' }, password: 'x' });
    expect(op.status).toBe(400);
  });
});

describe('login and tokens', () => {
  it('issues an ES256 access token with the contract claims, a kid from the JWKS, and an opaque refresh token', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    expect(t).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 600, tokenType: 'Bearer' });
    const decoded = jwt.decode(t.accessToken, { complete: true })!;
    expect(decoded.header.alg).toBe('ES256');
    const claims = accessTokenClaimsSchema.parse(decoded.payload);
    expect(claims).toMatchObject({ iss: 'praxis-auth', aud: 'praxis', sub: p.admin.id, tid: p.tenantId, role: 'admin', amr: ['pwd'] });
    expect(claims.exp - claims.iat).toBe(600);
    const jwks = await request(h.app).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(decoded.header.kid);
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(2); // current and next
    for (const k of jwks.body.keys) expect(k.d).toBeUndefined();
    const ev = await h.event('auth.login.succeeded', (e) => e.tenantId === p.tenantId && e.data.sessionId === claims.sid);
    expect(ev.data).toMatchObject({ userId: p.admin.id, amr: ['pwd'] });
  });

  it('answers an unknown email, an unknown practice and a wrong password alike', async () => {
    const p = await signUpPractice(h.app);
    const wrong = await request(h.app)
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '10.1.0.1')
      .send({ tenant: p.slug, email: p.admin.email, password: 'not the password at all' });
    const unknown = await request(h.app)
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '10.1.0.1')
      .send({ tenant: p.slug, email: 'nobody@example.test', password: 'not the password at all' });
    const noTenant = await request(h.app)
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '10.1.0.1')
      .send({ tenant: unique('none'), email: p.admin.email, password: 'not the password at all' });
    for (const r of [wrong, unknown, noTenant]) {
      expect(r.status).toBe(401);
      expect(r.body.detail).toBe(wrong.body.detail);
    }
    const failed = await h.event('auth.login.failed', (e) => e.tenantId === p.tenantId && e.data.userId === p.admin.id);
    expect(failed.data.reason).toBe('bad-credentials');
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.text).toMatch(/auth_login_attempts_total\{outcome="bad-credentials"[^}]*\} [1-9]/);
  });

  it('takes about the same time for an unknown email as for a wrong password', async () => {
    const p = await signUpPractice(h.app);
    // One attempt: its wall time and how many argon2id verifications it ran.
    const attempt = async (email: string) => {
      const before = await verifications(h);
      const t0 = process.hrtime.bigint();
      const res = await request(h.app)
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', `10.2.${Math.floor(Math.random() * 200)}.1`)
        .send({ tenant: p.slug, email, password: 'not the password at all' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(res.status).toBe(401);
      return { ms, verified: (await verifications(h)) - before };
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Three rounds: the account's free failures (a fourth would be delayed by the throttle).
    for (let i = 0; i < 3; i++) {
      const k = await attempt(p.admin.email);
      const u = await attempt(`${unique('ghost')}@example.test`);
      // Both pay for exactly one argon2id verification (a dummy hash when there is no account).
      expect([k.verified, u.verified]).toEqual([1, 1]);
      known.push(k.ms);
      unknown.push(u.ms);
    }
    // Wall time, compared by the fastest of each (load on a shared machine only ever adds
    // time); loose bounds, where without the dummy hash it would be ~50×.
    console.log(JSON.stringify({ knownMs: known.map(Math.round), unknownMs: unknown.map(Math.round) }));
    expect(Math.min(...unknown)).toBeGreaterThan(Math.min(...known) / 3);
    expect(Math.min(...unknown)).toBeLessThan(Math.min(...known) * 3);
  });

  it('GET /auth/me describes the caller', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const res = await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: p.admin.id,
      email: p.admin.email,
      name: 'Ada Admin',
      role: 'admin',
      tenant: { id: p.tenantId, slug: p.slug, name: 'Test Practice' },
      mfa: { totp: false },
    });
    expect((await request(h.app).get(`${API}/auth/me`)).status).toBe(401);
  });
});

describe('refresh, logout and revocation', () => {
  it('rotates the refresh token on use; reusing the old one ends the session', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const r1 = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(t.refreshToken);
    expect(claimsOf(r1.body.accessToken).sid).toBe(claimsOf(t.accessToken).sid);
    const reuse = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken });
    expect(reuse.status).toBe(401);
    // The whole session is gone: the newest refresh token and the access tokens too.
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: r1.body.refreshToken })).status).toBe(401);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(r1.body.accessToken))).status).toBe(401);
    const ev = await h.event('auth.session.revoked', (e) => e.data.sessionId === claimsOf(t.accessToken).sid);
    expect(ev.data.reason).toBe('refresh-reuse');
  });

  it('remembers the last USED_REFRESH_HASHES_KEPT used secrets of a session, not every one', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const sid = claimsOf(t.accessToken).sid;
    const tokens = [t.refreshToken];
    const started = Date.now();
    // Each from its own address, so the per-address throttle of /auth/refresh stays out of it.
    for (let i = 0; i < USED_REFRESH_HASHES_KEPT + 5; i++) {
      const r = await request(h.app)
        .post(`${API}/auth/refresh`)
        .set('X-Forwarded-For', `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`)
        .send({ refreshToken: tokens.at(-1) });
      expect(r.status).toBe(200);
      tokens.push(r.body.refreshToken);
    }
    const doc = await h.deps.mongo.collection('sessions').findOne({ _id: sid as never });
    const used = doc!.usedRefreshHashes as string[];
    console.log(
      `${tokens.length - 1} refreshes of one session in ${Date.now() - started} ms; ${used.length} used secrets kept (${JSON.stringify(doc).length} bytes)`,
    );
    expect(used).toHaveLength(USED_REFRESH_HASHES_KEPT);
    // The oldest secrets fell out of the list: replaying one is refused, and ends nothing.
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: tokens[0] })).status).toBe(401);
    const newest = await request(h.app)
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: tokens.at(-1) });
    expect(newest.status).toBe(200);
    // One still in the list ends the session, as any reuse does.
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/refresh`)
          .send({ refreshToken: tokens.at(-2) })
      ).status,
    ).toBe(401);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: newest.body.refreshToken })).status).toBe(401);
  });

  it('refuses a made-up refresh token without touching the session', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const sid = claimsOf(t.accessToken).sid;
    const forged = await request(h.app)
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: `${sid}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken })).status).toBe(200);
  });

  it('logout ends the session at once, through the shared Redis key', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    expect((await request(h.app).post(`${API}/auth/logout`).set(bearer(t.accessToken))).status).toBe(204);
    expect(await h.auth.redis.exists(revokedSessionKey(claimsOf(t.accessToken).sid))).toBe(1);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(401);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken })).status).toBe(401);
  });

  it('puts back the Redis mark of a revocation that Redis lost', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const key = revokedSessionKey(claimsOf(t.accessToken).sid);
    expect((await request(h.app).post(`${API}/auth/logout`).set(bearer(t.accessToken))).status).toBe(204);
    // What a Redis killed before its AOF reached the disk leaves behind.
    await h.auth.redis.del(key);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(200);
    expect(await reassertRevocations(h.auth)).toBeGreaterThanOrEqual(1);
    expect(await h.auth.redis.exists(key)).toBe(1);
    expect(await h.auth.redis.ttl(key)).toBeGreaterThan(h.auth.config.ACCESS_TOKEN_TTL_S);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(401);
  });

  it('ends an idle session', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const sid = claimsOf(t.accessToken).sid;
    await h.auth.sessions.model.updateOne({ _id: sid }, { $set: { lastUsedAt: new Date(Date.now() - 31 * 60_000) } });
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken })).status).toBe(401);
  });

  it('ends a session after its 12 hours', async () => {
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const sid = claimsOf(t.accessToken).sid;
    await h.auth.sessions.model.updateOne({ _id: sid }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken })).status).toBe(401);
  });

  it('a user can end their other sessions, keeping this one', async () => {
    const a = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const b = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const list = await request(h.app).get(`${API}/auth/sessions`).set(bearer(b.accessToken));
    expect(list.body.items.some((s: { id: string; current: boolean }) => s.current && s.id === claimsOf(b.accessToken).sid)).toBe(true);
    expect((await request(h.app).delete(`${API}/auth/sessions/others`).set(bearer(b.accessToken))).status).toBe(204);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(a.accessToken))).status).toBe(401);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(b.accessToken))).status).toBe(200);
  });
});

describe('users', () => {
  let admin: string;
  beforeAll(async () => {
    admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
  });

  it('an admin creates and lists users; the new user can log in with their role', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const list = await request(h.app).get(`${API}/users`).set(bearer(admin));
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([p.admin.id, u.id]));
    const t = await login(h.app, p.slug, u.email, u.password);
    expect(claimsOf(t.accessToken).role).toBe('clinician');
    // A clinician may not manage users.
    expect((await request(h.app).get(`${API}/users`).set(bearer(t.accessToken))).status).toBe(403);
    expect(
      (
        await request(h.app)
          .post(`${API}/users`)
          .set(bearer(t.accessToken))
          .send({ name: 'X', email: 'x@example.test', role: 'admin', password: strongPassword() })
      ).status,
    ).toBe(403);
  });

  it('paginates with limit and cursor', async () => {
    await addUser(h.app, admin, 'receptionist');
    const first = await request(h.app).get(`${API}/users?limit=1`).set(bearer(admin));
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await request(h.app)
      .get(`${API}/users?limit=1&cursor=${encodeURIComponent(first.body.next)}`)
      .set(bearer(admin));
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect((await request(h.app).get(`${API}/users?limit=500`).set(bearer(admin))).status).toBe(400);
    expect((await request(h.app).get(`${API}/users?bogus=1`).set(bearer(admin))).status).toBe(400);
  });

  it('stores email and name sealed, found through a blind index', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const raw = await h.auth.users.model.collection.findOne({ _id: u.id as never });
    const stored = JSON.stringify(raw);
    expect(stored).not.toContain(u.email);
    expect(stored).not.toContain('Some clinician');
    expect(raw!.emailSealed.ct).toMatch(/^v1\./);
    // Email lookup is case-insensitive.
    await login(h.app, p.slug, u.email.toUpperCase(), u.password);
    expect((await request(h.app).get(`${API}/users/${u.id}`).set(bearer(admin))).body).toMatchObject({
      email: u.email,
      name: 'Some clinician',
    });
  });

  it('refuses a duplicate email with 409', async () => {
    const res = await request(h.app)
      .post(`${API}/users`)
      .set(bearer(admin))
      .send({ name: 'Dup', email: p.admin.email.toUpperCase(), role: 'clinician', password: strongPassword() });
    expect(res.status).toBe(409);
  });

  it('another practice’s user is not found (404)', async () => {
    const other = await signUpPractice(h.app, 'Other Practice');
    expect((await request(h.app).get(`${API}/users/${other.admin.id}`).set(bearer(admin))).status).toBe(404);
    expect((await request(h.app).patch(`${API}/users/${other.admin.id}`).set(bearer(admin)).send({ disabled: true })).status).toBe(404);
    expect((await request(h.app).post(`${API}/users/${other.admin.id}/mfa/reset`).set(bearer(admin))).status).toBe(404);
    expect((await request(h.app).delete(`${API}/users/${other.admin.id}/sessions`).set(bearer(admin))).status).toBe(404);
    // And the other admin can still log in.
    await login(h.app, other.slug, other.admin.email, other.admin.password);
  });

  it('disabling a user ends their sessions and refuses their logins', async () => {
    const u = await addUser(h.app, admin, 'receptionist');
    const t = await login(h.app, p.slug, u.email, u.password);
    const res = await request(h.app).patch(`${API}/users/${u.id}`).set(bearer(admin)).send({ disabled: true });
    expect(res.status).toBe(200);
    expect(res.body.disabled).toBe(true);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(401);
    const again = await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: u.email, password: u.password });
    expect(again.status).toBe(401);
    await h.event('auth.user.disabled', (e) => e.data.userId === u.id);
  });

  it('changing a role takes effect with the next login, and old sessions end', async () => {
    const u = await addUser(h.app, admin, 'receptionist');
    const t = await login(h.app, p.slug, u.email, u.password);
    const res = await request(h.app).patch(`${API}/users/${u.id}`).set(bearer(admin)).send({ role: 'clinician' });
    expect(res.body.role).toBe('clinician');
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(401);
    expect(claimsOf((await login(h.app, p.slug, u.email, u.password)).accessToken).role).toBe('clinician');
  });

  it('will not leave the practice without an active admin', async () => {
    const res = await request(h.app).patch(`${API}/users/${p.admin.id}`).set(bearer(admin)).send({ disabled: true });
    expect(res.status).toBe(422);
  });

  it('an admin can end all of a user’s sessions', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const t = await login(h.app, p.slug, u.email, u.password);
    expect((await request(h.app).delete(`${API}/users/${u.id}/sessions`).set(bearer(admin))).status).toBe(204);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(401);
  });

  it('a user changes their own password; other sessions end, the old password stops working', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const a = await login(h.app, p.slug, u.email, u.password);
    const b = await login(h.app, p.slug, u.email, u.password);
    const next = strongPassword();
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/password`)
          .set(bearer(b.accessToken))
          .send({ currentPassword: 'wrong password here', newPassword: next })
      ).status,
    ).toBe(422);
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/password`)
          .set(bearer(b.accessToken))
          .send({ currentPassword: u.password, newPassword: 'password1234' })
      ).status,
    ).toBe(400);
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/password`)
          .set(bearer(b.accessToken))
          .send({ currentPassword: u.password, newPassword: next })
      ).status,
    ).toBe(204);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(a.accessToken))).status).toBe(401);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(b.accessToken))).status).toBe(200);
    expect((await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: u.email, password: u.password })).status).toBe(
      401,
    );
    await login(h.app, p.slug, u.email, next);
  });
});

describe('practice settings', () => {
  it('an admin renames the practice; a clinician may not', async () => {
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const res = await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin)).send({ name: 'Renamed Practice' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: p.tenantId, slug: p.slug, name: 'Renamed Practice', mfaRequired: false });
    const ev = await h.event('auth.tenant.updated', (e) => e.tenantId === p.tenantId);
    expect(ev.data).toEqual({ fields: ['name'] });
    const c = await addUser(h.app, admin, 'clinician');
    const ct = await login(h.app, p.slug, c.email, c.password);
    expect((await request(h.app).patch(`${API}/tenants/current`).set(bearer(ct.accessToken)).send({ name: 'Nope' })).status).toBe(403);
    expect((await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin)).send({ slug: 'nope' })).status).toBe(400);
    await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin)).send({ name: 'Test Practice' });
  });
});

describe('events', () => {
  it('carry ids and codes only: no email, no name, no password', async () => {
    await h.event('auth.password.changed');
    expect(h.events.length).toBeGreaterThan(10);
    for (const e of h.events) {
      const text = JSON.stringify(e.data);
      expect(text).not.toMatch(/@example\.test/);
      expect(text).not.toMatch(/Ada Admin|Some (clinician|receptionist)|Test Practice|Renamed Practice/);
      expect(text).not.toMatch(/staple horse battery/);
    }
  });
});
