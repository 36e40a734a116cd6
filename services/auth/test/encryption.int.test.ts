// Encryption at rest in auth: user email, name and TOTP secrets are sealed under a per-user
// data key, wrapped by a per-tenant key, wrapped by the KEK. Proves the raw database holds
// no plaintext, that destroying keys shreds exactly what they cover, that values sealed the
// legacy way (directly under the KEK) open and are migrated on the next write, that the
// purge destroys the tenant's keys, and that a KEK rotation leaves everything readable with
// the new KEK alone.
import { type SealedValue, seal } from '@praxis/platform';
import { testLogger, unique } from '@praxis/testing';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import type { Auth } from '../src/app';
import { purgeDueTenants } from '../src/deletion/use-cases';
import { newTotpSecret, totpCode } from '../src/mfa/totp';
import { createSupportUser } from '../src/support/support-users';
import {
  API,
  type Harness,
  addUser,
  bearer,
  enableTotp,
  login,
  openAuth,
  runCli,
  signUpPractice,
  startAuth,
  strongPassword,
  testConfig,
} from './harness';

const FERRET_DIR = path.join(__dirname, '../../../.data/ferretdb');
const DAY = 86_400_000;

let h: Harness;

beforeAll(async () => {
  h = await startAuth();
});
afterAll(async () => {
  await h.close();
});

/** Every byte FerretDB holds for one database: the SQLite file, its WAL and shared memory. */
async function rawDatabaseBytes(dbName: string): Promise<Buffer> {
  const files = (await readdir(FERRET_DIR)).filter((f) => f === `${dbName}.sqlite` || f.startsWith(`${dbName}.sqlite-`));
  expect(files.length).toBeGreaterThan(0);
  return Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(FERRET_DIR, f)))));
}

interface RawUser {
  _id: string;
  tenantId: string;
  emailIndex: string;
  emailSealed: SealedValue;
  nameSealed: SealedValue;
  totpSecret?: SealedValue;
  totpPending?: SealedValue;
}

const rawUser = async (deps: Auth, userId: string) =>
  (await deps.mongo.collection('users').findOne({ _id: userId as never })) as unknown as RawUser;
const userKeyDoc = (deps: Auth, tenantId: string, userId: string) =>
  deps.mongo.collection('user_keys').findOne({ _id: `${tenantId}|${userId}` as never });
const tenantKeyDoc = (deps: Auth, tenantId: string) => deps.mongo.collection('tenant_keys').findOne({ _id: tenantId as never });
const marker = (what: string) => `${what}${randomBytes(6).toString('hex')}Mk`;

/** A user as auth stored them before the key hierarchy: fields sealed directly under the KEK. */
async function insertLegacyUser(deps: Auth, tenantId: string, kek: { key: Buffer; id: string }) {
  const userId = `usr_${randomBytes(12).toString('base64url')}`;
  const email = `${unique('legacy').toLowerCase()}@example.test`;
  const name = marker('Legacy');
  const password = strongPassword();
  const secret = newTotpSecret();
  const now = new Date();
  await deps.mongo.collection('users').insertOne({
    _id: userId as never,
    tenantId,
    emailIndex: deps.users.emailIndex(tenantId, email),
    emailSealed: seal(kek.key, kek.id, email, `user|${tenantId}|${userId}|email`),
    nameSealed: seal(kek.key, kek.id, name, `user|${tenantId}|${userId}|name`),
    role: 'clinician',
    passwordHash: await deps.hasher.hash(password),
    disabled: false,
    createdAt: now,
    updatedAt: now,
    totpSecret: seal(kek.key, kek.id, secret, `totp|${tenantId}|${userId}`),
    totpLastStep: 0,
    recoveryCodes: [],
  });
  return { id: userId, email, name, password, secret };
}

async function loginWithTotp(app: Auth['app'], slug: string, u: { email: string; password: string; secret: string }, at: number) {
  const first = await request(app).post(`${API}/auth/login`).send({ tenant: slug, email: u.email, password: u.password });
  expect(first.status).toBe(200);
  expect(first.body.mfaRequired).toBe(true);
  const res = await request(app)
    .post(`${API}/auth/mfa/verify`)
    .send({ mfaToken: first.body.mfaToken, code: totpCode(u.secret, at) });
  expect(res.status).toBe(200);
  return res.body.accessToken as string;
}

