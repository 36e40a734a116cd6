import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpCode, totpStep } from './totp';

describe('TOTP window', () => {
  const secret = newTotpSecret();
  const now = Date.now();
  const step = Math.floor(now / 30000);

  it('accepts the previous, current and next step, naming the step', () => {
    expect(totpStep(secret, totpCode(secret, now - 30000), now)).toBe(step - 1);
    expect(totpStep(secret, totpCode(secret, now), now)).toBe(step);
    expect(totpStep(secret, totpCode(secret, now + 30000), now)).toBe(step + 1);
  });

  it('refuses codes two steps away and malformed codes', () => {
    expect(totpStep(secret, totpCode(secret, now - 60000), now)).toBeUndefined();
    expect(totpStep(secret, totpCode(secret, now + 60000), now)).toBeUndefined();
    expect(totpStep(secret, 'abcdef', now)).toBeUndefined();
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes whose hash ignores case and dashes', () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    expect(hashRecoveryCode(codes[0]!.toUpperCase().replace(/-/g, ''))).toBe(hashRecoveryCode(codes[0]!));
  });
});
