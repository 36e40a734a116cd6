// The hash chain: what an entry is, and how its hash links it to the one before.
// hash(entry) = SHA-256( canonicalJson({ v: 1, seq, prevHash, event }) ), lowercase hex.
// The event is the whole envelope as audit received it (tenant, actor, subject and data
// included), so changing any of it, its position (seq) or its predecessor breaks the link.
import { createHash } from 'node:crypto';
import { canonicalBytes } from './canonical';

export const CHAIN_VERSION = 1;
/** prevHash of the first entry (seq 1) of every tenant's log. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainEvent {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  tenantId: string;
  actor: { kind: string; id: string; onBehalfOf?: string };
  subject?: { patientId?: string };
  correlationId: string;
  data: Record<string, unknown>;
}

export interface ChainEntry {
  seq: number;
  prevHash: string;
  hash: string;
  event: ChainEvent;
}

export function entryHash(seq: number, prevHash: string, event: ChainEvent): string {
  return createHash('sha256')
    .update(canonicalBytes({ v: CHAIN_VERSION, seq, prevHash, event }))
    .digest('hex');
}

/** Chain events onto a head: seq head.seq+1…, each linked to the one before. */
export function chainEntries(head: { seq: number; hash: string }, events: ChainEvent[]): ChainEntry[] {
  let { seq, hash } = head;
  return events.map((event) => {
    seq += 1;
    const prevHash = hash;
    hash = entryHash(seq, prevHash, event);
    return { seq, prevHash, hash, event };
  });
}
