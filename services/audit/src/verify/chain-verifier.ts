// Incremental verification of a tenant's log, shared by GET /audit/verify (entries read
// from the database) and the offline verifier (an export file). Entries must arrive in
// order; checkpoints arrive right after the entry they cover. The first problem found is
// kept with where it was (seq, and the line of an export) and why.
import type { KeyObject } from 'node:crypto';
import { type Checkpoint, checkpointSignatureValid } from '../checkpoints/checkpoint';
import { type ChainEntry, GENESIS_HASH, chainEntryHash } from '../log/chain';

export interface BrokenAt {
  /** seq of the first entry that does not verify (or that a checkpoint names). */
  seq: number;
  /** 1-based line of an export file, when verifying one. */
  line?: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string };
  /** The last checkpoint that verified against the chain. */
  checkpoint?: Checkpoint;
  firstBroken?: BrokenAt;
}

const hex64 = /^[0-9a-f]{64}$/;

export class ChainVerifier {
  private seq = 0;
  private hash = GENESIS_HASH;
  private count = 0;
  private broken?: BrokenAt;
  private lastCheckpoint?: Checkpoint;
  private tenantId?: string;

  /** `start`: verify a segment that continues from a known (already checked) seq and hash. */
  constructor(
    private readonly publicKeys: ReadonlyMap<string, KeyObject>,
    tenantId?: string,
    start?: { seq: number; hash: string },
  ) {
    this.tenantId = tenantId;
    if (start) {
      this.seq = start.seq;
      this.hash = start.hash;
    }
  }

  get ok(): boolean {
    return !this.broken;
  }

  private fail(b: BrokenAt): void {
    this.broken ??= b;
  }

  addEntry(e: ChainEntry, line?: number): void {
    this.count++;
    if (this.broken) return;
    const where = { seq: typeof e?.seq === 'number' ? e.seq : this.seq + 1, ...(line !== undefined ? { line } : {}) };
    if (
      !e ||
      typeof e.seq !== 'number' ||
      typeof e.prevHash !== 'string' ||
      typeof e.hash !== 'string' ||
      !e.event ||
      typeof e.event !== 'object'
    ) {
      return this.fail({ ...where, reason: 'not a log entry' });
    }
    const expected = this.seq + 1;
    if (e.seq !== expected) {
      return this.fail({
        ...where,
        reason:
          e.seq > expected
            ? `expected seq ${expected}, found ${e.seq}: entries are missing (deleted)`
            : `expected seq ${expected}, found ${e.seq}: an entry was inserted or reordered`,
      });
    }
    this.tenantId ??= e.event.tenantId;
    if (e.event.tenantId !== this.tenantId)
      return this.fail({ ...where, reason: `entry belongs to tenant ${String(e.event.tenantId)}, not ${this.tenantId}` });
    if (e.prevHash !== this.hash)
      return this.fail({
        ...where,
        reason: 'prevHash does not match the hash of the entry before it (an entry was removed, inserted or reordered)',
      });
    let computed: string;
    try {
      computed = chainEntryHash(e);
    } catch (err) {
      return this.fail({ ...where, reason: `entry cannot be encoded: ${(err as Error).message}` });
    }
    if (!hex64.test(e.hash) || computed !== e.hash)
      return this.fail({ ...where, reason: 'hash does not match the entry content (the entry was modified)' });
    this.seq = e.seq;
    this.hash = computed;
  }

  /** A checkpoint must cover the entry just added (or seq 0 of an empty log). */
  addCheckpoint(cp: Checkpoint, line?: number): void {
    if (this.broken) return;
    const where = { seq: typeof cp?.seq === 'number' ? cp.seq : this.seq, ...(line !== undefined ? { line } : {}) };
    if (
      !cp ||
      typeof cp.seq !== 'number' ||
      typeof cp.hash !== 'string' ||
      typeof cp.signature !== 'string' ||
      typeof cp.keyId !== 'string'
    ) {
      return this.fail({ ...where, reason: 'not a checkpoint' });
    }
    const key = this.publicKeys.get(cp.keyId);
    if (!key) return this.fail({ ...where, reason: `checkpoint signed with unknown key ${cp.keyId}` });
    if (!checkpointSignatureValid(cp, key)) return this.fail({ ...where, reason: 'checkpoint signature is not valid' });
    this.tenantId ??= cp.tenantId;
    if (cp.tenantId !== this.tenantId)
      return this.fail({ ...where, reason: `checkpoint is for tenant ${cp.tenantId}, not ${this.tenantId}` });
    if (cp.seq > this.seq)
      return this.fail({
        ...where,
        reason: `checkpoint covers seq ${cp.seq} but the log ends at seq ${this.seq}: entries are missing (deleted)`,
      });
    if (cp.seq < this.seq) return this.fail({ ...where, reason: `checkpoint for seq ${cp.seq} is out of place after seq ${this.seq}` });
    if (cp.hash !== this.hash)
      return this.fail({
        ...where,
        reason: `checkpoint hash differs from the chain at seq ${cp.seq}: entries up to it were modified, removed, inserted or reordered`,
      });
    this.lastCheckpoint = cp;
  }

  /** Where the chain ended up; `requireCheckpointAtHead`: the last thing seen must be a checkpoint of the head (exports). */
  finish(opts: { requireCheckpointAtHead?: boolean } = {}): VerifyResult {
    if (!this.broken && opts.requireCheckpointAtHead && (!this.lastCheckpoint || this.lastCheckpoint.seq !== this.seq)) {
      this.fail({ seq: this.seq, reason: 'the log does not end with a signed checkpoint of its last entry (truncated?)' });
    }
    return {
      ok: !this.broken,
      entries: this.count,
      head: { seq: this.seq, hash: this.hash },
      ...(this.lastCheckpoint ? { checkpoint: this.lastCheckpoint } : {}),
      ...(this.broken ? { firstBroken: this.broken } : {}),
    };
  }
}

/** Verify an export (JSON lines) against public keys. */
export function verifyExport(text: string, publicKeys: ReadonlyMap<string, KeyObject>): VerifyResult {
  const v = new ChainVerifier(publicKeys);
  const lines = text.split('\n');
  let lastLine = 0;
  let sawAnything = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    sawAnything = true;
    lastLine = i + 1;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      v.addEntry(undefined as never, i + 1);
      break;
    }
    // Only what an export line says of an entry: its event is hashed as the reader sees it.
    if (obj.kind === 'entry') v.addEntry({ seq: obj.seq, prevHash: obj.prevHash, hash: obj.hash, event: obj.event } as ChainEntry, i + 1);
    else if (obj.kind === 'checkpoint') v.addCheckpoint(obj as unknown as Checkpoint, i + 1);
    else v.addEntry(undefined as never, i + 1);
    if (!v.ok) break;
  }
  const r = v.finish({ requireCheckpointAtHead: true });
  if (!sawAnything) return { ...r, ok: false, firstBroken: { seq: 0, reason: 'the export is empty' } };
  if (r.firstBroken && r.firstBroken.line === undefined && lastLine) r.firstBroken.line = lastLine;
  return r;
}