describe('sealed under the user’s data key', () => {
  it('email, name and TOTP secret are SealedValues under a user key, wrapped by the tenant key, wrapped by the KEK; the raw files hold no marker', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const m = { name: marker('Name'), email: `${marker('mail').toLowerCase()}@example.test` };
    const password = strongPassword();
    const created = await request(h.app)
      .post(`${API}/users`)
      .set(bearer(admin))
      .send({ name: m.name, email: m.email, role: 'clinician', password });
    expect(created.status).toBe(201);
    const token = (await login(h.app, p.slug, m.email, password)).accessToken;
    const enrol = await request(h.app).post(`${API}/auth/mfa/totp`).set(bearer(token)).send({});
    expect(enrol.status).toBe(200);
    const pending = await rawUser(h.auth, created.body.id);
    expect(pending.totpPending?.kid).toMatch(/^uk_/);
    const act = await request(h.app)
      .post(`${API}/auth/mfa/totp/activate`)
      .set(bearer(token))
      .send({ code: totpCode(enrol.body.secret) });
    expect(act.status).toBe(200);

    const raw = await rawUser(h.auth, created.body.id);
    const uk = await userKeyDoc(h.auth, p.tenantId, created.body.id);
    const tk = await tenantKeyDoc(h.auth, p.tenantId);
    expect(uk).toMatchObject({
      tenantId: p.tenantId,
      userId: created.body.id,
      kid: expect.stringMatching(/^uk_/),
      wrapped: { kid: expect.stringMatching(/^tk_/) },
    });
    expect(tk).toMatchObject({ kid: uk!.wrapped.kid, wrapped: { kid: h.auth.config.KEK_ID } });
    for (const sealed of [raw.emailSealed, raw.nameSealed, raw.totpSecret!]) {
      expect(sealed).toEqual({ kid: uk!.kid, ct: expect.stringMatching(/^v1\./) });
    }
    // The admin from sign-up too, under their own key.
    const adminRaw = await rawUser(h.auth, p.admin.id);
    expect(adminRaw.emailSealed.kid).toBe((await userKeyDoc(h.auth, p.tenantId, p.admin.id))!.kid);
    expect(adminRaw.emailSealed.kid).not.toBe(uk!.kid);
    // The API still answers in plaintext.
    expect((await request(h.app).get(`${API}/users/${created.body.id}`).set(bearer(admin))).body).toMatchObject({
      email: m.email,
      name: m.name,
      mfa: { totp: true },
    });

    const secrets = { ...m, totp: enrol.body.secret as string };
    const bytes = await (async () => {
      for (let i = 0; i < 100; i++) {
        const b = await rawDatabaseBytes(h.auth.config.MONGO_DB!);
        // Positive control: the search sees the user (id and blind index are plain).
        if (b.includes(Buffer.from(created.body.id)) && b.includes(Buffer.from(raw.emailIndex))) return b;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the user never reached the database files');
    })();
    for (const [what, value] of Object.entries(secrets)) {
      for (const form of [value, value.toLowerCase(), value.toUpperCase()]) {
        expect({ what, found: bytes.includes(Buffer.from(form, 'utf8')) }).toEqual({ what, found: false });
      }
    }
  });

  it('support users (tenant `platform`) are sealed under their own user key too', async () => {
    const email = `${unique('sue').toLowerCase()}@praxis.example`;
    const id = await createSupportUser(h.auth, { email, name: 'Sue Support', password: strongPassword() });
    const raw = await rawUser(h.auth, id);
    const uk = await userKeyDoc(h.auth, 'platform', id);
    expect(uk?.kid).toMatch(/^uk_/);
    expect(raw.emailSealed.kid).toBe(uk!.kid);
    expect(raw.nameSealed.kid).toBe(uk!.kid);
    expect((await tenantKeyDoc(h.auth, 'platform'))?.kid).toBe(uk!.wrapped.kid);
    expect(await h.auth.users.get('platform', id)).toMatchObject({ email, name: 'Sue Support' });
  });
});

