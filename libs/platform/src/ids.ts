// Identifiers: UUID v7 for events (time-ordered), random opaque ids for documents.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = POOL_BYTES;

/**
 * `n` (at most 4096) fresh bytes from the CSPRNG, cut from a pool that one randomFillSync
 * refills every 4 KiB: per-request ids (request ids, span ids) cost a call into OpenSSL per
 * 4 KiB instead of one each. Every byte is handed out once; a refill makes a new pool, so a
 * buffer handed out earlier is never overwritten.
 */
export function pooledRandomBytes(n: number): Buffer {
  if (used + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(Math.max(POOL_BYTES, n)));
    used = 0;
  }
  const out = pool.subarray(used, used + n);
  used += n;
  return out;
}

/** RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits. */
export function uuidv7(now: number = Date.now()): string {
  const b = pooledRandomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * RFC 9562 UUID version 8 from a SHA-256 of the parts: the same parts give the same id. For an
 * event that must be one event whichever replica writes it (a saga's completion), so that
 * consumers' idempotency on event id keeps a second writer's copy out.
 */
export function stableUuid(...parts: string[]): string {
  const b = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An opaque, unguessable id (128 bits, base64url), optionally prefixed. */
export function randomId(prefix?: string): string {
  const id = randomBytes(16).toString('base64url');
  return prefix ? `${prefix}_${id}` : id;
}
