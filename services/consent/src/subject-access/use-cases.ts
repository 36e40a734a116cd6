// Subject access (Art. 15): an admin opens a request (due in 30 days); consent collates
// every participant's part — records (demographics, every note version), consent itself
// (preferences, codes, notices), messaging (messages), audit (the access log) — seals the
// result under the patient's key, and keeps it downloadable for 7 days, as JSON or as a
// FHIR R4 Bundle. A participant that keeps failing fails the request, naming it. Opening,
// completing, failing, downloading and expiring are all events (and so audited).
// The export is stored and downloaded in chunks (export-chunks.ts): a download streams.
// Several replicas may run: one holds a request while it collates (`claim`), and only the
// collation that completes the request keeps its chunks.
// A participant that is down (unreachable, timing out, 5xx, 429 after fetchPart's own quick
// retries) does not fail the request at once: it stays pending, showing `retrying` (which
// participant, why, since when, how many attempts, the next one), and is collated again every
// `retryMs` until `retryWindowMs` after the first failure; then it fails, naming the
// participant and the reason. Any other answer (a 4xx, a part for the wrong service) fails it
// at once.
import type { Actor } from '@praxis/contracts';
import { type Logger, decodeCursor, makeEvent, pageOf, problems, stableUuid, uuidv7 } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { ErasureRepository } from '../erasure/model';
import type { KeyService } from '../keys/key-service';
import type { KnownPatientRepository } from '../patients/model';
import { requirePatient } from '../patients/use-cases';
import type { Response } from 'express';
import {
  type ExportHead,
  type ListSection,
  ListChunker,
  chunkAad,
  cutIntoChunks,
  packChunk,
  streamFhir,
  streamJson,
  unpackChunk,
} from './export-chunks';
import type { ExportSection, SarChunkDoc, SarDoc, SarRepository } from './model';
import { type ExportClientOptions, type PartExport, type Participant, ParticipantFailed, fetchPart } from './participants';

export const SAR_DUE_DAYS = 30;

export interface SubjectAccessDeps {
  requests: SarRepository;
  erasures: Pick<ErasureRepository, 'activeForPatient'>;
  patients: KnownPatientRepository;
  keys: KeyService;
  events: Events;
  participants: Participant[];
  client: ExportClientOptions;
  /** Consent's own part, answered in-process. */
  ownPart: (tenantId: string, patientId: string, requestId: string) => Promise<PartExport>;
  exportTtlMs: number;
  /** How long one replica holds a request it collates (another takes over after it). */
  collationLeaseMs: number;
  /** A participant down is asked again after this long… */
  retryMs: number;
  /** …for up to this long after its first failure. */
  retryWindowMs: number;
  logger: Logger;
}

export function sarView(r: SarDoc) {
  return {
    id: r._id,
    patientId: r.patientId,
    status: r.status === 'expired' ? ('completed' as const) : r.status,
    dueAt: r.dueAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    ...(r.completedAt ? { completedAt: r.completedAt.toISOString() } : {}),
    ...(r.expiresAt ? { expiresAt: r.expiresAt.toISOString() } : {}),
    ...(r.status === 'expired' ? { expired: true } : {}),
    ...(r.failedParticipant ? { failedParticipant: r.failedParticipant } : {}),
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
    ...(r.status === 'pending' && r.retrying
      ? {
          retrying: {
            participant: r.retrying.participant,
            reason: r.retrying.reason,
            since: r.retrying.since.toISOString(),
            attempts: r.retrying.attempts,
            nextAttemptAt: r.retrying.nextAt.toISOString(),
          },
        }
      : {}),
    participants: r.participants,
  };
}

export async function openSubjectAccessRequest(deps: SubjectAccessDeps, caller: Caller, patientId: string, collate: (r: SarDoc) => void) {
  await requirePatient(deps.patients, caller.tenantId, patientId);
  if (await deps.erasures.activeForPatient(caller.tenantId, patientId)) throw problems.conflict('This patient is being erased.');
  const now = new Date();
  const id = uuidv7();
  const doc: SarDoc = {
    _id: id,
    tenantId: caller.tenantId,
    patientId,
    actor: caller.actor,
    status: 'pending',
    participants: deps.participants.filter((p) => p.exports).map((p) => p.service),
    createdAt: now,
    dueAt: new Date(now.getTime() + SAR_DUE_DAYS * 24 * 3600_000),
  };
  await deps.requests.create(doc, [
    deps.events.make(caller, 'consent.access-request.created', { requestId: id, patientId, dueAt: doc.dueAt.toISOString() }, patientId),
  ]);
  deps.events.written();
  collate(doc);
  return sarView(doc);
}

