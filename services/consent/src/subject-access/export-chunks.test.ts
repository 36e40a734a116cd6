import { Writable } from 'node:stream';
import {
  type ExportHead,
  LIST_SECTIONS,
  ListChunker,
  type SubjectAccessExport,
  chunkAad,
  cutIntoChunks,
  packChunk,
  streamFhir,
  streamJson,
  unpackChunk,
} from './export-chunks';
import { toFhirBundle } from './fhir';
import type { SarChunkDoc } from './model';

type Json = Record<string, unknown>;

const head: ExportHead = {
  requestId: 'req-1',
  patientId: 'pat_1',
  patient: { id: 'pat_1', givenName: 'Ada', familyName: 'Lovelace', birthDate: '1815-12-10' },
  consent: {
    preferences: { sms: false, email: true },
    codes: [
      { id: 'c1', kind: 'dissent', system: 'http://snomed.info/sct', code: '1', display: 'No sharing', recordedAt: 'x', recordedBy: 'u' },
    ],
    preferenceHistory: [{ version: 1, sms: false, email: true, changedAt: 'x', changedBy: 'u' }],
  },
  sources: { records: { held: true }, consent: { held: true } },
  generatedAt: '2026-12-01T00:00:00.000Z',
};

const note = (i: number): Json => ({
  id: `note_${i}`,
  title: `Consultation ${i}`,
  versions: Array.from({ length: 1 + (i % 3) }, (_, v) => ({
    version: v + 1,
    title: `Consultation ${i}`,
    body: `Body "${i}" v${v + 1} — ünïcode ✓`,
    authorId: 'u',
    createdAt: '2026-01-01T00:00:00.000Z',
  })),
});

/** The chunks as stored (the plaintext kept beside each, opened by seq). */
function store(x: SubjectAccessExport, chunkBytes: number) {
  const plain = new Map<number, string>();
  const docs: SarChunkDoc[] = [];
  let seq = 0;
  for (const c of cutIntoChunks(head, x, chunkBytes)) {
    plain.set(seq, c.json);
    docs.push({
      _id: `e:${seq}`,
      tenantId: 't',
      patientId: x.patientId,
      requestId: x.requestId,
      exportId: 'e',
      seq: seq++,
      section: c.section,
      sealed: { kid: 'k', ct: 'v1.x' },
      createdAt: new Date(),
    });
  }
  async function* chunks() {
    for (const d of docs) yield d;
  }
  return { docs, chunks, open: async (c: SarChunkDoc) => plain.get(c.seq)! };
}

/** A slow writable with a tiny buffer, so writing must wait for `drain`. */
function collector() {
  const parts: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      setImmediate(cb);
    },
  });
  // Everything written, once the writable has finished (a slow one still holds the last writes).
  const text = async () => {
    await new Promise<void>((resolve) => out.end(resolve));
    return Buffer.concat(parts).toString('utf8');
  };
  return { out, text };
}

