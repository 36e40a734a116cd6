// A subject access export as stored and as downloaded: a head (who, consent, sources) and
// four lists (notes, messages, direct messages, access log) cut into chunks of at most
// CHUNK_BYTES of JSON, each sealed under the patient's key with its request, collation,
// position and section in the AAD (a chunk cannot be moved or reordered undetected).
// A download reads the chunks one at a time and writes the JSON — or the FHIR Bundle —
// as it goes: the first byte leaves at once, memory holds one chunk, never the export.
// A chunk's JSON is packed (raw DEFLATE, on libuv's thread pool) before it is sealed: an
// export is mostly repeated keys, ids and dates, and shrinks several times over, so there is
// that much less to seal, to store (the database's work competes with the participants'
// reads) and to read back. Chunks stored before packing (no `encoding`) still open.
import type { SealedValue } from '@praxis/platform';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import { accessEntry, bundleOpening, consentEntries, type Entry, messageEntry, noteEntries, patientEntry } from './fhir';
import type { ExportSection, SarChunkDoc } from './model';

type Json = Record<string, unknown>;

export interface ExportHead {
  requestId: string;
  patientId: string;
  patient: Json | null;
  consent: Json;
  sources: Record<string, { held: boolean; generatedAt?: string }>;
  generatedAt: string;
}

export const LIST_SECTIONS = ['notes', 'messages', 'directMessages', 'accessLog'] as const;
export type ListSection = (typeof LIST_SECTIONS)[number];

export type SubjectAccessExport = ExportHead & Record<ListSection, Json[]>;

/** Plaintext JSON per chunk, before sealing: small enough to stream, large enough to be few. */
export const CHUNK_BYTES = 512 * 1024;

export const chunkAad = (c: Pick<SarChunkDoc, 'tenantId' | 'patientId' | 'requestId' | 'exportId' | 'seq' | 'section' | 'encoding'>) =>
  `sar-export|${c.tenantId}|${c.patientId}|${c.requestId}|${c.exportId}|${c.seq}|${c.section}${c.encoding ? `|${c.encoding}` : ''}`;

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** A chunk's JSON packed for sealing (the encoding goes into the chunk and its AAD). */
export async function packChunk(json: string): Promise<{ encoding: 'deflate'; bytes: Buffer }> {
  return { encoding: 'deflate', bytes: await deflate(Buffer.from(json, 'utf8'), { level: constants.Z_BEST_SPEED }) };
}

/** A chunk's JSON from its opened plaintext. */
export async function unpackChunk(c: Pick<SarChunkDoc, 'encoding'>, plain: Buffer): Promise<string> {
  return (c.encoding === 'deflate' ? await inflate(plain) : plain).toString('utf8');
}

export interface ChunkPlain {
  section: ExportSection;
  json: string;
}

/** The export cut into chunk plaintexts: the head, then each list's items, in section order. */
export function* cutIntoChunks(head: ExportHead, lists: Record<ListSection, Json[]>, chunkBytes = CHUNK_BYTES): Generator<ChunkPlain> {
  yield { section: 'head', json: JSON.stringify(head) };
  for (const section of LIST_SECTIONS) {
    let items: string[] = [];
    let size = 0;
    for (const item of lists[section]) {
      const s = JSON.stringify(item);
      if (items.length && size + s.length > chunkBytes) {
        yield { section, json: `[${items.join(',')}]` };
        items = [];
        size = 0;
      }
      items.push(s);
      size += s.length + 1;
    }
    if (items.length) yield { section, json: `[${items.join(',')}]` };
  }
}

/**
 * Cuts a list that arrives item by item (each item's JSON text, from a streamed part) into
 * chunks by the same rule as cutIntoChunks, handing each chunk on as soon as it is full.
 * A chunk's text is parsed once before it is handed on: only whole, valid JSON is sealed.
 */
export class ListChunker {
  private items: string[] = [];
  private size = 0;