export async function listSubjectAccessRequests(
  deps: SubjectAccessDeps,
  caller: Caller,
  q: { limit: number; cursor?: string; patientId?: string },
) {
  const rows = await deps.requests.list(caller.tenantId, q.limit + 1, { patientId: q.patientId, before: decodeCursor(q.cursor) });
  const page = pageOf(rows, q.limit, (r) => r._id);
  return { items: page.items.map(sarView), ...(page.next ? { next: page.next } : {}) };
}

export async function readSubjectAccessRequest(deps: SubjectAccessDeps, caller: Caller, id: string) {
  const r = await deps.requests.find(caller.tenantId, id);
  if (!r) throw problems.notFound('No such subject access request.');
  return sarView(r);
}

/** Lists a participant streams (handed on item by item while its answer arrives): records' notes. */
const STREAMED: Partial<Record<string, ListSection>> = { records: 'notes' };

/**
 * Seals and stores one collation's chunks as they are made: a few chunks per insert, the
 * next insert waiting for the one before (so memory holds a couple of chunks, and storing
 * runs while the parts are still arriving). The head's place (seq 0) is kept for last: it
 * names every source, which is known only once every part is in.
 */
class ChunkStore {
  private seq = 1;
  private batch: SarChunkDoc[] = [];
  private inflight: Promise<void> = Promise.resolve();
  bytes = 0;
  /** Sealed plaintext bytes (packed). */
  packedBytes = 0;
  chunks = 0;

  constructor(
    private readonly deps: SubjectAccessDeps,
    private readonly r: SarDoc,
    private readonly exportId: string,
    private readonly createdAt: Date,
    private readonly perInsert: number,
  ) {}

  async add(section: ExportSection, json: string): Promise<void> {
    const seq = section === 'head' ? 0 : this.seq++;
    const { encoding, bytes } = await packChunk(json);
    const doc = {
      tenantId: this.r.tenantId,
      patientId: this.r.patientId,
      requestId: this.r._id,
      exportId: this.exportId,
      seq,
      section,
      encoding,
    };
    const sealed = await this.deps.keys.sealFor(this.r.tenantId, this.r.patientId, bytes, chunkAad(doc));
    this.batch.push({ ...doc, _id: `${this.exportId}:${seq}`, sealed, createdAt: this.createdAt });
    this.bytes += Buffer.byteLength(json);
    this.packedBytes += bytes.length;
    this.chunks++;
    if (this.batch.length >= this.perInsert) await this.flush();
  }

  /** Start storing what is batched once the insert before it is done; waits for that one (back-pressure). */
  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    await this.inflight;
    this.inflight = this.deps.requests.addChunks(batch);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.inflight;
  }

  /** Wait for what is being stored, whatever its outcome (before dropping the collation). */
  async settle(): Promise<void> {
    await this.inflight.catch(() => undefined);
  }
}

