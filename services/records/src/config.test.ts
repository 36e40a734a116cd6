import { ConfigError } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import { loadCliConfig, loadRecordsConfig } from './config';

const key = () => randomBytes(32).toString('base64');
const base = {
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWKS_URL: 'http://127.0.0.1:8081/.well-known/jwks.json',
};

describe('records configuration', () => {
  it('reads the KEK, its id and retired KEKs, and defaults the port to 8082', () => {
    const old = key();
    const c = loadRecordsConfig({ ...base, KEK: key(), KEK_ID: 'k2', KEK_PREVIOUS: `k1:${old}` });
    expect(c.PORT).toBe(8082);
    expect(c.KEK_PREVIOUS).toEqual([{ id: 'k1', key: old }]);
    expect(c.RECORDS_CONSUMER_PREFIX).toBe('');
  });

  it('names every missing or malformed key variable', () => {
    expect(() => loadRecordsConfig(base)).toThrow(ConfigError);
    try {
      loadRecordsConfig({ ...base, KEK: 'c2hvcnQ=', KEK_PREVIOUS: 'nocolon' });
    } catch (err) {
      const vars = (err as ConfigError).problems.map((p) => p.variable);
      expect(vars).toEqual(expect.arrayContaining(['KEK', 'KEK_ID', 'KEK_PREVIOUS']));
    }
  });

  it('refuses a consumer prefix that would make odd queue names', () => {
    expect(loadRecordsConfig({ ...base, KEK: key(), KEK_ID: 'k', RECORDS_CONSUMER_PREFIX: 'e2e-1-' }).RECORDS_CONSUMER_PREFIX).toBe(
      'e2e-1-',
    );
    expect(() => loadRecordsConfig({ ...base, KEK: key(), KEK_ID: 'k', RECORDS_CONSUMER_PREFIX: 'Bad.Name' })).toThrow(
      /RECORDS_CONSUMER_PREFIX/,
    );
  });

  it('lets the rotation command run with only the database and the keys', () => {
    expect(loadCliConfig({ MONGO_URL: base.MONGO_URL, KEK: key(), KEK_ID: 'k' }).KEK_ID).toBe('k');
  });
});
