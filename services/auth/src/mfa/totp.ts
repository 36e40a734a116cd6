// TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with otplib, accepting the previous, current and
// next step, and recovery codes. Pure functions: the replay rule (a step is usable once,
// and never one at or before the last used) is enforced where the user is stored.
import { randomBytes } from 'node:crypto';
import { sha256 } from '@praxis/platform';
import { authenticator } from 'otplib';

export const TOTP_STEP_SECONDS = 30;
const totp = authenticator.clone({ window: 1, step: TOTP_STEP_SECONDS, digits: 6 });

export function newTotpSecret(): string {
  return totp.generateSecret(20);
}

/** The otpauth:// URL an authenticator app scans: issuer "Praxis (<practice>)". */
export function otpauthUrl(secret: string, accountName: string, practiceName: string): string {
  return totp.keyuri(accountName, `Praxis (${practiceName})`, secret);
}

/** The time step a code belongs to (within ±1 of now), or undefined if it matches none. */
export function totpStep(secret: string, code: string, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp.clone({ epoch: now }).checkDelta(code, secret);
  if (delta === null) return undefined;
  return Math.floor(now / 1000 / TOTP_STEP_SECONDS) + delta;
}

/** A code for a given time, for tests and the CLI. */
export function totpCode(secret: string, at = Date.now()): string {
  return totp.clone({ epoch: at }).generate(secret);
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten recovery codes like `k7m2-9qhx-tr4p` (≈ 59 bits each). */
export function newRecoveryCodes(n = 10): string[] {
  return Array.from({ length: n }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

export function isRecoveryCodeShape(code: string): boolean {
  return /^[a-z2-9]{4}-?[a-z2-9]{4}-?[a-z2-9]{4}$/i.test(code.trim());
}

/** Recovery codes are random and long, so a fast hash is enough (no dictionary to try). */
export function hashRecoveryCode(code: string): string {
  const c = code.trim().toLowerCase().replace(/-/g, '');
  return sha256(`recovery|${c}`);
}