describe('crypto-shredding', () => {
  it('destroying one user’s key makes their fields unreadable; other users are unaffected', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const gone = await addUser(h.app, admin, 'clinician');
    const kept = await addUser(h.app, admin, 'receptionist');
    expect((await request(h.app).get(`${API}/users/${gone.id}`).set(bearer(admin))).status).toBe(200);

    expect((await h.auth.mongo.collection('user_keys').deleteOne({ _id: `${p.tenantId}|${gone.id}` as never })).deletedCount).toBe(1);
    h.auth.userKeys.clearCache();

    expect(await rawUser(h.auth, gone.id)).toBeTruthy(); // the document is still there, sealed
    expect(await h.auth.users.get(p.tenantId, gone.id)).toBeNull();
    expect((await request(h.app).get(`${API}/users/${gone.id}`).set(bearer(admin))).status).toBe(404);
    expect(
      (await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: gone.email, password: gone.password })).status,
    ).toBe(401);
    const list = await request(h.app).get(`${API}/users`).set(bearer(admin));
    expect(list.status).toBe(200);
    const ids = (list.body.items as { id: string }[]).map((u) => u.id);
    expect(ids).toEqual(expect.arrayContaining([p.admin.id, kept.id]));
    expect(ids).not.toContain(gone.id);
    expect((await request(h.app).get(`${API}/users/${kept.id}`).set(bearer(admin))).body).toMatchObject({ email: kept.email });
    await login(h.app, p.slug, kept.email, kept.password);
  });

  it('destroying a tenant key makes every user of that tenant unreadable; other tenants are unaffected', async () => {
    const shredded = await signUpPractice(h.app);
    const other = await signUpPractice(h.app);
    expect((await h.auth.mongo.collection('tenant_keys').deleteOne({ _id: shredded.tenantId as never })).deletedCount).toBe(1);
    h.auth.userKeys.clearCache();
    expect(await h.auth.users.get(shredded.tenantId, shredded.admin.id)).toBeNull();
    expect(
      (
        await request(h.app)
          .post(`${API}/auth/login`)
          .send({ tenant: shredded.slug, email: shredded.admin.email, password: shredded.admin.password })
      ).status,
    ).toBe(401);
    expect(await h.auth.users.get(other.tenantId, other.admin.id)).toMatchObject({ email: other.admin.email });
    await login(h.app, other.slug, other.admin.email, other.admin.password);
  });

  it('the purge destroys the tenant key and every user key of the practice', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const c = await addUser(h.app, admin, 'clinician');
    const bystander = await signUpPractice(h.app);
    expect(await h.auth.mongo.collection('user_keys').countDocuments({ tenantId: p.tenantId })).toBe(2);
    expect((await tenantKeyDoc(h.auth, p.tenantId))?.wrapped).toBeTruthy();

    expect((await request(h.app).delete(`${API}/tenants/current`).set(bearer(admin)).send({ password: p.admin.password })).status).toBe(
      202,
    );
    expect(await purgeDueTenants(h.auth, new Date(Date.now() + 45 * DAY + 60_000))).toContain(p.tenantId);

    expect(await h.auth.mongo.collection('user_keys').countDocuments({ tenantId: p.tenantId })).toBe(0);
    expect(await userKeyDoc(h.auth, p.tenantId, c.id)).toBeNull();
    const tomb = await tenantKeyDoc(h.auth, p.tenantId);
    expect(tomb).toMatchObject({ destroyedAt: expect.any(Date) });
    expect(tomb!.wrapped).toBeUndefined();
    expect(tomb!.kid).toBeUndefined();
    // Never recreated: a late write for that tenant fails instead of making a new key.
    await expect(h.auth.userKeys.userKeyForWrite(p.tenantId, c.id)).rejects.toThrow(/destroyed/);
    // Another practice keeps its keys.
    expect(await userKeyDoc(h.auth, bystander.tenantId, bystander.admin.id)).toBeTruthy();
    await login(h.app, bystander.slug, bystander.admin.email, bystander.admin.password);
  });
});

describe('values sealed the legacy way (directly under the KEK)', () => {
  it('still open, and are re-sealed under the user key on the next write of the user', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const legacy = await insertLegacyUser(h.auth, p.tenantId, h.auth.keks.current());
    expect(await userKeyDoc(h.auth, p.tenantId, legacy.id)).toBeNull();

    // Reads open them, and write nothing.
    expect((await request(h.app).get(`${API}/users/${legacy.id}`).set(bearer(admin))).body).toMatchObject({
      email: legacy.email,
      name: legacy.name,
      mfa: { totp: true },
    });
    expect((await rawUser(h.auth, legacy.id)).emailSealed.kid).toBe(h.auth.config.KEK_ID);

    // Login with the legacy TOTP secret: accepting the code writes the user (last step).
    await loginWithTotp(h.app, p.slug, legacy, Date.now());
    const raw = await rawUser(h.auth, legacy.id);
    const uk = await userKeyDoc(h.auth, p.tenantId, legacy.id);
    expect(uk?.kid).toMatch(/^uk_/);
    for (const sealed of [raw.emailSealed, raw.nameSealed, raw.totpSecret!]) expect(sealed.kid).toBe(uk!.kid);

    // And everything still works from the new form.
    h.auth.userKeys.clearCache();
    expect((await request(h.app).get(`${API}/users/${legacy.id}`).set(bearer(admin))).body).toMatchObject({
      email: legacy.email,
      name: legacy.name,
    });
    await loginWithTotp(h.app, p.slug, legacy, Date.now() + 30_000);
  });

  it('a value sealed under an unknown KEK does not open (fails closed)', async () => {
    const p = await signUpPractice(h.app);
    const legacy = await insertLegacyUser(h.auth, p.tenantId, { key: randomBytes(32), id: 'some-other-kek' });
    await expect(h.auth.users.get(p.tenantId, legacy.id)).rejects.toThrow(/not configured/);
    await h.auth.mongo.collection('users').deleteOne({ _id: legacy.id as never });
  });
});

