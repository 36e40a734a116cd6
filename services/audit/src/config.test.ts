import { ConfigError, KekRing } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import { loadAuditConfig } from './config';

const env = {
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWKS_URL: 'http://127.0.0.1:8081/.well-known/jwks.json',
  KEK: randomBytes(32).toString('base64'),
  KEK_ID: 'local-audit-1',
};

describe('audit config', () => {
  it('defaults the port and checkpoint policy', () => {
    const c = loadAuditConfig(env);
    expect(c).toMatchObject({ PORT: 8085, AUDIT_CHECKPOINT_EVERY: 1000, AUDIT_CHECKPOINT_INTERVAL_MS: 30_000, AUDIT_CONSUMER_NAME: 'log' });
    expect(new KekRing(c).get('local-audit-1')).toHaveLength(32);
  });

  it('names a missing or malformed KEK', () => {
    const { KEK: _k, ...noKek } = env;
    expect(() => loadAuditConfig(noKek)).toThrow(ConfigError);
    expect(() => loadAuditConfig(noKek)).toThrow(/KEK/);
    expect(() => loadAuditConfig({ ...env, KEK: 'c2hvcnQ=' })).toThrow(/KEK: must be 32 bytes/);
    expect(() => loadAuditConfig({ ...env, KEK_PREVIOUS: env.KEK })).toThrow(/KEK_PREVIOUS/);
  });

  it('keeps retired KEKs (id:key pairs) beside the current one', () => {
    const old = randomBytes(32).toString('base64');
    const ring = new KekRing(loadAuditConfig({ ...env, KEK_PREVIOUS: `local-audit-0:${old}` }));
    expect(ring.currentId).toBe('local-audit-1');
    expect(ring.all().map((k) => k.id)).toEqual(['local-audit-1', 'local-audit-0']);
    expect(ring.get('local-audit-0')).toEqual(Buffer.from(old, 'base64'));
  });
});
