// Verifying a tenant's stored log end to end: every entry's hash and link, every stored
// checkpoint's signature and position, and that nothing is missing after the last one.
// If everything holds and the head is past the last checkpoint, the verified head is
// signed, so the answer always carries a checkpoint of what was just checked.
import type { Checkpoint } from '../checkpoints/checkpoint';
import { signCheckpoint } from '../checkpoints/checkpoint';
import type { CheckpointRepository } from '../checkpoints/model';
import type { SigningKeyring } from '../checkpoints/signing-keys';
import { GENESIS_HASH } from '../log/chain';
import { type AuditLogRepository, entryOf } from '../log/model';
import { ChainVerifier, type VerifyResult } from './chain-verifier';

export interface LogStores {
  log: AuditLogRepository;
  checkpoints: CheckpointRepository;
  keyring: SigningKeyring;
}

export async function verifyTenantLog(tenantId: string, s: LogStores): Promise<VerifyResult & { checkpoint: Checkpoint }> {
  const keys = await s.keyring.publicKeys();
  const bySeq = new Map<number, Checkpoint[]>();
  for (const cp of await s.checkpoints.list(tenantId)) {
    const l = bySeq.get(cp.seq) ?? [];
    l.push(cp);
    bySeq.set(cp.seq, l);
  }
  const v = new ChainVerifier(keys, tenantId);
  for (const cp of bySeq.get(0) ?? []) v.addCheckpoint(cp);
  bySeq.delete(0);
  // The head is read once, after the checkpoints and before the entries: the log is
  // verified as of that head. Entries appended while verifying belong to the next
  // verification; reading the head afterwards would see it past the streamed entries
  // and report them removed.
  const head = await s.log.head(tenantId);
  let lastSeq = 0;
  // Up to the head, or to the last stored checkpoint if that is further (its entries were
  // removed, or the head was put back): every entry a checkpoint or the head accounts for.
  for await (const doc of s.log.all(tenantId, Math.max(head.seq, ...bySeq.keys()))) {
    if (doc.seq > head.seq && !bySeq.size) break;
    v.addEntry(entryOf(doc));
    lastSeq = doc.seq;
    for (const cp of bySeq.get(doc.seq) ?? []) v.addCheckpoint(cp);
    bySeq.delete(doc.seq);
    if (!v.ok) break;
  }
  // Checkpoints past the last entry: the entries they covered were removed.
  for (const seq of [...bySeq.keys()].sort((a, b) => a - b)) for (const cp of bySeq.get(seq)!) v.addCheckpoint(cp);
  let result = v.finish();
  if (result.ok && head.seq > lastSeq) {
    result = {
      ...result,
      ok: false,
      firstBroken: {
        seq: lastSeq + 1,
        reason: `the chain head is at seq ${head.seq} but entries end at seq ${lastSeq}: entries were removed`,
      },
    };
  }
  let checkpoint = result.checkpoint;
  if (result.ok && (!checkpoint || checkpoint.seq < result.head.seq)) {
    const signed = signCheckpoint({ tenantId, ...result.head }, await s.keyring.current());
    checkpoint = result.head.seq > 0 ? await s.checkpoints.save(tenantId, signed) : signed;
  }
  if (!checkpoint) {
    // Broken before any valid checkpoint: say so with the genesis state, signed by nobody's word but ours.
    checkpoint = signCheckpoint({ tenantId, seq: 0, hash: GENESIS_HASH }, await s.keyring.current());
  }
  return { ...result, checkpoint };
}
