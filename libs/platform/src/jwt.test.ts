import { TestIssuer } from '@praxis/testing';
import { createSign, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { JwksVerifier } from './jwt';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('token verification against a JWKS', () => {
  const issuer = new TestIssuer();
  const verifier = new JwksVerifier({ source: issuer.source(), minRefreshGapMs: 0 });
  const good = issuer.sign({ tid: 'ten_1', role: 'clinician' });
  const [, goodPayload] = good.split('.');

  it('accepts a token signed by a published key', async () => {
    const claims = await verifier.verify(good);
    expect(claims).toMatchObject({ tid: 'ten_1', role: 'clinician', iss: 'praxis-auth', aud: 'praxis' });
  });

  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: issuer.kid })}.${goodPayload}.`;
    await expect(verifier.verify(token)).rejects.toThrow(/algorithm/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const publicPem = JSON.stringify(issuer.jwks.keys[0]);
    const token = jwt.sign(JSON.parse(Buffer.from(goodPayload!, 'base64url').toString()), publicPem, {
      algorithm: 'HS256',
      keyid: issuer.kid,
    });
    await expect(verifier.verify(token)).rejects.toThrow(/algorithm/);
  });

  it('refuses an unknown kid', async () => {
    const other = new TestIssuer();
    await expect(verifier.verify(other.sign({ tid: 'ten_1', role: 'admin' }))).rejects.toThrow(/unknown kid/);
  });

  it('refuses a token signed by another key under a known kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const header = b64({ alg: 'ES256', typ: 'JWT', kid: issuer.kid });
    const signer = createSign('SHA256');
    signer.update(`${header}.${goodPayload}`);
    const sig = signer.sign({ key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    await expect(verifier.verify(`${header}.${goodPayload}.${sig}`)).rejects.toThrow(/signature/);
  });

  it('refuses an expired token', async () => {
    await expect(verifier.verify(issuer.sign({ tid: 'ten_1', role: 'admin' }, -60))).rejects.toThrow(/expired/);
  });

  it('refuses a wrong issuer or audience', async () => {
    const v1 = new JwksVerifier({ source: issuer.source(), issuer: 'someone-else' });
    await expect(v1.verify(good)).rejects.toThrow(/issuer/);
    const v2 = new JwksVerifier({ source: issuer.source(), audience: 'another-app' });
    await expect(v2.verify(good)).rejects.toThrow(/audience/);
  });

  it('refuses a tampered payload', async () => {
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${b64({ ...claims, role: 'admin' })}.${s}`;
    await expect(verifier.verify(forged)).rejects.toThrow(/signature/);
  });

  it('picks up a rotated key without a restart', async () => {
    let current = new TestIssuer();
    const rotating = new JwksVerifier({ source: async () => current.jwks as never, minRefreshGapMs: 0 });
    await rotating.verify(current.sign({ tid: 't', role: 'admin' }));
    current = new TestIssuer();
    await expect(rotating.verify(current.sign({ tid: 't', role: 'admin' }))).resolves.toMatchObject({ tid: 't' });
  });
});

describe('remembered verifications', () => {
  afterEach(() => jest.restoreAllMocks());

  it('checks a token’s signature once, then answers from memory', async () => {
    const issuer = new TestIssuer();
    const verifier = new JwksVerifier({ source: issuer.source() });
    const token = issuer.sign({ tid: 'ten_1', role: 'admin' });
    const spy = jest.spyOn(jwt, 'verify');
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toEqual(first);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it('refuses a remembered token once it has expired', async () => {
    const issuer = new TestIssuer();
    const verifier = new JwksVerifier({ source: issuer.source() });
    const token = issuer.sign({ tid: 'ten_1', role: 'admin' }, 2);
    const { exp } = await verifier.verify(token);
    // Past exp and the 5 s clock tolerance.
    const later = exp * 1000 + 6_000;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it('refuses a remembered token at once when its key leaves the JWKS', async () => {
    const issuer = new TestIssuer();
    let keys = issuer.jwks.keys;
    const verifier = new JwksVerifier({ source: async () => ({ keys }) as never, minRefreshGapMs: 0 });
    const token = issuer.sign({ tid: 'ten_1', role: 'admin' });
    await verifier.verify(token);
    keys = new TestIssuer().jwks.keys;
    await verifier.refresh();
    await expect(verifier.verify(token)).rejects.toThrow(/unknown kid/);
  });

  it('keeps remembering a token across a refresh that publishes the same key', async () => {
    const issuer = new TestIssuer();
    const verifier = new JwksVerifier({ source: issuer.source() });
    const token = issuer.sign({ tid: 'ten_1', role: 'admin' });
    await verifier.verify(token);
    await verifier.refresh();
    const spy = jest.spyOn(jwt, 'verify');
    await verifier.verify(token);
    expect(spy).not.toHaveBeenCalled();
  });

  it('keeps at most cacheEntries tokens, and none when 0', async () => {
    const issuer = new TestIssuer();
    const bounded = new JwksVerifier({ source: issuer.source(), cacheEntries: 3 });
    for (let i = 0; i < 10; i++) await bounded.verify(issuer.sign({ tid: `ten_${i}`, role: 'admin' }));
    expect(bounded.cachedTokens).toBe(3);
    const none = new JwksVerifier({ source: issuer.source(), cacheEntries: 0 });
    const token = issuer.sign({ tid: 'ten_1', role: 'admin' });
    const spy = jest.spyOn(jwt, 'verify');
    await none.verify(token);
    await none.verify(token);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(none.cachedTokens).toBe(0);
  });

  it('never remembers a refused token', async () => {
    const issuer = new TestIssuer();
    const verifier = new JwksVerifier({ source: issuer.source() });
    await expect(verifier.verify(issuer.sign({ tid: 'ten_1', role: 'admin' }, -60))).rejects.toThrow(/expired/);
    expect(verifier.cachedTokens).toBe(0);
  });
});