  constructor(
    readonly section: ListSection,
    private readonly emit: (json: string) => Promise<void>,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  async add(items: string[]): Promise<void> {
    for (const s of items) {
      if (this.items.length && this.size + s.length > this.chunkBytes) await this.flush();
      this.items.push(s);
      this.size += s.length + 1;
    }
  }

  async finish(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.items.length) return;
    const json = `[${this.items.join(',')}]`;
    this.items = [];
    this.size = 0;
    JSON.parse(json);
    await this.emit(json);
  }
}

export type OpenChunk = (c: SarChunkDoc & { sealed: SealedValue }) => Promise<string>;

/** Write to a stream, waiting when it is full; fails if the stream broke (the client left). */
async function write(out: Writable, s: string): Promise<void> {
  if (out.destroyed) throw new Error('the download was closed');
  if (!out.write(s)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        out.off('drain', done);
        out.off('close', closed);
        if (err) reject(err);
        else resolve();
      };
      const closed = () => done(new Error('the download was closed'));
      out.once('drain', done);
      out.once('close', closed);
    });
  }
}

/**
 * Stream the export as JSON — `{ requestId, patientId, patient, consent, sources,
 * generatedAt, notes, messages, directMessages, accessLog }` — from its chunks in order.
 */
export async function streamJson(chunks: AsyncIterable<SarChunkDoc>, open: OpenChunk, out: Writable): Promise<void> {
  let pending = [...LIST_SECTIONS];
  let current: ListSection | undefined;
  let first = true;
  const close = async () => {
    if (current) await write(out, ']');
    current = undefined;
  };
  const openList = async (section: ListSection) => {
    await close();
    // Lists with no chunks (nothing held) are written empty, in their place.
    while (pending.length && pending[0] !== section) await write(out, `,${JSON.stringify(pending.shift())}:[]`);
    pending = pending.filter((s) => s !== section);
    await write(out, `,${JSON.stringify(section)}:[`);
    current = section;
    first = true;
  };
  let sawHead = false;
  for await (const c of chunks) {
    const json = await open(c);
    if (c.section === 'head') {
      await write(out, json.slice(0, -1)); // the head object, left open for the lists
      sawHead = true;
      continue;
    }
    if (!sawHead) throw new Error('export chunks out of order');
    if (c.section !== current) await openList(c.section);
    const items = json.slice(1, -1);
    if (items) {
      await write(out, first ? items : `,${items}`);
      first = false;
    }
  }
  if (!sawHead) throw new Error('export has no head');
  await close();
  for (const s of pending) await write(out, `,${JSON.stringify(s)}:[]`);
  await write(out, '}');
}

/** Stream the export as a FHIR R4 Bundle (type collection) from its chunks in order. */
export async function streamFhir(chunks: AsyncIterable<SarChunkDoc>, open: OpenChunk, out: Writable): Promise<void> {
  let requestId = '';
  let first = true;
  const put = async (entries: Entry[]) => {
    if (!entries.length) return;
    const s = entries.map((e) => JSON.stringify(e)).join(',');
    await write(out, first ? s : `,${s}`);
    first = false;
  };
  for await (const c of chunks) {
    const json = await open(c);
    if (c.section === 'head') {
      const head = JSON.parse(json) as ExportHead;
      requestId = head.requestId;
      const opening = JSON.stringify(bundleOpening(head));
      await write(out, `${opening.slice(0, -1)},"entry":[`);
      await put([patientEntry(head), ...consentEntries(head)]);
      continue;
    }
    if (!requestId) throw new Error('export chunks out of order');
    const items = JSON.parse(json) as Json[];
    if (c.section === 'notes') for (const n of items) await put(noteEntries(requestId, n));
    else if (c.section === 'accessLog') await put(items.map((e) => accessEntry(requestId, e)));
    else await put(items.map((m) => messageEntry(requestId, m, c.section === 'directMessages')));
  }
  if (!requestId) throw new Error('export has no head');
  await write(out, ']}');
}
