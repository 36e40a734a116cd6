// Findings of a security review of audit, proved fixed: a body that lies about its
// encoding is a 400 (it was a 500, without a token), an unknown method a 405.
import { sendRaw } from '@praxis/testing';
import { type Harness, harness } from './harness';

describe('audit refuses malformed requests cleanly', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  it.each(['gzip', 'deflate', 'br'])('a body claiming Content-Encoding %s that is not → 400 problem+json, without a token', async (enc) => {
    for (const path of ['/api/v1/audit/events', '/api/v1/audit/public-key']) {
      const res = await sendRaw(h.app, {
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': enc },
        body: '{"a":1}',
      });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('an encoding it does not take → 415; TRACE → 405', async () => {
    expect(
      (
        await sendRaw(h.app, {
          method: 'POST',
          path: '/api/v1/audit/events',
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'zstd' },
          body: '{}',
        })
      ).status,
    ).toBe(415);
    expect((await sendRaw(h.app, { method: 'TRACE', path: '/api/v1/audit/events' })).status).toBe(405);
  });
});
