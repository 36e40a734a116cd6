// Every query auth sends searches an index (issue 10, docs/decisions/0004): the service
// runs against its own patched FerretDB, sign-up, login, refresh, users, sessions and
// support grants are driven through the API, every distinct query shape its repositories
// sent is recorded, and SQLite's plan for each must be an index search (but for the few
// listed scans). A new repository query without a fitting index fails here.
import { onPrivateFerretDb, proveQueriesIndexed } from '@praxis/testing';
import request from 'supertest';
import { housekeeping } from '../src/deletion/use-cases';
import { API, addUser, bearer, login, signUpPractice, startAuth, strongPassword } from './harness';

describe('auth: every query shape searches an index', () => {
  const harness = onPrivateFerretDb(() => startAuth());

  it('sign-up, login, refresh, users, sessions and support grants', async () => {
    const h = harness();
    await proveQueriesIndexed(
      h.auth.mongo,
      async () => {
        const other = await signUpPractice(h.app, 'Other Practice');
        const p = await signUpPractice(h.app);
        const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
        const refreshed = await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken });
        expect(refreshed.status).toBe(200);
        const admin = refreshed.body.accessToken as string;
        expect((await request(h.app).get(`${API}/auth/me`).set(bearer(admin))).status).toBe(200);
        expect((await request(h.app).get(`${API}/tenants/current`).set(bearer(admin))).status).toBe(200);

        const users = [
          await addUser(h.app, admin, 'clinician'),
          await addUser(h.app, admin, 'receptionist'),
          await addUser(h.app, admin, 'admin'),
        ];
        const page = await request(h.app).get(`${API}/users?limit=2`).set(bearer(admin));
        expect(page.status).toBe(200);
        expect((await request(h.app).get(`${API}/users?limit=2&cursor=${page.body.next}`).set(bearer(admin))).status).toBe(200);
        expect((await request(h.app).get(`${API}/users/${users[0]!.id}`).set(bearer(admin))).status).toBe(200);
        expect((await request(h.app).patch(`${API}/users/${users[0]!.id}`).set(bearer(admin)).send({ name: 'Renamed' })).status).toBe(200);
        expect((await request(h.app).patch(`${API}/users/${users[2]!.id}`).set(bearer(admin)).send({ disabled: true })).status).toBe(200);
        const u = await login(h.app, p.slug, users[0]!.email, users[0]!.password);
        await login(h.app, p.slug, users[0]!.email, users[0]!.password, '10.0.0.2');
        expect(
          (await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: users[1]!.email, password: 'wrong password here' }))
            .status,
        ).toBe(401);
        expect((await request(h.app).get(`${API}/auth/sessions`).set(bearer(u.accessToken))).status).toBe(200);
        expect((await request(h.app).delete(`${API}/users/${users[2]!.id}/sessions`).set(bearer(admin))).status).toBe(204);
        expect((await request(h.app).delete(`${API}/auth/sessions/others`).set(bearer(u.accessToken))).status).toBe(204);
        const newPassword = strongPassword();
        expect(
          (
            await request(h.app)
              .post(`${API}/auth/password`)
              .set(bearer(u.accessToken))
              .send({ currentPassword: users[0]!.password, newPassword })
          ).status,
        ).toBe(204);
        const g = await request(h.app)
          .post(`${API}/support/grants`)
          .set(bearer(admin))
          .send({ scope: 'settings', reason: 'Index proof', durationMinutes: 5 });
        expect(g.status).toBe(201);
        expect((await request(h.app).get(`${API}/support/grants`).set(bearer(admin))).status).toBe(200);
        expect((await request(h.app).get(`${API}/support/sessions`).set(bearer(admin))).status).toBe(200);
        expect((await request(h.app).delete(`${API}/support/grants/${g.body.id}`).set(bearer(admin))).status).toBe(204);
        expect((await request(h.app).post(`${API}/auth/logout`).set(bearer(admin))).status).toBe(204);

        // The housekeeping: a practice scheduled for deletion is purged once its cooling-off
        // has ended (the scheduler's sweep), then old sessions are removed.
        const o = await login(h.app, other.slug, other.admin.email, other.admin.password);
        const del = await request(h.app)
          .delete(`${API}/tenants/current`)
          .set(bearer(o.accessToken))
          .send({ password: other.admin.password });
        expect(del.status).toBe(202);
        await housekeeping(h.auth, new Date(Date.now() + 400 * 86_400_000));
        expect((await h.auth.tenants.model.findById(other.tenantId).lean())?.status).toBe('purged');
      },
      {
        allowed: [
          {
            collection: 'sessions',
            shape: '{"kind":{"$ne":"string"},"expiresAt":{"$lt":"date"}}',
            why: 'housekeeping removes ended sessions once per interval; a date range is pushed down only as "holds a date" (docs/decisions/0004), which every session does',
          },
        ],
        searches: 8,
      },
    );
  }, 180_000);
});
