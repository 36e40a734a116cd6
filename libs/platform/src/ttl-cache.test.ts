import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('forgets entries after their time to live', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const c = new TtlCache<number>(1000, 10);
      c.set('a', 1);
      jest.setSystemTime(1_000_999);
      expect(c.get('a')).toBe(1);
      jest.setSystemTime(1_001_001);
      expect(c.get('a')).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('holds at most `max` entries, the oldest going first, and replaces without evicting', () => {
    const c = new TtlCache<number>(60_000, 2);
    c.set('a', 1);
    c.set('b', 2);
    c.set('b', 3);
    expect([c.get('a'), c.get('b')]).toEqual([1, 3]);
    c.set('c', 4);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([undefined, 3, 4]);
  });

  it('deletes by key and by predicate', () => {
    const c = new TtlCache<{ t: string }>(60_000, 10);
    c.set('1', { t: 'x' });
    c.set('2', { t: 'y' });
    c.set('3', { t: 'x' });
    c.deleteWhere((_k, v) => v.t === 'x');
    c.delete('2');
    expect([c.get('1'), c.get('2'), c.get('3')]).toEqual([undefined, undefined, undefined]);
  });
});
