// Findings of a security review of auth, each proved fixed: the lockout under concurrent
// guesses, client IPs behind proxies (and never header text in Redis key names), bodies
// that lie about their encoding, text that is not Unicode or hides bidi/zero-width
// characters, duplicate keys, empty PATCH bodies, and sessions of a practice scheduled
// for deletion.
import { sendRaw } from '@praxis/testing';
import request from 'supertest';
import {
  API,
  type Harness,
  type Practice,
  addUser,
  bearer,
  login,
  signUpPractice,
  startAuth,
  strongPassword,
  verifications,
} from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('per-account lockout under concurrent guesses', () => {
  it.each([
    [
      'no free failures beyond the lock (LOGIN_FREE_FAILURES = LOGIN_LOCK_AFTER = 10)',
      { LOGIN_FREE_FAILURES: '10', LOGIN_LOCK_AFTER: '10' },
    ],
    ['the default delays (3 free, then doubling delays, lock at 10)', {}],
  ])('100 parallel wrong passwords for one account check at most 10 of them: %s', async (_what, overrides) => {
    const h = await startAuth({ LOGIN_DELAY_BASE_MS: '1000', LOGIN_DELAY_MAX_MS: '30000', IP_FAILURES_PER_WINDOW: '1000', ...overrides });
    try {
      const p = await signUpPractice(h.app);
      const before = await verifications(h);
      const res = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          request(h.app)
            .post(`${API}/auth/login`)
            .set('X-Forwarded-For', `10.77.${i}.1`)
            .send({ tenant: p.slug, email: p.admin.email, password: `wrong password number ${i}` }),
        ),
      );
      const checked = (await verifications(h)) - before;
      const statuses: Record<number, number> = {};
      for (const r of res) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      console.log(`100 concurrent wrong logins: ${checked} argon2id verifications; statuses ${JSON.stringify(statuses)}`);
      expect(checked).toBeLessThanOrEqual(10);
      expect(checked).toBeGreaterThanOrEqual(1);
      expect(statuses[401]).toBe(checked);
      expect(Object.keys(statuses).every((s) => ['401', '423', '429'].includes(s))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('a correct password among the guesses still gets in, and releases what it reserved', async () => {
    const h = await startAuth({ LOGIN_FREE_FAILURES: '10', LOGIN_LOCK_AFTER: '10' });
    try {
      const p = await signUpPractice(h.app);
      for (let i = 0; i < 5; i++) {
        const r = await request(h.app)
          .post(`${API}/auth/login`)
          .set('X-Forwarded-For', '10.76.0.1')
          .send({ tenant: p.slug, email: p.admin.email, password: 'wrong password again' });
        expect(r.status).toBe(401);
      }
      await login(h.app, p.slug, p.admin.email, p.admin.password);
      // The count is cleared: ten more failures are checked before the lock.
      const before = await verifications(h);
      const res = await Promise.all(
        Array.from({ length: 30 }, () =>
          request(h.app)
            .post(`${API}/auth/login`)
            .set('X-Forwarded-For', '10.76.0.2')
            .send({ tenant: p.slug, email: p.admin.email, password: 'wrong password again' }),
        ),
      );
      expect((await verifications(h)) - before).toBe(10);
      expect(res.filter((r) => r.status === 401)).toHaveLength(10);
    } finally {
      await h.close();
    }
  });
});

describe('client IPs', () => {
  it('X-Forwarded-For from a peer that is not a trusted proxy is ignored: fresh headers do not buy fresh budgets', async () => {
    // Loopback (the test's own address) is not in the list here.
    const h = await startAuth({ TRUSTED_PROXIES: '10.200.0.0/16', IP_FAILURES_PER_WINDOW: '5' });
    try {
      const p = await signUpPractice(h.app);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await request(h.app)
          .post(`${API}/auth/login`)
          .set('X-Forwarded-For', `198.51.100.${i}`)
          .send({ tenant: p.slug, email: `nobody-${i}@example.test`, password: 'wrong password again' });
        statuses.push(r.status);
      }
      console.log(`spoofed X-Forwarded-For from an untrusted peer: ${statuses.join(' ')}`);
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429]);
    } finally {
      await h.close();
    }
  });

  let h: Harness;
  let p: Practice;
  beforeAll(async () => {
    h = await startAuth({ IP_FAILURES_PER_WINDOW: '5' });
    p = await signUpPractice(h.app);
  });
  afterAll(async () => {
    await h.close();
  });

  it('from a trusted proxy, each forwarded client has its own budget', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(h.app)
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', '203.0.113.1')
        .send({ tenant: p.slug, email: `a-${i}@example.test`, password: 'wrong password again' });
      expect(r.status).toBe(401);
    }
    const blocked = await request(h.app)
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '203.0.113.1')
      .send({ tenant: p.slug, email: 'a-x@example.test', password: 'wrong password again' });
    expect(blocked.status).toBe(429);
    // A client further left in the chain is what the client wrote: the proxy's entry counts.
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/login`)
          .set('X-Forwarded-For', '6.6.6.6, 203.0.113.1')
          .send({ tenant: p.slug, email: 'a-y@example.test', password: 'x' })
      ).status,
    ).toBe(429);
    const other = await request(h.app)
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '203.0.113.2')
      .send({ tenant: p.slug, email: 'a-z@example.test', password: 'wrong password again' });
    expect(other.status).toBe(401);
  });

  it('header text never reaches a Redis key name: only validated, hashed addresses do', async () => {
    const nasty = ['<script>alert(1)</script>', 'x'.repeat(4000), '1.2.3.4<script>', 'evil\r\nkey'.replace(/\r\n/g, ' ')];
    for (const xff of nasty) {
      const r = await request(h.app)
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', xff)
        .send({ tenant: p.slug, email: 'nasty@example.test', password: 'wrong password again' });
      expect([401, 429]).toContain(r.status);
    }
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await h.auth.redis.scan(cursor, 'MATCH', `${h.auth.config.REDIS_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const ipKeys = keys.filter((k) => k.includes(':ip:'));
    console.log(
      `${keys.length} keys under the prefix, ${ipKeys.length} per-IP keys, longest ${Math.max(...keys.map((k) => k.length))} characters`,
    );
    expect(ipKeys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).not.toMatch(/script|xxxx|1\.2\.3\.4|203\.0\.113/);
      expect(k.length).toBeLessThan(h.auth.config.REDIS_PREFIX.length + 100);
    }
    for (const k of ipKeys) expect(k.slice(h.auth.config.REDIS_PREFIX.length)).toMatch(/^ip:(req|fail):[A-Za-z0-9_-]{22}(:\d+)?$/);
  });
});

