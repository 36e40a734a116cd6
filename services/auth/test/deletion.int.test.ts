// Practice deletion: scheduled with the password (and a code with 2FA), cancelled by a
// restore, or carried out by the scheduler after the cooling-off period.
import request from 'supertest';
import { housekeeping, purgeDueTenants } from '../src/deletion/use-cases';
import { totpCode } from '../src/mfa/totp';
import { API, type Harness, addUser, bearer, enableTotp, login, signUpPractice, startAuth, strongPassword } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startAuth();
});
afterAll(async () => {
  await h.close();
});

const del = (token: string, body: object) => request(h.app).delete(`${API}/tenants/current`).set(bearer(token)).send(body);
const DAY = 86_400_000;

describe('scheduling and restoring', () => {
  it('needs the admin’s password; schedules 45 days on; restore cancels it', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const c = await addUser(h.app, admin, 'clinician');
    const ct = (await login(h.app, p.slug, c.email, c.password)).accessToken;
    expect((await del(ct, { password: c.password })).status).toBe(403);
    expect((await del(admin, { password: 'not my password at all' })).status).toBe(403);
    expect((await del(admin, { password: p.admin.password, extra: 1 })).status).toBe(400);
    const res = await del(admin, { password: p.admin.password });
    expect(res.status).toBe(202);
    const when = new Date(res.body.deletionScheduledFor).getTime();
    expect(Math.abs(when - (Date.now() + 45 * DAY))).toBeLessThan(60_000);
    await h.event('auth.tenant.deletion-scheduled', (e) => e.tenantId === p.tenantId);
    expect((await request(h.app).get(`${API}/tenants/current`).set(bearer(admin))).body).toMatchObject({ status: 'deletion-scheduled' });
    // While pending, only admins may sign in (to restore).
    expect((await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: c.email, password: c.password })).status).toBe(
      401,
    );
    await login(h.app, p.slug, p.admin.email, p.admin.password);
    // Not due yet: the scheduler leaves it.
    expect(await purgeDueTenants(h.auth, new Date())).not.toContain(p.tenantId);
    const restored = await request(h.app).post(`${API}/tenants/current/restore`).set(bearer(admin));
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id: p.tenantId, status: 'active' });
    expect(restored.body.deletionScheduledFor).toBeUndefined();
    await h.event('auth.tenant.deletion-cancelled', (e) => e.tenantId === p.tenantId);
    expect((await request(h.app).post(`${API}/tenants/current/restore`).set(bearer(admin))).status).toBe(409);
    // A cancelled deletion is never carried out.
    expect(await purgeDueTenants(h.auth, new Date(Date.now() + 50 * DAY))).not.toContain(p.tenantId);
    await login(h.app, p.slug, c.email, c.password);
  });

  it('needs a code when the admin has 2FA', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const { secret } = await enableTotp(h.app, admin);
    expect((await del(admin, { password: p.admin.password })).status).toBe(403);
    expect((await del(admin, { password: p.admin.password, code: '000000' })).status).toBe(403);
    expect((await del(admin, { password: p.admin.password, code: totpCode(secret, Date.now() + 30_000) })).status).toBe(202);
  });
});

describe('the purge', () => {
  it('removes the practice when due: logins fail, tokens die, the slug is free, auth.tenant.purged is published', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const c = await addUser(h.app, admin, 'receptionist');
    expect((await del(admin, { password: p.admin.password })).status).toBe(202);
    const purged = await purgeDueTenants(h.auth, new Date(Date.now() + 45 * DAY + 60_000));
    expect(purged).toContain(p.tenantId);
    const ev = await h.event('auth.tenant.purged', (e) => e.tenantId === p.tenantId);
    expect(ev.data).toEqual({ tenantId: p.tenantId });
    expect((await request(h.app).get(`${API}/auth/me`).set(bearer(admin))).status).toBe(401);
    expect(
      (await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: p.admin.email, password: p.admin.password })).status,
    ).toBe(401);
    expect(await h.auth.users.model.countDocuments({ tenantId: p.tenantId })).toBe(0);
    expect(await h.auth.sessions.model.countDocuments({ tenantId: p.tenantId })).toBe(0);
    // Only a tombstone remains: no name, no slug.
    const tomb = await h.auth.tenants.model.collection.findOne({ _id: p.tenantId as never });
    expect(tomb).toMatchObject({ status: 'purged' });
    expect(tomb!.name).toBeUndefined();
    expect(JSON.stringify(tomb)).not.toContain(p.slug);
    void c;
    // The slug can be taken again.
    const again = await request(h.app)
      .post(`${API}/tenants`)
      .send({ name: 'New', slug: p.slug, admin: { name: 'N', email: 'n@example.test', password: strongPassword() } });
    expect(again.status).toBe(201);
    // A second pass does nothing more.
    expect(await purgeDueTenants(h.auth, new Date(Date.now() + 60 * DAY))).not.toContain(p.tenantId);
  });
});

describe('housekeeping', () => {
  it('forgets practice sessions that ended over 30 days ago, and keeps support sessions', async () => {
    const p = await signUpPractice(h.app);
    const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
    const sid = (JSON.parse(Buffer.from(t.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
    await h.auth.sessions.model.updateOne({ _id: sid }, { $set: { expiresAt: new Date(Date.now() - 31 * DAY) } });
    const now = new Date();
    await h.auth.sessions.model.collection.insertOne({
      _id: 'ses_supportkeep' as never,
      tenantId: p.tenantId,
      userId: 'sup_x',
      kind: 'support',
      role: 'support',
      amr: ['pwd', 'otp'],
      refreshHash: 'x',
      usedRefreshHashes: [],
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(Date.now() - 40 * DAY),
    });
    await housekeeping(h.auth);
    expect(await h.auth.sessions.model.countDocuments({ _id: sid })).toBe(0);
    expect(await h.auth.sessions.model.countDocuments({ _id: 'ses_supportkeep' })).toBe(1);
  });
});