/** Collate every participant's part, seal it, complete (or fail naming the participant). */
export async function collate(deps: SubjectAccessDeps, r: SarDoc): Promise<void> {
  const system: Actor = { kind: 'service', id: 'consent' };
  const now = new Date();
  const heldUntil = new Date(now.getTime() + deps.collationLeaseMs);
  if (!(await deps.requests.claim(r.tenantId, r._id, now, heldUntil))) return;
  const started = performance.now();
  const partMs: Record<string, number> = {};
  const firstItemMs: Record<string, number> = {};
  const timed = async (service: string, part: Promise<PartExport>) => {
    const s = performance.now();
    const v = await part;
    partMs[service] = Math.round(performance.now() - s);
    return v;
  };
  const exportId = uuidv7();
  // Chunks of a streamed list are stored two at a time, while the list still arrives.
  const store = new ChunkStore(deps, r, exportId, new Date(), 2);
  const cutters = new Map<ListSection, ListChunker>();
  const streamOf = (p: Participant) => {
    const list = STREAMED[p.service];
    if (!list) return undefined;
    const cutter = new ListChunker(list, (json) => store.add(list, json));
    cutters.set(list, cutter);
    return {
      list,
      onItems: (items: string[]) => {
        firstItemMs[p.service] ??= Math.round(performance.now() - started);
        return cutter.add(items);
      },
    };
  };
  const settled = await Promise.allSettled(
    deps.participants
      .filter((p) => p.exports)
      .map((p) =>
        timed(
          p.service,
          p.service === 'consent'
            ? deps.ownPart(r.tenantId, r.patientId, r._id)
            : fetchPart(p, r.tenantId, r.patientId, r._id, deps.client, streamOf(p)),
        ),
      ),
  );
  const rejected = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (rejected) {
    // What was stored of this collation is nobody's (the next attempt starts from nothing: no part is kept twice).
    await store.settle();
    const droppedChunks = await deps.requests.dropCollation(r.tenantId, exportId);
    const err = rejected.reason as unknown;
    const participant = err instanceof ParticipantFailed ? err.participant : 'consent';
    const reason = err instanceof ParticipantFailed ? err.reason : `error (${(err as Error).name})`;
    const code = err instanceof ParticipantFailed ? err.code : 'error';
    const status = err instanceof ParticipantFailed ? err.status : undefined;
    // Transient unless the participant gave an answer that asking again will not change.
    const transient = !(err instanceof ParticipantFailed) || err.transient;
    const failedAt = new Date();
    // The request as stored now (another replica may have recorded attempts since `r` was read).
    const before = (await deps.requests.find(r.tenantId, r._id))?.retrying;
    const since = before?.since ?? now;
    const attempts = (before?.attempts ?? 0) + 1;
    const nextAt = new Date(failedAt.getTime() + deps.retryMs);
    if (transient && nextAt.getTime() <= since.getTime() + deps.retryWindowMs) {
      const retrying = { participant, reason, since, attempts, nextAt };
      if (await deps.requests.deferCollation(r.tenantId, r._id, heldUntil, retrying))
        deps.logger.warn(
          {
            requestId: r._id,
            participant,
            reason,
            attempts,
            droppedChunks,
            retryInMs: deps.retryMs,
            windowLeftMs: since.getTime() + deps.retryWindowMs - failedAt.getTime(),
          },
          'subject access participant failed; asked again later',
        );
      return;
    }
    const secs = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
    const failureReason = transient
      ? `${participant} ${reason}: ${attempts} attempt${attempts === 1 ? '' : 's'} over ${secs(failedAt.getTime() - since.getTime())} (retried every ${secs(deps.retryMs)} for up to ${secs(deps.retryWindowMs)})`
      : `${participant} ${reason}`;
    deps.logger.warn({ requestId: r._id, participant, reason: failureReason }, 'subject access request failed');
    // Ids and codes only: the reason as a code (and the HTTP status), not the words on the request.
    const failed = makeEvent({
      id: stableUuid('consent.access-request.failed', r.tenantId, r._id),
      type: 'consent.access-request.failed',
      version: 2,
      tenantId: r.tenantId,
      actor: system,
      subject: { patientId: r.patientId },
      data: { requestId: r._id, patientId: r.patientId, participant, reason: code, ...(status !== undefined ? { status } : {}), attempts },
    });
    if (await deps.requests.fail(r.tenantId, r._id, participant, failureReason, [failed])) deps.events.written();
    return;
  }
  const parts = settled.map((x) => (x as PromiseFulfilledResult<PartExport>).value);
  const collected = performance.now();
  try {
    for (const cutter of cutters.values()) await cutter.finish();
    // The head (seq 0) and the lists not streamed (a streamed list is empty in its part).
    const { head, lists } = assemble(r, parts);
    for (const c of cutIntoChunks(head, lists)) await store.add(c.section, c.json);
    await store.finish();
  } catch (err) {
    await store.settle();
    await deps.requests.dropCollation(r.tenantId, exportId);
    throw err;
  }
  const storedAt = performance.now();
  const completedAt = new Date();
  // One event whichever replica completes (see erasure/use-cases.ts): a fixed id.
  const completed = makeEvent({
    id: stableUuid('consent.access-request.completed', r.tenantId, r._id),
    type: 'consent.access-request.completed',
    tenantId: r.tenantId,
    actor: system,
    subject: { patientId: r.patientId },
    data: { requestId: r._id, patientId: r.patientId },
  });
  const ok = await deps.requests.complete(
    r.tenantId,
    r._id,
    {
      exportId,
      exportChunks: store.chunks,
      exportBytes: store.bytes,
      completedAt,
      expiresAt: new Date(completedAt.getTime() + deps.exportTtlMs),
    },
    [completed],
  );
  if (!ok) {
    // Completed (or failed) meanwhile by another collation: this one's chunks are nobody's.
    await deps.requests.dropCollation(r.tenantId, exportId);
    return;
  }
  deps.events.written();
  deps.logger.info(
    {
      requestId: r._id,
      // From the request's creation to this collation's start (the claim included).
      startMs: Math.round(Date.now() - (performance.now() - started) - r.createdAt.getTime()),
      partMs,
      firstItemMs,
      collectMs: Math.round(collected - started),
      // After the last part arrived: the rest of the chunks (streamed ones were stored meanwhile).
      sealAndStoreMs: Math.round(storedAt - collected),
      chunks: store.chunks,
      bytes: store.bytes,
      packedBytes: store.packedBytes,
    },
    'subject access request collated',
  );
}

