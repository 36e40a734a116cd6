// The hash chain: what an entry is, and how its hash links it to the one before.
// hash(entry) = SHA-256( canonicalJson({ v: 1, seq, prevHash, event }) ), lowercase hex.
// Entries are stored with the event as its canonical JSON text (eventJson), so the hash is
// computed over the stored bytes themselves: `{"event":<text>,"prevHash":…,"seq":…,"v":1}`
// is exactly the canonical encoding, as those are the keys in sorted order.
// The event is the whole envelope as audit received it (tenant, actor, subject and data
// included), so changing any of it, its position (seq) or its predecessor breaks the link.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical';

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
  /** The event's canonical JSON text as stored (entries stored before it was kept have none). */
  eventText?: string;
}

export function entryHash(seq: number, prevHash: string, event: ChainEvent): string {
  return entryHashOfText(seq, prevHash, canonicalJson(event));
}

/** entryHash for an event given as its canonical JSON text: the same bytes, not re-encoded. */
export function entryHashOfText(seq: number, prevHash: string, eventText: string): string {
  if (!Number.isSafeInteger(seq)) throw new TypeError('seq must be an integer');
  return createHash('sha256')
    .update(`{"event":${eventText},"prevHash":${JSON.stringify(prevHash)},"seq":${seq},"v":${CHAIN_VERSION}}`, 'utf8')
    .digest('hex');
}

/** The hash an entry should have: over its stored event text when it has one. */
export function chainEntryHash(e: Pick<ChainEntry, 'seq' | 'prevHash' | 'event' | 'eventText'>): string {
  return e.eventText !== undefined ? entryHashOfText(e.seq, e.prevHash, e.eventText) : entryHash(e.seq, e.prevHash, e.event);
}

/** Chain events onto a head: seq head.seq+1…, each linked to the one before. */
export function chainEntries(head: { seq: number; hash: string }, events: ChainEvent[]): ChainEntry[] {
  let { seq, hash } = head;
  return events.map((event) => {
    seq += 1;
    const prevHash = hash;
    const eventText = canonicalJson(event);
    hash = entryHashOfText(seq, prevHash, eventText);
    return { seq, prevHash, hash, event, eventText };
  });
}