describe('subject access export chunks', () => {
  const full: SubjectAccessExport = {
    ...head,
    notes: Array.from({ length: 300 }, (_, i) => note(i)),
    messages: [{ id: 'm1', channel: 'sms', status: 'sent', body: 'Reminder', createdAt: 'x' }],
    directMessages: [{ id: 'd1', subject: 'Hello', body: 'Hi', createdAt: 'x' }],
    accessLog: Array.from({ length: 120 }, (_, i) => ({
      seq: i,
      id: `a${i}`,
      type: 'records.patient.viewed',
      occurredAt: 'x',
      actor: { kind: 'user', id: 'u' },
    })),
  };

  it('cuts a long export into many chunks in section order, none over the size', () => {
    const { docs } = store(full, 2_000);
    expect(docs.length).toBeGreaterThan(50);
    expect(docs[0]!.section).toBe('head');
    const order = docs.map((d) => d.section);
    const firstOf = (s: string) => order.indexOf(s as never);
    expect(firstOf('notes')).toBeLessThan(firstOf('messages'));
    expect(firstOf('directMessages')).toBeLessThan(firstOf('accessLog'));
    expect(order.lastIndexOf('notes')).toBeLessThan(firstOf('messages'));
    const largestItem = Math.max(...full.notes.map((n) => JSON.stringify(n).length));
    for (const c of cutIntoChunks(head, full, 2_000)) expect(c.json.length).toBeLessThanOrEqual(2_000 + largestItem + 2);
  });

  it('cuts a list arriving item by item into the same chunks as the whole list, and refuses invalid item text', async () => {
    const got: string[] = [];
    const cutter = new ListChunker('notes', async (json) => void got.push(json), 2_000);
    const texts = full.notes.map((n) => JSON.stringify(n));
    for (let i = 0; i < texts.length; i += 7) await cutter.add(texts.slice(i, i + 7));
    await cutter.finish();
    const whole = [...cutIntoChunks(head, full, 2_000)].filter((c) => c.section === 'notes').map((c) => c.json);
    expect(got).toEqual(whole);
    const bad = new ListChunker('notes', async () => undefined, 2_000);
    await bad.add(['{"a":1', '}']);
    await expect(bad.finish()).rejects.toThrow(SyntaxError);
  });

  it('streams JSON equal to the whole export, waiting on a slow reader', async () => {
    const { chunks, open } = store(full, 2_000);
    const c = collector();
    await streamJson(chunks(), open, c.out);
    const got = JSON.parse(await c.text()) as SubjectAccessExport;
    expect(got).toEqual(full);
    expect(got.notes).toHaveLength(300);
  });

  it('writes every list, empty ones too, when only some are held', async () => {
    const some: SubjectAccessExport = { ...head, notes: [], messages: [], directMessages: [{ id: 'd1' }], accessLog: [] };
    const { docs, chunks, open } = store(some, 2_000);
    expect(docs.map((d) => d.section)).toEqual(['head', 'directMessages']);
    const c = collector();
    await streamJson(chunks(), open, c.out);
    const got = JSON.parse(await c.text()) as Json;
    expect(got).toEqual(some);
    for (const s of LIST_SECTIONS) expect(Array.isArray(got[s])).toBe(true);
  });

  it('streams the same FHIR Bundle as the whole export makes', async () => {
    const { chunks, open } = store(full, 2_000);
    const c = collector();
    await streamFhir(chunks(), open, c.out);
    const got = JSON.parse(await c.text()) as { entry: unknown[] };
    expect(got).toEqual(toFhirBundle(full));
    // patient, 2 consents, 600 note versions (1–3 per note), 2 messages, 120 accesses
    expect(got.entry).toHaveLength(1 + 2 + 600 + 2 + 120);
  });

  it('packs a chunk (DEFLATE) to a fraction of its JSON and unpacks it whole; a chunk stored unpacked still opens', async () => {
    const json = JSON.stringify(Array.from({ length: 400 }, (_, i) => note(i)));
    const packed = await packChunk(json);
    expect(packed.encoding).toBe('deflate');
    expect(packed.bytes.length).toBeLessThan(json.length / 4);
    expect(await unpackChunk({ encoding: 'deflate' }, packed.bytes)).toBe(json);
    expect(await unpackChunk({}, Buffer.from(json, 'utf8'))).toBe(json);
    // The encoding is bound into the AAD: a chunk cannot be passed off as packed or as unpacked.
    const at = { tenantId: 't', patientId: 'p', requestId: 'r', exportId: 'e', seq: 3, section: 'notes' as const };
    expect(chunkAad(at)).toBe('sar-export|t|p|r|e|3|notes');
    expect(chunkAad({ ...at, encoding: 'deflate' })).toBe('sar-export|t|p|r|e|3|notes|deflate');
  });

  it('stops with an error when the reader has gone', async () => {
    const { chunks, open } = store(full, 2_000);
    const c = collector();
    c.out.destroy();
    await expect(streamJson(chunks(), open, c.out)).rejects.toThrow(/closed/);
  });
});
