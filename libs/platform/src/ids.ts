// Identifiers: UUID v7 for events (time-ordered), random opaque ids for documents.
import { randomBytes } from 'node:crypto';

/** RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits. */
export function uuidv7(now: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An opaque, unguessable id (128 bits, base64url), optionally prefixed. */
export function randomId(prefix?: string): string {
  const id = randomBytes(16).toString('base64url');
  return prefix ? `${prefix}_${id}` : id;
}
