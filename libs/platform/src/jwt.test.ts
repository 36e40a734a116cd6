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
