// Signed checkpoints: an Ed25519 signature over the canonical encoding of
// { v, kind, tenantId, seq, hash, signedAt, keyId }, where (seq, hash) is a chain head.
// Anyone holding the public key (GET /audit/public-key) can check one offline.
import { type KeyObject, createPublicKey, sign, verify } from 'node:crypto';
import { canonicalBytes } from '../log/canonical';

export const CHECKPOINT_KIND = 'praxis-audit-checkpoint';
export const CHECKPOINT_ALG = 'Ed25519';

export interface Checkpoint {
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: string;
  keyId: string;
  alg: typeof CHECKPOINT_ALG;
  /** base64url Ed25519 signature of checkpointPayload(). */
  signature: string;
}

export function checkpointPayload(cp: Omit<Checkpoint, 'signature' | 'alg'>): Buffer {
  return canonicalBytes({
    v: 1,
    kind: CHECKPOINT_KIND,
    tenantId: cp.tenantId,
    seq: cp.seq,
    hash: cp.hash,
    signedAt: cp.signedAt,
    keyId: cp.keyId,
  });
}

export function signCheckpoint(
  head: { tenantId: string; seq: number; hash: string },
  key: { kid: string; privateKey: KeyObject },
  now = new Date(),
): Checkpoint {
  const unsigned = { tenantId: head.tenantId, seq: head.seq, hash: head.hash, signedAt: now.toISOString(), keyId: key.kid };
  const signature = sign(null, checkpointPayload(unsigned), key.privateKey).toString('base64url');
  return { ...unsigned, alg: CHECKPOINT_ALG, signature };
}

export function checkpointSignatureValid(cp: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointPayload(cp), publicKey, Buffer.from(cp.signature, 'base64url'));
  } catch {
    return false;
  }
}

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export function publicJwk(kid: string, publicKey: KeyObject): PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

/** Public keys by kid from a JWK Set `{ keys: [...] }` or a single JWK. */
export function keysFromJwks(doc: unknown): Map<string, KeyObject> {
  const list = (
    doc && typeof doc === 'object' && Array.isArray((doc as { keys?: unknown }).keys) ? (doc as { keys: unknown[] }).keys : [doc]
  ) as Record<string, unknown>[];
  const out = new Map<string, KeyObject>();
  for (const jwk of list) {
    if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || typeof jwk.kid !== 'string') continue;
    out.set(jwk.kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }));
  }
  return out;
}
