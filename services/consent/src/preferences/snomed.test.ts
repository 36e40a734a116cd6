import { isValidSctid } from './snomed';

describe('SNOMED CT identifier check', () => {
  it('accepts real concept ids', () => {
    for (const id of ['22232009', '38341003', '73211009', '404684003']) expect({ id, ok: isValidSctid(id) }).toEqual({ id, ok: true });
  });

  it('refuses a changed digit, a swap, a leading zero and non-digits', () => {
    expect(isValidSctid('22232008')).toBe(false);
    expect(isValidSctid('22223009')).toBe(false);
    expect(isValidSctid('022232009')).toBe(false);
    expect(isValidSctid('2223200X')).toBe(false);
    expect(isValidSctid('12345')).toBe(false);
  });
});
