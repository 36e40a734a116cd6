// Key-encryption keys (KEKs): the configuration every service that encrypts shares, and
// the ring a process holds. The current KEK wraps or seals everything new; retired ones
// (KEK_PREVIOUS) can still open what a rotation has not moved yet. KEKs come from
// configuration (a mounted secret or KMS), never from the database.
import { z } from 'zod';
import { configFields, namedEntries } from './config';

/** A KEK id: carried by every value wrapped or sealed under that KEK. */
export const kekIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (1-64)');

/** `id:base64key,id:base64key`: the retired KEKs still needed until a rotation has finished. */
export const previousKeksSchema = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const out: { id: string; key: string }[] = [];
    for (const { name: id, value: key } of namedEntries(s)) {
      if (!id || !kekIdSchema.safeParse(id).success || Buffer.from(key, 'base64').length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'each entry must be <kekId>:<32-byte base64 key>' });
        return z.NEVER;
      }
      out.push({ id, key });
    }
    return out;
  });

/** KEK (base64, 32 bytes), KEK_ID and KEK_PREVIOUS, for a service's config schema. */
export const kekConfigFields = {
  KEK: configFields.key32,
  KEK_ID: kekIdSchema,
  KEK_PREVIOUS: previousKeksSchema,
};

export interface KekConfig {
  KEK: string;
  KEK_ID: string;
  KEK_PREVIOUS?: { id: string; key: string }[];
}

export class KekRing {
  readonly currentId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(config: KekConfig) {
    this.currentId = config.KEK_ID;
    for (const prev of config.KEK_PREVIOUS ?? []) this.keys.set(prev.id, decodeKek(prev.key, prev.id));
    this.keys.set(config.KEK_ID, decodeKek(config.KEK, config.KEK_ID));
  }

  current(): { id: string; key: Buffer } {
    return { id: this.currentId, key: this.keys.get(this.currentId)! };
  }

  /** The KEK with that id; throws (fails closed) when it is not configured. */
  get(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new Error(`KEK ${id} is not configured (set it in KEK_PREVIOUS until the rotation has run)`);
    return key;
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** Every configured KEK, the current one first. */
  all(): { id: string; key: Buffer }[] {
    return [this.current(), ...[...this.keys].filter(([id]) => id !== this.currentId).map(([id, key]) => ({ id, key }))];
  }
}

function decodeKek(b64: string, id: string): Buffer {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) throw new Error(`KEK ${id} must be 32 bytes`);
  return key;
}
