// Subject access (Art. 15): an admin opens a request (due in 30 days); consent collates
// every participant's part — records (demographics, every note version), consent itself
// (preferences, codes, notices), messaging (messages), audit (the access log) — seals the
// result under the patient's key, and keeps it downloadable for 7 days, as JSON or as a
// FHIR R4 Bundle. A participant that keeps failing fails the request, naming it. Opening,
// completing, failing, downloading and expiring are all events (and so audited).
import type { Actor } from '@praxis/contracts';
import { type Logger, makeEvent, problems, uuidv7 } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { ErasureRepository } from '../erasure/model';
import type { KeyService } from '../keys/key-service';
import type { KnownPatientRepository } from '../patients/model';
import { requirePatient } from '../patients/use-cases';
import { toFhirBundle } from './fhir';
import type { SarDoc, SarRepository } from './model';
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
  logger: Logger;
}

export interface SubjectAccessExport {
  requestId: string;
  patientId: string;
  patient: Record<string, unknown> | null;
  notes: Record<string, unknown>[];
  consent: Record<string, unknown>;
  messages: Record<string, unknown>[];
  directMessages: Record<string, unknown>[];
  accessLog: Record<string, unknown>[];
  sources: Record<string, { held: boolean; generatedAt?: string }>;
  generatedAt: string;
}

const exportAad = (tenantId: string, patientId: string, requestId: string) => `sar-export|${tenantId}|${patientId}|${requestId}`;

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

export async function listSubjectAccessRequests(deps: SubjectAccessDeps, caller: Caller, q: { limit: number; patientId?: string }) {
  return { items: (await deps.requests.list(caller.tenantId, q.limit, q.patientId)).map(sarView) };
}

export async function readSubjectAccessRequest(deps: SubjectAccessDeps, caller: Caller, id: string) {
  const r = await deps.requests.find(caller.tenantId, id);
  if (!r) throw problems.notFound('No such subject access request.');
  return sarView(r);
}

/** Collate every participant's part, seal it, complete (or fail naming the participant). */
export async function collate(deps: SubjectAccessDeps, r: SarDoc): Promise<void> {
  const system: Actor = { kind: 'service', id: 'consent' };
  let parts: PartExport[];
  try {
    parts = await Promise.all(
      deps.participants
        .filter((p) => p.exports)
        .map((p) =>
          p.service === 'consent'
            ? deps.ownPart(r.tenantId, r.patientId, r._id)
            : fetchPart(p, r.tenantId, r.patientId, r._id, deps.client),
        ),
    );
  } catch (err) {
    const participant = err instanceof ParticipantFailed ? err.participant : 'consent';
    deps.logger.warn(
      { requestId: r._id, participant, reason: err instanceof ParticipantFailed ? err.message : (err as Error).message },
      'subject access request failed',
    );
    const failed = makeEvent({
      type: 'consent.access-request.failed',
      tenantId: r.tenantId,
      actor: system,
      subject: { patientId: r.patientId },
      data: { requestId: r._id, patientId: r.patientId, participant },
    });
    if (await deps.requests.fail(r.tenantId, r._id, participant, [failed])) deps.events.written();
    return;
  }
  const assembled = assemble(r, parts);
  const json = JSON.stringify(assembled);
  const sealed = await deps.keys.sealFor(r.tenantId, r.patientId, json, exportAad(r.tenantId, r.patientId, r._id));
  const completedAt = new Date();
  const completed = makeEvent({
    type: 'consent.access-request.completed',
    tenantId: r.tenantId,
    actor: system,
    subject: { patientId: r.patientId },
    data: { requestId: r._id, patientId: r.patientId },
  });
  const ok = await deps.requests.complete(
    r.tenantId,
    r._id,
    { patientId: r.patientId, sealed, bytes: Buffer.byteLength(json), createdAt: completedAt },
    { completedAt, expiresAt: new Date(completedAt.getTime() + deps.exportTtlMs) },
    [completed],
  );
  if (ok) deps.events.written();
}

function assemble(r: SarDoc, parts: PartExport[]): SubjectAccessExport {
  const by = new Map(parts.map((p) => [p.service, p]));
  const records = by.get('records');
  const consent = by.get('consent');
  const messaging = by.get('messaging');
  const audit = by.get('audit');
  const list = (p: PartExport | undefined, key: string) => (p?.[key] as Record<string, unknown>[] | undefined) ?? [];
  const { service: _s, generatedAt: _g, held: _h, ...consentRest } = consent ?? { service: 'consent' };
  return {
    requestId: r._id,
    patientId: r.patientId,
    patient: (records?.patient as Record<string, unknown> | undefined) ?? null,
    notes: list(records, 'notes'),
    consent: consentRest,
    messages: list(messaging, 'messages'),
    directMessages: list(messaging, 'directMessages'),
    accessLog: list(audit, 'accessLog'),
    sources: Object.fromEntries(
      parts.map((p) => [
        p.service,
        { held: p.held !== false, ...(typeof p.generatedAt === 'string' ? { generatedAt: p.generatedAt } : {}) },
      ]),
    ),
    generatedAt: new Date().toISOString(),
  };
}

/** The export of a completed request, as JSON or as a FHIR R4 Bundle; 410 once expired. */
export async function downloadExport(deps: SubjectAccessDeps, caller: Caller, id: string, format: 'json' | 'fhir') {
  const r = await deps.requests.find(caller.tenantId, id);
  if (!r) throw problems.notFound('No such subject access request.');
  if (r.status === 'expired') throw problems.gone('The export has expired (7 days).');
  if (r.status === 'completed' && r.expiresAt && r.expiresAt.getTime() <= Date.now()) {
    await expireRequest(deps, r);
    throw problems.gone('The export has expired (7 days).');
  }
  if (r.status === 'failed') throw problems.conflict(`The request failed: ${r.failedParticipant} did not answer.`);
  if (r.status !== 'completed') throw problems.conflict('The export is not ready yet.');
  const stored = await deps.requests.findExport(caller.tenantId, id);
  if (!stored) throw problems.gone('The export is no longer held.');
  const data = JSON.parse(
    (await deps.keys.openFor(caller.tenantId, r.patientId, stored.sealed, exportAad(caller.tenantId, r.patientId, id))).toString('utf8'),
  ) as SubjectAccessExport;
  await deps.events.recordAccess([
    deps.events.make(caller, 'consent.access-request.downloaded', { requestId: id, patientId: r.patientId, format }, r.patientId),
  ]);
  return format === 'fhir' ? toFhirBundle(data) : data;
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
