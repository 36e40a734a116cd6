// Throttling: per account (progressive delay, then a temporary lock; password and code
// failures apart) and per IP (≥ 300 requests a minute allowed, failures above the limit refused).
import { clientIpKey } from '@praxis/platform';
import request from 'supertest';
import { API, type Harness, type Practice, addUser, bearer, enableTotp, login, signUpPractice, startAuth } from './harness';

let h: Harness;
let p: Practice;
let admin: string;

beforeAll(async () => {
  // Short delays and a short lock so the test can walk through them.
  h = await startAuth({
    LOGIN_FREE_FAILURES: '3',
    LOGIN_DELAY_BASE_MS: '50',
    LOGIN_DELAY_MAX_MS: '200',
    LOGIN_LOCK_AFTER: '8',
    LOGIN_LOCK_S: '2',
    IP_FAILURES_PER_WINDOW: '30',
  });
  p = await signUpPractice(h.app, 'Lockout Practice');
  admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
});
afterAll(async () => {
  await h.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function attempt(email: string, password: string, ip: string) {
  return request(h.app).post(`${API}/auth/login`).set('X-Forwarded-For', ip).send({ tenant: p.slug, email, password });
}

describe('per account', () => {
  it('slows repeated failures with 429 + Retry-After, then locks with 423, and the lock is temporary', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const statuses: number[] = [];
    let failures = 0;
    // Different IPs: the account throttle does not depend on the address.
    for (let i = 0; failures < 8 && i < 40; i++) {
      const res = await attempt(u.email, 'wrong password again', `10.9.${i}.1`);
      statuses.push(res.status);
      if (res.status === 401) failures++;
      if (res.status === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        await sleep(220);
      }
    }
    expect(failures).toBe(8);
    expect(statuses).toContain(429);
    // Locked now: even the right password is refused with 423 and Retry-After.
    const locked = await attempt(u.email, u.password, '10.9.200.1');
    expect(locked.status).toBe(423);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const ev = await h.event('auth.account.locked', (e) => e.data.userId === u.id);
    expect(ev.data.reason).toBe('password-failures');
    await h.event('auth.login.failed', (e) => e.tenantId === p.tenantId && e.data.reason === 'locked');
    // Temporary: after the lock the right password works, and clears the count.
    await sleep(2100);
    const ok = await attempt(u.email, u.password, '10.9.201.1');
    expect(ok.status).toBe(200);
  });

  it('locks an unknown email the same way as a known one (no enumeration)', async () => {
    const ghost = 'ghost-' + Date.now() + '@example.test';
    const statuses: number[] = [];
    let failures = 0;
    for (let i = 0; failures < 8 && i < 40; i++) {
      const res = await attempt(ghost, 'wrong password again', `10.8.${i}.1`);
      statuses.push(res.status);
      if (res.status === 401) failures++;
      if (res.status === 429) await sleep(220);
    }
    expect((await attempt(ghost, 'whatever password', '10.8.200.1')).status).toBe(423);
  });

  it('counts code failures apart from password failures', async () => {
    const u = await addUser(h.app, admin, 'receptionist');
    const t = await login(h.app, p.slug, u.email, u.password);
    const { secret } = await enableTotp(h.app, t.accessToken);
    void secret;
    // Two password failures, then many wrong codes: the password count is untouched.
    await attempt(u.email, 'wrong password again', '10.7.0.1');
    await attempt(u.email, 'wrong password again', '10.7.0.2');
    let codeFailures = 0;
    let lockedStatus = 0;
    for (let i = 0; i < 40 && !lockedStatus; i++) {
      const ch = await attempt(u.email, u.password, `10.7.1.${i}`);
      expect(ch.status).toBe(200);
      const res = await request(h.app)
        .post(`${API}/auth/mfa/verify`)
        .set('X-Forwarded-For', `10.7.2.${i}`)
        .send({ mfaToken: ch.body.mfaToken, code: '000000' });
      if (res.status === 401) codeFailures++;
      else if (res.status === 429) await sleep(220);
      else if (res.status === 423) lockedStatus = 423;
    }
    expect(codeFailures).toBe(8);
    expect(lockedStatus).toBe(423);
    const ev = await h.event('auth.account.locked', (e) => e.data.userId === u.id);
    expect(ev.data.reason).toBe('code-failures');
    // The password step still answers (a code lock does not lock out the password step).
    expect((await attempt(u.email, u.password, '10.7.3.1')).status).toBe(200);
  });
});

describe('per IP', () => {
  it('allows 300 auth requests a minute from one address', async () => {
    const ip = '10.6.0.1';
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        request(h.app)
          .post(`${API}/auth/refresh`)
          .set('X-Forwarded-For', ip)
          .send({ refreshToken: 'ses_abcdefghijkl.' + 'x'.repeat(43) }),
      ),
    );
    // Refresh with a made-up token is 401 but is not throttled by the IP budget.
    expect(results.filter((r) => r.status === 429)).toHaveLength(0);
    const logins = await Promise.all(Array.from({ length: 5 }, () => attempt(p.admin.email, p.admin.password, ip)));
    expect(logins.every((r) => r.status === 200)).toBe(true);
  });

  it('refuses an address after too many failures, with 429 + Retry-After, and publishes it', async () => {
    const ip = '10.5.0.1';
    for (let i = 0; i < 30; i++) {
      const res = await request(h.app)
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', ip)
        .send({ tenant: p.slug, email: `nobody-${i}@example.test`, password: 'wrong password again' });
      expect(res.status).toBe(401);
    }
    const refused = await attempt(p.admin.email, p.admin.password, ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(1);
    await h.event('auth.account.locked', (e) => e.tenantId === p.tenantId && e.data.reason === 'ip-failures');
    // Another address is unaffected.
    expect((await attempt(p.admin.email, p.admin.password, '10.5.0.2')).status).toBe(200);
  });

  /** Wait until at most `maxSecondsIn` seconds into a clock minute (the budget's window turns there). */
  async function earlyInMinute(maxSecondsIn: number) {
    const secondsIn = (Date.now() % 60_000) / 1000;
    if (secondsIn > maxSecondsIn) await sleep((60 - secondsIn) * 1000 + 200);
  }

  it('refuses more than the per-minute budget', async () => {
    const small = await startAuth({ IP_REQUESTS_PER_MIN: '300' });
    try {
      await earlyInMinute(45);
      const ip = '10.4.0.1';
      const res = await Promise.all(
        Array.from({ length: 310 }, () =>
          request(small.app)
            .post(`${API}/auth/mfa/verify`)
            .set('X-Forwarded-For', ip)
            .send({ mfaToken: 'mfa_' + 'x'.repeat(43), code: '123456' }),
        ),
      );
      const limited = res.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited.length).toBeLessThanOrEqual(10);
    } finally {
      await small.close();
    }
  });

  it('counts the previous minute too: a burst across the turn of a clock minute does not get the budget twice', async () => {
    const small = await startAuth({ IP_REQUESTS_PER_MIN: '300' });
    try {
      await earlyInMinute(30);
      const ip = '10.4.0.2';
      // The previous clock minute spent its whole budget (as a burst just before the turn would).
      const minute = Math.floor(Date.now() / 60_000);
      const { REDIS_PREFIX } = small.auth.config;
      await small.auth.redis.set(`${REDIS_PREFIX}ip:req:${clientIpKey(ip)}:${minute - 1}`, '600', 'EX', 120);
      const res = await request(small.app)
        .post(`${API}/auth/mfa/verify`)
        .set('X-Forwarded-For', ip)
        .send({ mfaToken: 'mfa_' + 'x'.repeat(43), code: '123456' });
      const secondsIn = (Date.now() % 60_000) / 1000;
      console.log(`600 requests in the previous minute, ${secondsIn.toFixed(1)} s into this one: ${res.status}`);
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another address is unaffected.
      const other = await request(small.app)
        .post(`${API}/auth/mfa/verify`)
        .set('X-Forwarded-For', '10.4.0.3')
        .send({ mfaToken: 'mfa_' + 'x'.repeat(43), code: '123456' });
      expect(other.status).not.toBe(429);
    } finally {
      await small.close();
    }
  });
});