describe('KEK rotation', () => {
  const cli = (env: Record<string, string>, ...args: string[]) => runCli(h.auth.config, env, ...args);

  it('cli.ts rotate-kek re-wraps tenant keys, re-seals signing keys, migrates legacy users; afterwards the new KEK alone opens everything', async () => {
    const p = await signUpPractice(h.app);
    const admin = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const c = await addUser(h.app, admin, 'clinician');
    const ct = (await login(h.app, p.slug, c.email, c.password)).accessToken;
    const { secret, usedAt } = await enableTotp(h.app, ct);
    const legacy = await insertLegacyUser(h.auth, p.tenantId, h.auth.keks.current());
    // One user no configured KEK opens: reported, and it does not stop the rotation.
    await insertLegacyUser(h.auth, p.tenantId, { key: randomBytes(32), id: 'lost-kek' });
    const kekIdBefore = h.auth.config.KEK_ID;
    const userKeysBefore = await h.auth.mongo.collection('user_keys').find({ tenantId: p.tenantId }).toArray();

    const newKek = { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-2' };
    const newOnly = async () => {
      const { auth, deps } = await openAuth(
        testConfig({ MONGO_DB: h.auth.config.MONGO_DB!, REDIS_PREFIX: h.auth.config.REDIS_PREFIX, ...newKek }),
        testLogger('auth-new-kek'),
      );
      return { auth, deps, app: auth.app };
    };

    // Control: before the rotation the new KEK alone opens nothing (the service does not even start).
    await expect(newOnly()).rejects.toThrow(`KEK ${kekIdBefore} is not configured`);

    const { stdout } = await cli({ ...newKek, KEK_PREVIOUS: `${kekIdBefore}:${h.auth.config.KEK}` }, 'rotate-kek');
    const result = JSON.parse(stdout.trim()) as {
      kekId: string;
      tenantKeys: { rewrapped: number };
      signingKeys: { resealed: number };
      users: { migrated: number; unreadable: number };
    };
    expect(result.kekId).toBe('test-kek-2');
    expect(result.tenantKeys.rewrapped).toBeGreaterThanOrEqual(1);
    expect(result.signingKeys.resealed).toBeGreaterThanOrEqual(2);
    expect(result.users.migrated).toBeGreaterThanOrEqual(1);
    expect(result.users.unreadable).toBe(1);

    // Raw: every tenant key and signing key under the new KEK; user keys untouched; no legacy value left.
    for (const tk of await h.auth.mongo
      .collection('tenant_keys')
      .find({ wrapped: { $exists: true } })
      .toArray())
      expect(tk.wrapped.kid).toBe('test-kek-2');
    for (const sk of await h.auth.mongo.collection('signing_keys').find({}).toArray()) expect(sk.privateSealed.kid).toBe('test-kek-2');
    const userKeysAfter = await h.auth.mongo.collection('user_keys').find({ tenantId: p.tenantId }).toArray();
    for (const before of userKeysBefore) expect(userKeysAfter.find((k) => k._id === before._id)).toEqual(before);
    const legacyRaw = await rawUser(h.auth, legacy.id);
    for (const sealed of [legacyRaw.emailSealed, legacyRaw.nameSealed, legacyRaw.totpSecret!]) expect(sealed.kid).toMatch(/^uk_/);

    // A second run has nothing left to do.
    const again = JSON.parse((await cli({ ...newKek, KEK_PREVIOUS: `${kekIdBefore}:${h.auth.config.KEK}` }, 'rotate-kek')).stdout.trim());
    expect(again).toMatchObject({ tenantKeys: { rewrapped: 0 }, signingKeys: { resealed: 0 }, users: { migrated: 0, unreadable: 1 } });

    // The new KEK alone: logins by email (index remade), TOTP, names and emails all work.
    const after = await newOnly();
    try {
      const adminNew = (await login(after.app, p.slug, p.admin.email, p.admin.password)).accessToken;
      expect((await request(after.app).get(`${API}/users/${c.id}`).set(bearer(adminNew))).body).toMatchObject({
        email: c.email,
        mfa: { totp: true },
      });
      expect((await request(after.app).get(`${API}/users/${legacy.id}`).set(bearer(adminNew))).body).toMatchObject({
        email: legacy.email,
        name: legacy.name,
      });
      await loginWithTotp(after.app, p.slug, { ...c, secret }, usedAt + 30_000);
      await loginWithTotp(after.app, p.slug, legacy, Date.now());
    } finally {
      await after.deps.lifecycle.stop(5_000);
    }
  });
});
