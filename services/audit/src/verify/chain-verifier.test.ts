import { generateKeyPairSync } from 'node:crypto';
import { keysFromJwks, publicJwk, signCheckpoint } from '../checkpoints/checkpoint';
import { type ChainEntry, type ChainEvent, GENESIS_HASH, chainEntries, entryHash } from '../log/chain';
import { ChainVerifier, verifyExport } from './chain-verifier';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { kid: 'k1', privateKey };
const keys = keysFromJwks({ keys: [publicJwk('k1', publicKey)] });

function ev(i: number, tenantId = 'ten_a'): ChainEvent {
  return {
    id: `0190f5b8-7c1a-7e3b-9a2c-${String(i).padStart(12, '0')}`,
    type: 'records.patient.viewed',
    version: 1,
    occurredAt: '2026-11-23T10:00:00.000Z',
    tenantId,
    actor: { kind: 'user', id: 'usr_1' },
    subject: { patientId: `pat_${i}` },
    correlationId: 'req-1',
    data: { patientId: `pat_${i}` },
  };
}

function chain(n: number): ChainEntry[] {
  return chainEntries(
    { seq: 0, hash: GENESIS_HASH },
    Array.from({ length: n }, (_, i) => ev(i + 1)),
  );
}

function exportText(entries: ChainEntry[], cpAt = entries[entries.length - 1]): string {
  const lines = entries.map((e) => JSON.stringify({ kind: 'entry', ...e }));
  const cp = signCheckpoint({ tenantId: 'ten_a', seq: cpAt?.seq ?? 0, hash: cpAt?.hash ?? GENESIS_HASH }, key);
  return `${[...lines, JSON.stringify({ kind: 'checkpoint', ...cp })].join('\n')}\n`;
}

describe('hash chain', () => {
  it('links each entry to the one before, starting from the genesis hash', () => {
    const c = chain(3);
    expect(c.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(c[0]!.prevHash).toBe(GENESIS_HASH);
    expect(c[1]!.prevHash).toBe(c[0]!.hash);
    expect(c[2]!.prevHash).toBe(c[1]!.hash);
    expect(c[0]!.hash).toBe(entryHash(1, GENESIS_HASH, ev(1)));
    expect(c[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the same event differently at another position', () => {
    expect(entryHash(1, GENESIS_HASH, ev(1))).not.toBe(entryHash(2, GENESIS_HASH, ev(1)));
  });

  it('does not depend on key order in the stored event', () => {
    const e = ev(1);
    const { data, tenantId, ...rest } = e;
    const reordered = JSON.parse(JSON.stringify({ data, tenantId, ...rest }));
    expect(Object.keys(reordered)[0]).toBe('data');
    expect(entryHash(1, GENESIS_HASH, reordered)).toBe(entryHash(1, GENESIS_HASH, e));
  });
});

describe('verifier', () => {
  it('accepts an intact export ending with a signed checkpoint', () => {
    const r = verifyExport(exportText(chain(5)), keys);
    expect(r).toMatchObject({ ok: true, entries: 5, head: { seq: 5 } });
    expect(r.checkpoint?.seq).toBe(5);
  });

  it('names a modified entry', () => {
    const c = chain(5);
    c[2] = { ...c[2]!, event: { ...c[2]!.event, actor: { kind: 'user', id: 'usr_evil' } } };
    const r = verifyExport(
      exportText(chain(5)).replace(JSON.stringify({ kind: 'entry', ...chain(5)[2] }), JSON.stringify({ kind: 'entry', ...c[2] })),
      keys,
    );
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toMatchObject({ seq: 3, line: 3 });
    expect(r.firstBroken!.reason).toMatch(/modified/);
  });

  it('names the gap left by a deleted entry', () => {
    const c = chain(5);
    const r = verifyExport(exportText([...c.slice(0, 1), ...c.slice(2)], c[4]), keys);
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toMatchObject({ seq: 3, line: 2 });
    expect(r.firstBroken!.reason).toMatch(/deleted|missing/);
  });

  it('detects an inserted entry, even one given a consistent hash', () => {
    const c = chain(4);
    const forged = { seq: 3, prevHash: c[1]!.hash, hash: entryHash(3, c[1]!.hash, ev(99)), event: ev(99) };
    const renumbered = [c[0]!, c[1]!, forged, ...c.slice(2).map((e) => ({ ...e, seq: e.seq + 1 }))];
    const r = verifyExport(exportText(renumbered, c[3]), keys);
    expect(r.ok).toBe(false);
    expect(r.firstBroken!.seq).toBe(4);
  });

  it('detects reordered entries', () => {
    const c = chain(4);
    const r = verifyExport(exportText([c[0]!, c[2]!, c[1]!, c[3]!]), keys);
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toMatchObject({ line: 2 });
  });

  it('detects a truncated tail and a forged or foreign checkpoint', () => {
    const c = chain(4);
    // Checkpoint of seq 4 but entries stop at 3.
    expect(verifyExport(exportText(c.slice(0, 3), c[3]), keys).firstBroken!.reason).toMatch(/missing|deleted/);
    // No checkpoint at the end.
    expect(verifyExport(c.map((e) => JSON.stringify({ kind: 'entry', ...e })).join('\n'), keys).ok).toBe(false);
    // Signed by another key.
    const other = generateKeyPairSync('ed25519');
    const forged = signCheckpoint({ tenantId: 'ten_a', seq: 4, hash: c[3]!.hash }, { kid: 'k1', privateKey: other.privateKey });
    const text = `${c.map((e) => JSON.stringify({ kind: 'entry', ...e })).join('\n')}\n${JSON.stringify({ kind: 'checkpoint', ...forged })}\n`;
    expect(verifyExport(text, keys).firstBroken!.reason).toMatch(/signature/);
  });

  it('refuses an entry of another tenant spliced into the log', () => {
    const c = chain(2);
    const foreign = chainEntries({ seq: 2, hash: c[1]!.hash }, [ev(3, 'ten_b')]);
    const v = new ChainVerifier(keys, 'ten_a');
    for (const e of [...c, ...foreign]) v.addEntry(e);
    expect(v.finish().firstBroken).toMatchObject({ seq: 3 });
  });

  it('verifies an empty log by its genesis checkpoint', () => {
    expect(verifyExport(exportText([]), keys).ok).toBe(true);
  });
});
