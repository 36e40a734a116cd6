// Cryptographic building blocks with no domain words: AES-256-GCM sealing of values and
// keys (envelope encryption), keyed blind indexes, constant-time comparison and hashing.
import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 'v1';

export interface SealedValue {
  /** Id of the key that sealed it, so keys can rotate. */
  kid: string;
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  ct: string;
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}

/**
 * AES-256-GCM with a random 96-bit IV. `aad` binds the ciphertext to its context
 * (tenant, record, field) so a sealed value cannot be moved to another record.
 * The key is raw bytes or a secret KeyObject made from them once (`cipherKey`): a key used
 * for many values is then not imported again on each (an export opens tens of thousands).
 */
export function seal(key: Buffer | KeyObject, kid: string, plaintext: Buffer | string, aad: string): SealedValue {
  if ((Buffer.isBuffer(key) ? key.length : key.symmetricKeySize) !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${kid}|${aad}`));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return { kid, ct: [VERSION, iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join('.') };
}

export function open(key: Buffer | KeyObject, sealed: SealedValue, aad: string): Buffer {
  const [version, iv, tag, body] = sealed.ct.split('.');
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('unrecognised sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`${sealed.kid}|${aad}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}

export function openString(key: Buffer | KeyObject, sealed: SealedValue, aad: string): string {
  return open(key, sealed, aad).toString('utf8');
}

/** A 32-byte key as a secret KeyObject, for seal/open of many values under it. */
export function cipherKey(key: Buffer): KeyObject {
  if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  return createSecretKey(key);
}

/** Wrap (encrypt) a data key under a key-encryption key. */
export function wrapKey(kek: Buffer, kekId: string, dataKey: Buffer, aad: string): SealedValue {
  return seal(kek, kekId, dataKey, `key|${aad}`);
}

export function unwrapKey(kek: Buffer, wrapped: SealedValue, aad: string): Buffer {
  return open(kek, wrapped, `key|${aad}`);
}

/**
 * Keyed blind index: HMAC-SHA256 of a normalised value, so equality search works
 * without storing plaintext. Normalisation folds case and accents.
 */
export function blindIndex(key: Buffer, value: string, domain: string): string {
  const normalised = value.normalize('NFKD').replace(/\p{M}/gu, '').trim().toLowerCase().replace(/\s+/g, ' ');
  return createHmac('sha256', key).update(`${domain}\u0000${normalised}`).digest('base64url');
}

export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  // Hash first so unequal lengths take the same time and leak nothing.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
