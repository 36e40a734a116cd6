// Token attacks through the HTTP API (every one 401), and key rotation without downtime.
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@praxis/contracts';
import { randomId, uuidv7 } from '@praxis/platform';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { API, type Harness, type Practice, bearer, login, runCli, signUpPractice, startAuth } from './harness';

let h: Harness;
let p: Practice;
let good: string;

beforeAll(async () => {
  h = await startAuth();
  p = await signUpPractice(h.app, 'Token Practice');
  good = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
});
afterAll(async () => {
  await h.close();
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const parts = (t: string) => t.split('.') as [string, string, string];
const me = (token: string) => request(h.app).get(`${API}/auth/me`).set(bearer(token));

describe('token attacks', () => {
  it('accepts the genuine token (control)', async () => {
    expect((await me(good)).status).toBe(200);
  });

  it('refuses alg none', async () => {
    const [hd, pl] = parts(good);
    const header = { ...JSON.parse(Buffer.from(hd, 'base64url').toString()), alg: 'none' };
    expect((await me(`${b64(header)}.${pl}.`)).status).toBe(401);
    expect((await me(`${b64({ alg: 'none', typ: 'JWT' })}.${pl}.x`)).status).toBe(401);
  });

  it('refuses HS256 signed with the public key', async () => {
    const kid = jwt.decode(good, { complete: true })!.header.kid!;
    const jwks = (await request(h.app).get('/.well-known/jwks.json')).body;
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === kid);
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const payload = jwt.decode(good) as Record<string, unknown>;
    const [, pl] = parts(good);
    const header = b64({ alg: 'HS256', typ: 'JWT', kid });
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', pem).update(`${header}.${pl}`).digest('base64url');
    expect((await me(`${header}.${pl}.${sig}`)).status).toBe(401);
    void payload;
  });

  it('refuses an unknown kid and a foreign key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const claims = jwt.decode(good) as Record<string, unknown>;
    const { iat: _i, exp: _e, ...rest } = claims;
    const forged = jwt.sign(rest, privateKey, { algorithm: 'ES256', keyid: 'key_unknown', expiresIn: 600 });
    expect((await me(forged)).status).toBe(401);
    // A foreign key presented under the real kid.
    const kid = jwt.decode(good, { complete: true })!.header.kid!;
    const underRealKid = jwt.sign(rest, privateKey, { algorithm: 'ES256', keyid: kid, expiresIn: 600 });
    expect((await me(underRealKid)).status).toBe(401);
    // No kid at all.
    const noKid = jwt.sign(rest, privateKey, { algorithm: 'ES256', expiresIn: 600 });
    expect((await me(noKid)).status).toBe(401);
  });

  it('refuses an expired token, a wrong issuer and a wrong audience (signed with the real key)', async () => {
    const { kid, privateKey } = await h.auth.keys.signingKey();
    const base = {
      sub: p.admin.id,
      tid: p.tenantId,
      role: 'admin',
      sid: (jwt.decode(good) as { sid: string }).sid,
      amr: ['pwd'],
      jti: uuidv7(),
    };
    const sign = (claims: object, opts: jwt.SignOptions) => jwt.sign(claims, privateKey, { algorithm: 'ES256', keyid: kid, ...opts });
    // Control: the same construction with the right values is accepted.
    expect((await me(sign(base, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, expiresIn: 600 }))).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    expect((await me(sign({ ...base, iat: now - 1200, exp: now - 600 }, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE }))).status).toBe(
      401,
    );
    expect((await me(sign(base, { issuer: 'someone-else', audience: TOKEN_AUDIENCE, expiresIn: 600 }))).status).toBe(401);
    expect((await me(sign(base, { issuer: TOKEN_ISSUER, audience: 'other-app', expiresIn: 600 }))).status).toBe(401);
    // Claims outside the contract (an unknown role) are refused too.
    expect(
      (await me(sign({ ...base, role: 'superuser' }, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, expiresIn: 600 }))).status,
    ).toBe(401);
  });

  it('refuses a tampered payload', async () => {
    const [hd, pl, sig] = parts(good);
    const payload = JSON.parse(Buffer.from(pl, 'base64url').toString());
    for (const change of [{ role: 'admin', tid: randomId('ten') }, { sub: randomId('usr') }, { exp: payload.exp + 3600 }]) {
      expect((await me(`${hd}.${b64({ ...payload, ...change })}.${sig}`)).status).toBe(401);
    }
  });

  it('refuses garbage and a missing token', async () => {
    expect((await me('not-a-token-at-all')).status).toBe(401);
    expect(
      (
        await request(h.app)
          .get(`${API}/auth/me`)
          .set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`)
      ).status,
    ).toBe(401);
    const res = await request(h.app).get(`${API}/auth/me`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('key rotation', () => {
  it('publishes the next key before it signs, and keeps tokens of the old key valid', async () => {
    const before = (await request(h.app).get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    const oldToken = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const oldKid = jwt.decode(oldToken, { complete: true })!.header.kid;
    const { activated, next } = await h.auth.keys.rotate();
    // The key that now signs was already published as "next".
    expect(before).toContain(activated);
    expect(before).toContain(oldKid);
    const after = (await request(h.app).get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(after).toEqual(expect.arrayContaining([oldKid, activated, next]));
    const newToken = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    expect(jwt.decode(newToken, { complete: true })!.header.kid).toBe(activated);
    expect((await me(oldToken)).status).toBe(200);
    expect((await me(newToken)).status).toBe(200);
  });

  it('stores private keys sealed under the KEK', async () => {
    const docs = await h.auth.mongo.collection('signing_keys').find({}).toArray();
    for (const d of docs) {
      expect(JSON.stringify(d)).not.toMatch(/PRIVATE KEY/);
      expect(d.privateSealed.ct).toMatch(/^v1\./);
      expect(d.publicJwk.d).toBeUndefined();
    }
  });
});

describe('the rotation command', () => {
  const cli = (...args: string[]) => runCli(h.auth.config, { KEK: h.auth.config.KEK, KEK_ID: h.auth.config.KEK_ID }, ...args);

  it('refuses to activate a next key that verifiers may not have fetched yet', async () => {
    await expect(cli('rotate-keys')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/too recently/) });
  });

  it('cli.ts rotate-keys --force rotates the keys of the running service’s database; auth picks the new key up', async () => {
    const before = await h.auth.keys.jwks();
    const token = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    const { stdout } = await cli('rotate-keys', '--force');
    const activated = /signing with (\S+);/.exec(stdout)?.[1];
    expect(before.keys.map((k) => k.kid)).toContain(activated);
    h.auth.keys.invalidate();
    const fresh = (await login(h.app, p.slug, p.admin.email, p.admin.password)).accessToken;
    expect(jwt.decode(fresh, { complete: true })!.header.kid).toBe(activated);
    expect((await me(token)).status).toBe(200);
    expect((await me(fresh)).status).toBe(200);
    await h.event('auth.signing-key.rotated', (e) => e.data.keyId === activated);
  });
});
