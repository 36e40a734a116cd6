import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { KekRing, kekConfigFields } from './kek';

const key = () => randomBytes(32).toString('base64');
const schema = z.object(kekConfigFields);

describe('KEK configuration and ring', () => {
  it('parses retired KEKs as id:key pairs and holds them beside the current one', () => {
    const [cur, old1, old2] = [key(), key(), key()];
    const c = schema.parse({ KEK: cur, KEK_ID: 'k3', KEK_PREVIOUS: `k1:${old1}, k2:${old2}` });
    expect(c.KEK_PREVIOUS).toEqual([
      { id: 'k1', key: old1 },
      { id: 'k2', key: old2 },
    ]);
    const ring = new KekRing(c);
    expect(ring.current()).toEqual({ id: 'k3', key: Buffer.from(cur, 'base64') });
    expect(ring.all().map((k) => k.id)).toEqual(['k3', 'k1', 'k2']);
    expect(ring.get('k1')).toEqual(Buffer.from(old1, 'base64'));
    expect(ring.has('k9')).toBe(false);
    expect(() => ring.get('k9')).toThrow(/KEK k9 is not configured/);
  });

  it('defaults to no retired KEKs and refuses malformed ones', () => {
    expect(schema.parse({ KEK: key(), KEK_ID: 'k1' }).KEK_PREVIOUS).toEqual([]);
    for (const bad of ['nocolon', `:${key()}`, 'k1:c2hvcnQ=', `bad id:${key()}`]) {
      expect(schema.safeParse({ KEK: key(), KEK_ID: 'k2', KEK_PREVIOUS: bad }).success).toBe(false);
    }
    expect(schema.safeParse({ KEK: 'c2hvcnQ=', KEK_ID: 'k1' }).success).toBe(false);
    expect(schema.safeParse({ KEK: key(), KEK_ID: 'has:colon' }).success).toBe(false);
  });
});
