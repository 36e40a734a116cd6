import { randomBytes } from 'node:crypto';
import { authConfigSchema } from './config';
import { KekRing } from '@praxis/platform';

const base = {
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  AMQP_URL: 'amqp://127.0.0.1',
  REDIS_URL: 'redis://127.0.0.1',
  JWKS_URL: 'http://127.0.0.1:9/x',
};
const key = () => randomBytes(32).toString('base64');

describe('KEK configuration and ring', () => {
  it('parses KEK_PREVIOUS and opens with every configured KEK, the current one first', () => {
    const old = key();
    const cfg = authConfigSchema.parse({ ...base, KEK: key(), KEK_ID: 'kek-2', KEK_PREVIOUS: `kek-1:${old}` });
    expect(cfg.KEK_PREVIOUS).toEqual([{ id: 'kek-1', key: old }]);
    const ring = new KekRing(cfg);
    expect(ring.current().id).toBe('kek-2');
    expect(ring.all().map((k) => k.id)).toEqual(['kek-2', 'kek-1']);
    expect(ring.get('kek-1').equals(Buffer.from(old, 'base64'))).toBe(true);
    expect(() => ring.get('kek-0')).toThrow(/not configured/);
  });

  it('refuses a KEK id that looks like a tenant- or user-key id, and malformed previous keys', () => {
    expect(authConfigSchema.safeParse({ ...base, KEK: key(), KEK_ID: 'uk_x' }).success).toBe(false);
    expect(authConfigSchema.safeParse({ ...base, KEK: key(), KEK_ID: 'tk_x' }).success).toBe(false);
    expect(authConfigSchema.safeParse({ ...base, KEK: key(), KEK_ID: 'k', KEK_PREVIOUS: 'old:short' }).success).toBe(false);
    expect(authConfigSchema.safeParse({ ...base, KEK: key(), KEK_ID: 'k', KEK_PREVIOUS: `uk_old:${key()}` }).success).toBe(false);
    expect(authConfigSchema.safeParse({ ...base, KEK: key(), KEK_ID: 'k' }).success).toBe(true);
  });
});