describe('sessions stay usable for their holder', () => {
  it('a locked account’s existing session still works (locks stop guessing, not work)', async () => {
    const u = await addUser(h.app, admin, 'clinician');
    const t = await login(h.app, p.slug, u.email, u.password);
    for (let i = 0; i < 12; i++) {
      await attempt(u.email, 'wrong password again', `10.3.${i}.1`);
      await sleep(210);
    }
    expect((await attempt(u.email, u.password, '10.3.100.1')).status).toBe(423);
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken))).status).toBe(200);
  });
});

describe('a login flood', () => {
  it('runs at most HASH_CONCURRENCY hashes and refuses beyond the queue with 503, never piling up memory', async () => {
    const small = await startAuth({ HASH_CONCURRENCY: '1', HASH_QUEUE: '2' });
    try {
      const q = await signUpPractice(small.app);
      const res = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request(small.app)
            .post(`${API}/auth/login`)
            .set('X-Forwarded-For', `10.2.0.${i}`)
            .send({ tenant: q.slug, email: `flood-${i}@example.test`, password: 'wrong password again' }),
        ),
      );
      const statuses = res.map((r) => r.status);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
      // Afterwards the service answers normally, unknown emails included (the dummy hash survived the flood).
      await login(small.app, q.slug, q.admin.email, q.admin.password);
      const unknown = await request(small.app)
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', '10.2.1.1')
        .send({ tenant: q.slug, email: 'after-flood@example.test', password: 'wrong password again' });
      expect(unknown.status).toBe(401);
    } finally {
      await small.close();
    }
  });
});
