import { ProblemError } from './http/problem';
import { decodeCursor, encodeCursor, pageOf } from './paging';

describe('paging', () => {
  it('round-trips ids, sequence numbers and timestamps through an opaque cursor', () => {
    for (const position of ['01JABCDEF', 42, '2026-12-01T20:01:09.123Z', 'tenant|17']) {
      const cursor = encodeCursor(position);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor)).toBe(String(position));
    }
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it('refuses a cursor that is not one of ours with a 400', () => {
    for (const bad of [
      'abc',
      Buffer.from('c1:').toString('base64url'),
      Buffer.from('c1:{"$gt":""}').toString('base64url'),
      Buffer.from('x1:abc').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(ProblemError);
      try {
        decodeCursor(bad);
      } catch (err) {
        expect((err as ProblemError).status).toBe(400);
      }
    }
  });

  it('pages limit + 1 rows: the extra row only says there is a next page', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const full = pageOf(rows, 2, (r) => r.id);
    expect(full.items).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(decodeCursor(full.next)).toBe('b');
    expect(pageOf(rows.slice(0, 2), 2, (r) => r.id)).toEqual({ items: [{ id: 'a' }, { id: 'b' }] });
  });
});
