import { z } from 'zod';
import { ConfigError, configFields, loadConfig } from './config';

const schema = z.object({ MONGO_URL: configFields.mongoUrl, PORT: configFields.port(8081), KEK: configFields.key32 });

describe('config', () => {
  it('parses a valid environment with defaults', () => {
    const cfg = loadConfig(schema, { MONGO_URL: 'mongodb://127.0.0.1:27017', KEK: Buffer.alloc(32, 1).toString('base64') });
    expect(cfg.PORT).toBe(8081);
  });

  it('refuses a missing variable, naming it', () => {
    expect(() => loadConfig(schema, { KEK: Buffer.alloc(32).toString('base64') })).toThrow(/MONGO_URL: is required/);
  });

  it('names every malformed variable at once', () => {
    try {
      loadConfig(schema, { MONGO_URL: 'http://x', PORT: 'abc', KEK: 'short' });
      throw new Error('should have failed');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['KEK', 'MONGO_URL', 'PORT']);
    }
  });
});
