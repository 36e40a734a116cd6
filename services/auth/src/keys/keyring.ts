// The key-encryption keys (KEKs) this process holds: the current one, which wraps every new
// or re-wrapped tenant key and seals new signing keys, and retired ones (KEK_PREVIOUS) that
// can still open what `cli.ts rotate-kek` has not moved yet. KEKs come from configuration
// (a mounted secret or KMS), never from the database.

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
    for (const prev of config.KEK_PREVIOUS ?? []) this.keys.set(prev.id, decodeKey(prev.key, prev.id));
    this.keys.set(config.KEK_ID, decodeKey(config.KEK, config.KEK_ID));
  }

  current(): { id: string; key: Buffer } {
    return { id: this.currentId, key: this.keys.get(this.currentId)! };
  }

  /** The KEK with that id; throws (fails closed) when it is not configured. */
  get(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new Error(`KEK ${id} is not configured (set it in KEK_PREVIOUS until rotate-kek has run)`);
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

function decodeKey(b64: string, id: string): Buffer {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) throw new Error(`KEK ${id} must be 32 bytes`);
  return key;
}
