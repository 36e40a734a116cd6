import { createHash } from 'node:crypto';
import { canonicalBytes, canonicalJson } from './canonical';
import { type ChainEvent, GENESIS_HASH, chainEntries, entryHash, entryHashOfText } from './chain';

const event: ChainEvent = {
  id: 'evt-1',
  type: 'records.patient.viewed',
  version: 1,
  occurredAt: '2026-12-02T06:00:00.000Z',
  tenantId: 'ten_a',
  actor: { kind: 'user', id: 'usr_1' },
  subject: { patientId: 'pat_1' },
  correlationId: 'cor-1',
  data: { patientId: 'pat_1', note: 'é "quoted" <b>\u2028' },
};

// The chain's definition (docs/audit.md): SHA-256 of the canonical JSON of the whole entry.
const byDefinition = (seq: number, prevHash: string, e: ChainEvent) =>
  createHash('sha256')
    .update(canonicalBytes({ v: 1, seq, prevHash, event: e }))
    .digest('hex');

describe('entry hashes over the stored event text', () => {
  it('equal the definition, for the event object and for its canonical text', () => {
    for (const seq of [1, 9, 1234567]) {
      const want = byDefinition(seq, GENESIS_HASH, event);
      expect(entryHash(seq, GENESIS_HASH, event)).toBe(want);
      expect(entryHashOfText(seq, GENESIS_HASH, canonicalJson(event))).toBe(want);
    }
  });

  it('change with any byte of the stored text', () => {
    const text = canonicalJson(event);
    const h = entryHashOfText(3, GENESIS_HASH, text);
    expect(entryHashOfText(3, GENESIS_HASH, text.replace('usr_1', 'usr_2'))).not.toBe(h);
    expect(entryHashOfText(3, GENESIS_HASH, `${text} `)).not.toBe(h);
  });

  it('chainEntries keeps each event text it hashed', () => {
    const [a, b] = chainEntries({ seq: 0, hash: GENESIS_HASH }, [event, { ...event, id: 'evt-2' }]);
    expect(a!.eventText).toBe(canonicalJson(event));
    expect(b!.prevHash).toBe(a!.hash);
    expect(b!.hash).toBe(byDefinition(2, a!.hash, { ...event, id: 'evt-2' }));
  });
});
