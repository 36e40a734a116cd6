// The edge token check remembers a verified token (keyed by its hash), never past its
// expiry, in bounded memory, and never remembers a refusal.
import type { AccessTokenClaims } from '@praxis/contracts';
import { TokenCheck } from './token-check';

const claims = (expSeconds: number): AccessTokenClaims => ({
  iss: 'praxis-auth',
  aud: 'praxis',
  sub: 'usr_1',
  tid: 'ten_1',
  role: 'admin',
  sid: 'ses_1',
  amr: ['pwd'],
  jti: 'j',
  iat: 0,
  exp: expSeconds,
});

describe('edge token check', () => {
  it('verifies a token once, then answers from memory until the cache time is up', async () => {
    const verify = jest.fn(async () => claims(Math.floor(Date.now() / 1000) + 600));
    const check = new TokenCheck({ verify }, { cacheMs: 1_000 });
    const now = Date.now();
    await check.verify('token-a', now);
    await check.verify('token-a', now + 500);
    expect(verify).toHaveBeenCalledTimes(1);
    await check.verify('token-a', now + 1_500);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('never trusts a remembered token past its own expiry', async () => {
    const now = Date.now();
    const verify = jest.fn(async () => claims(Math.floor(now / 1000) + 2));
    const check = new TokenCheck({ verify }, { cacheMs: 60_000 });
    await check.verify('token-b', now);
    await check.verify('token-b', now + 3_000);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('turns a refused token into a 401 and does not remember it', async () => {
    const verify = jest.fn(async () => {
      throw new Error('bad signature');
    });
    const check = new TokenCheck({ verify });
    await expect(check.verify('token-c')).rejects.toMatchObject({ status: 401 });
    await expect(check.verify('token-c')).rejects.toMatchObject({ status: 401 });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('keeps at most maxEntries tokens', async () => {
    const verify = jest.fn(async () => claims(Math.floor(Date.now() / 1000) + 600));
    const check = new TokenCheck({ verify }, { maxEntries: 2 });
    for (const t of ['t1', 't2', 't3', 't1']) await check.verify(t);
    expect(verify).toHaveBeenCalledTimes(4); // t1 was evicted by t3
    for (let i = 0; i < 1_000; i++) await check.verify(`many-${i}`);
    expect(check.size).toBe(2);
  });

  it('refuses a remembered token once it has expired, asking the verifier again', async () => {
    const now = Date.now();
    const verify = jest
      .fn<Promise<AccessTokenClaims>, [string]>()
      .mockResolvedValueOnce(claims(Math.floor(now / 1000) + 2))
      .mockRejectedValueOnce(new Error('jwt expired'));
    const check = new TokenCheck({ verify });
    await expect(check.verify('token-d', now)).resolves.toMatchObject({ sub: 'usr_1' });
    await expect(check.verify('token-d', now + 1_000)).resolves.toMatchObject({ sub: 'usr_1' });
    await expect(check.verify('token-d', now + 3_000)).rejects.toMatchObject({ status: 401 });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('drops expired entries from the oldest end as new tokens arrive', async () => {
    const now = Date.now();
    let expSeconds = Math.floor(now / 1000) + 2;
    const check = new TokenCheck({ verify: async () => claims(expSeconds) }, { maxEntries: 100 });
    for (let i = 0; i < 10; i++) await check.verify(`short-${i}`, now);
    expect(check.size).toBe(10);
    // Later, one new token: the ten expired ones at the front go.
    expSeconds = Math.floor(now / 1000) + 600;
    await check.verify('late', now + 5_000);
    expect(check.size).toBe(1);
  });

  it('never keeps the token itself, only its hash', async () => {
    const check = new TokenCheck({ verify: async () => claims(Math.floor(Date.now() / 1000) + 600) });
    const token = 'eyJhbGciOiJFUzI1NiJ9.payload-that-must-not-be-kept.sig';
    await check.verify(token);
    const keys = [...(check as unknown as { cache: Map<string, unknown> }).cache.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('payload');
    expect(keys[0]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});