function assemble(r: SarDoc, parts: PartExport[]): { head: ExportHead; lists: Record<ListSection, Record<string, unknown>[]> } {
  const by = new Map(parts.map((p) => [p.service, p]));
  const records = by.get('records');
  const consent = by.get('consent');
  const messaging = by.get('messaging');
  const audit = by.get('audit');
  const list = (p: PartExport | undefined, key: string) => (p?.[key] as Record<string, unknown>[] | undefined) ?? [];
  const { service: _s, generatedAt: _g, held: _h, ...consentRest } = consent ?? { service: 'consent' };
  return {
    head: {
      requestId: r._id,
      patientId: r.patientId,
      patient: (records?.patient as Record<string, unknown> | undefined) ?? null,
      consent: consentRest,
      sources: Object.fromEntries(
        parts.map((p) => [
          p.service,
          { held: p.held !== false, ...(typeof p.generatedAt === 'string' ? { generatedAt: p.generatedAt } : {}) },
        ]),
      ),
      generatedAt: new Date().toISOString(),
    },
    lists: {
      notes: list(records, 'notes'),
      messages: list(messaging, 'messages'),
      directMessages: list(messaging, 'directMessages'),
      accessLog: list(audit, 'accessLog'),
    },
  };
}

/**
 * Stream the export of a completed request, as JSON or as a FHIR R4 Bundle, to `res`;
 * 410 once expired. Everything that can refuse happens before the first byte; a chunk that
 * cannot be read later breaks the response off (the client sees a truncated body, never a
 * complete-looking wrong one).
 */
export async function downloadExport(deps: SubjectAccessDeps, caller: Caller, id: string, format: 'json' | 'fhir', res: Response) {
  const r = await deps.requests.find(caller.tenantId, id);
  if (!r) throw problems.notFound('No such subject access request.');
  if (r.status === 'expired') throw problems.gone('The export has expired (7 days).');
  if (r.status === 'completed' && r.expiresAt && r.expiresAt.getTime() <= Date.now()) {
    await expireRequest(deps, r);
    throw problems.gone('The export has expired (7 days).');
  }
  if (r.status === 'failed') throw problems.conflict(`The request failed: ${r.failureReason ?? `${r.failedParticipant} did not answer`}.`);
  if (r.status !== 'completed' || !r.exportId) throw problems.conflict('The export is not ready yet.');
  // Only ids before the first byte (the headers leave at once, whatever the export's size).
  if (!(await deps.requests.hasChunks(caller.tenantId, r.exportId))) throw problems.gone('The export is no longer held.');
  await deps.events.recordAccess([
    deps.events.make(caller, 'consent.access-request.downloaded', { requestId: id, patientId: r.patientId, format }, r.patientId),
  ]);
  const open = async (c: SarChunkDoc) => unpackChunk(c, await deps.keys.openFor(caller.tenantId, r.patientId, c.sealed, chunkAad(c)));
  res.status(200).type('application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.flushHeaders();
  const chunks = deps.requests.chunks(caller.tenantId, r.exportId);
  try {
    await (format === 'fhir' ? streamFhir : streamJson)(chunks, open, res);
    res.end();
  } catch (err) {
    if (!res.destroyed) deps.logger.error({ err, requestId: id }, 'export download broke off');
    res.destroy();
  } finally {
    await chunks.return(undefined);
  }
}

export async function expireRequest(deps: Pick<SubjectAccessDeps, 'requests' | 'events'>, r: SarDoc): Promise<void> {
  const expired = makeEvent({
    type: 'consent.access-request.expired',
    tenantId: r.tenantId,
    actor: { kind: 'system', id: 'consent' },
    subject: { patientId: r.patientId },
    data: { requestId: r._id, patientId: r.patientId },
  });
  if (await deps.requests.expire(r.tenantId, r._id, [expired])) deps.events.written();
}
