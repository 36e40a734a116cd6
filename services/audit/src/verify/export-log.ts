// Export of a tenant's log as JSON lines: every entry in seq order (`kind: "entry"`),
// each stored checkpoint right after the entry it covers (`kind: "checkpoint"`), and a
// signed checkpoint of the last exported entry as the final line. The chain is verified
// while it streams; a head that does not verify is not signed, so the offline verifier
// fails on the export too.
import type { Logger } from '@praxis/platform';
import type { Writable } from 'node:stream';
import { type Checkpoint, signCheckpoint } from '../checkpoints/checkpoint';
import { GENESIS_HASH } from '../log/chain';
import { entryOf } from '../log/model';
import { ChainVerifier } from './chain-verifier';
import type { LogStores } from './verify-log';

function write(out: Writable, line: unknown): Promise<void> | void {
  if (out.write(`${JSON.stringify(line)}\n`)) return;
  return new Promise((resolve) => out.once('drain', () => resolve()));
}

export async function countToExport(tenantId: string, s: LogStores): Promise<number> {
  return (await s.log.lastEntry(tenantId)).seq;
}

export async function exportTenantLog(
  tenantId: string,
  s: LogStores,
  out: Writable,
  logger: Logger,
  upTo?: number,
): Promise<{ entries: number; ok: boolean }> {
  const headSeq = upTo ?? (await countToExport(tenantId, s));
  const keys = await s.keyring.publicKeys();
  const bySeq = new Map<number, Checkpoint[]>();
  for (const cp of await s.checkpoints.list(tenantId, headSeq)) {
    if (cp.seq === 0) continue;
    bySeq.set(cp.seq, [...(bySeq.get(cp.seq) ?? []), cp]);
  }
  const v = new ChainVerifier(keys, tenantId);
  let entries = 0;
  let last: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  for await (const doc of s.log.all(tenantId, headSeq)) {
    const e = entryOf(doc);
    await write(out, { kind: 'entry', seq: e.seq, prevHash: e.prevHash, hash: e.hash, event: e.event });
    v.addEntry(e);
    entries++;
    last = { seq: e.seq, hash: e.hash };
    for (const cp of bySeq.get(e.seq) ?? []) {
      await write(out, { kind: 'checkpoint', ...cp });
      v.addCheckpoint(cp);
    }
  }
  const result = v.finish();
  if (!result.ok) {
    logger.error({ tenantId, firstBroken: result.firstBroken }, 'audit chain does not verify; export ends without a fresh checkpoint');
    return { entries, ok: false };
  }
  if (!result.checkpoint || result.checkpoint.seq !== last.seq) {
    const cp = signCheckpoint({ tenantId, ...last }, await s.keyring.current());
    if (last.seq > 0) await s.checkpoints.save(tenantId, cp);
    await write(out, { kind: 'checkpoint', ...cp });
  }
  return { entries, ok: true };
}
