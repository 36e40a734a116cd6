import { blindIndex, cipherKey, constantTimeEqual, newDataKey, open, openString, seal, unwrapKey, wrapKey } from './crypto';
import { uuidv7 } from './ids';

describe('crypto', () => {
  it('seals and opens a value, bound to its context', () => {
    const key = newDataKey();
    const sealed = seal(key, 'k1', 'Ada Lovelace', 'tenant|patient|givenName');
    expect(sealed.ct).not.toContain('Ada');
    expect(open(key, sealed, 'tenant|patient|givenName').toString()).toBe('Ada Lovelace');
    // Moved to another field or record: refused.
    expect(() => open(key, sealed, 'tenant|patient|familyName')).toThrow();
    // Another key: refused.
    expect(() => open(newDataKey(), sealed, 'tenant|patient|givenName')).toThrow();
  });

  it('seals and opens with the key imported once (cipherKey) as with its bytes, either way round', () => {
    const key = newDataKey();
    const imported = cipherKey(key);
    const a = seal(imported, 'k1', 'same value', 'ctx');
    expect(openString(key, a, 'ctx')).toBe('same value');
    expect(openString(imported, seal(key, 'k1', 'other', 'ctx'), 'ctx')).toBe('other');
    expect(() => openString(imported, a, 'another ctx')).toThrow();
    expect(() => cipherKey(Buffer.alloc(16))).toThrow(/32-byte/);
  });

  it('detects a tampered ciphertext', () => {
    const key = newDataKey();
    const sealed = seal(key, 'k1', 'secret', 'a');
    const parts = sealed.ct.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => open(key, { ...sealed, ct: parts.join('.') }, 'a')).toThrow();
  });

  it('wraps data keys under a key-encryption key', () => {
    const kek = newDataKey();
    const dk = newDataKey();
    const wrapped = wrapKey(kek, 'kek-1', dk, 'tenant-1');
    expect(unwrapKey(kek, wrapped, 'tenant-1').equals(dk)).toBe(true);
    expect(() => unwrapKey(kek, wrapped, 'tenant-2')).toThrow();
  });

  it('makes a blind index that ignores case and accents but depends on the key', () => {
    const key = newDataKey();
    expect(blindIndex(key, 'Brontë', 'familyName')).toBe(blindIndex(key, '  BRONTE ', 'familyName'));
    expect(blindIndex(key, 'Bronte', 'familyName')).not.toBe(blindIndex(newDataKey(), 'Bronte', 'familyName'));
  });

  it('compares in constant time, including different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });

  it('makes time-ordered UUID v7 ids', () => {
    const a = uuidv7(1000);
    const b = uuidv7(2000);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});