describe('request bodies', () => {
  let h: Harness;
  let p: Practice;
  let admin: string;
  beforeAll(async () => {
    h = await startAuth();
    p = await signUpPractice(h.app);
    admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
  });
  afterAll(async () => {
    await h.close();
  });

  it.each(['gzip', 'deflate', 'br'])('a body claiming Content-Encoding %s that is not → 400 problem+json, without a token', async (enc) => {
    const res = await sendRaw(h.app, {
      method: 'POST',
      path: `${API}/auth/login`,
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': enc },
      body: '{"tenant":"x","email":"a@b.c","password":"p"}',
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('an encoding we do not take → 415', async () => {
    const res = await sendRaw(h.app, {
      method: 'POST',
      path: `${API}/auth/login`,
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' },
      body: '{}',
    });
    expect(res.status).toBe(415);
  });

  it('invalid UTF-8 and lone surrogates in a sign-up → 400, nothing stored', async () => {
    const slug = `utf-${Date.now().toString(36)}`;
    const body = (name: Buffer | string) =>
      Buffer.concat([
        Buffer.from(`{"name":"`),
        Buffer.isBuffer(name) ? name : Buffer.from(name),
        Buffer.from(`","slug":"${slug}","admin":{"name":"Ada","email":"ada-${slug}@example.test","password":"${strongPassword()}"}}`),
      ]);
    const invalid = await sendRaw(h.app, {
      method: 'POST',
      path: `${API}/tenants`,
      headers: { 'Content-Type': 'application/json' },
      body: body(Buffer.from([0x50, 0xff, 0x72])),
    });
    expect(invalid.status).toBe(400);
    const surrogate = await sendRaw(h.app, {
      method: 'POST',
      path: `${API}/tenants`,
      headers: { 'Content-Type': 'application/json' },
      body: body('P\\ud800r'),
    });
    expect(surrogate.status).toBe(400);
    expect(await h.auth.tenants.findBySlug(slug)).toBeNull();
  });

  it.each([
    ['U+202E right-to-left override', 'Ada \u202Egnp.exe'],
    ['U+200B zero-width space', 'Ad\u200Ba'],
    ['U+2066 bidi isolate', 'Ada \u2066x'],
  ])('a name with %s is refused (users and practices)', async (_what, name) => {
    const user = await request(h.app)
      .post(`${API}/users`)
      .set(bearer(admin))
      .send({ name, email: `bidi-${Date.now()}@example.test`, role: 'clinician', password: strongPassword() });
    expect(user.status).toBe(400);
    const practice = await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin)).send({ name });
    expect(practice.status).toBe(400);
  });

  it('duplicate JSON keys → 400 (a support grant with scope twice is not created with the second)', async () => {
    const res = await sendRaw(h.app, {
      method: 'POST',
      path: `${API}/support/grants`,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin}` },
      body: '{"scope":"settings","reason":"printer setup","durationMinutes":60,"scope":"records"}',
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/duplicate key/);
    const grants = await request(h.app).get(`${API}/support/grants`).set(bearer(admin));
    expect(grants.body.items).toHaveLength(0);
  });

  it('empty bodies are refused where the document requires one; POST /auth/mfa/totp takes none', async () => {
    const u = await addUser(h.app, admin, 'receptionist');
    expect((await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin)).send({})).status).toBe(400);
    expect((await request(h.app).patch(`${API}/tenants/current`).set(bearer(admin))).status).toBe(400);
    expect((await request(h.app).patch(`${API}/users/${u.id}`).set(bearer(admin)).send({})).status).toBe(400);
    expect((await request(h.app).patch(`${API}/users/${u.id}`).set(bearer(admin)).send({ name: 'Rae Receptionist' })).status).toBe(200);
    const t = await login(h.app, p.slug, u.email, u.password);
    expect((await request(h.app).post(`${API}/auth/mfa/totp`).set(bearer(t.accessToken))).status).toBe(200);
  });
});

describe('a practice scheduled for deletion', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startAuth();
  });
  afterAll(async () => {
    await h.close();
  });

  it('ends its staff sessions (access refused, refresh refused); admins keep theirs to restore; after a restore everyone logs in again', async () => {
    const p = await signUpPractice(h.app);
    const admin = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const c = await addUser(h.app, admin.accessToken, 'clinician');
    const clinician = await login(h.app, p.slug, c.email, c.password);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(clinician.accessToken))).status).toBe(200);

    const del = await request(h.app).delete(`${API}/tenants/current`).set(bearer(admin.accessToken)).send({ password: p.admin.password });
    expect(del.status).toBe(202);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(clinician.accessToken))).status).toBe(401);
    expect((await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: clinician.refreshToken })).status).toBe(401);
    await h.event('auth.session.revoked', (e) => e.tenantId === p.tenantId && e.data.reason === 'tenant-deletion');
    // The admin's session goes on (it may restore), and refreshes.
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(admin.accessToken))).status).toBe(200);
    const refreshed = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: admin.refreshToken });
    expect(refreshed.status).toBe(200);

    expect((await request(h.app).post(`${API}/tenants/current/restore`).set(bearer(refreshed.body.accessToken))).status).toBe(200);
    await sleep(10);
    const again = await login(h.app, p.slug, c.email, c.password);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(again.accessToken))).status).toBe(200);
  });
});
