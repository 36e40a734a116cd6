// The erasure saga (Art. 17). Opening it stores the saga and publishes
// `consent.erasure-request.created`; every erasing participant (records, consent itself,
// messaging…) crypto-shreds and deletes its part and answers `<service>.patient.erased`
// with counts. Consent records each answer; when all have answered the erasure is
// completed and `consent.erasure-request.completed` carries the non-identifying tombstone
// (ids, actor, counts) to the audit log. A participant that has not answered is sent the
// request again every retry interval; past the deadline the erasure fails, naming the
// missing ones. Everything lives in the stored saga, so a restarted consent carries on.
import { type Logger, decodeCursor, makeEvent, pageOf, problems, stableUuid, uuidv7 } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { KeyService } from '../keys/key-service';
import type { KnownPatientRepository } from '../patients/model';
import { requirePatient } from '../patients/use-cases';
import type { SarRepository } from '../subject-access/model';
import type { Participant } from '../subject-access/participants';
import type { ErasureDoc, ErasureRepository } from './model';

export interface ErasureDeps {
  erasures: ErasureRepository;
  requests: Pick<SarRepository, 'pendingForPatient'>;
  patients: KnownPatientRepository;
  keys: KeyService;
  events: Events;
  participants: Participant[];
  retryMs: number;
  deadlineMs: number;
  logger: Logger;
}

const reasonAad = (tenantId: string, patientId: string, id: string) => `erasure-reason|${tenantId}|${patientId}|${id}`;

export function erasureView(e: ErasureDoc) {
  return {
    id: e._id,
    patientId: e.patientId,
    status: e.status,
    services: Object.fromEntries(Object.entries(e.services).map(([name, s]) => [name, s.status])),
    counts: Object.fromEntries(
      Object.entries(e.services)
        .filter(([, s]) => s.counts)
        .map(([name, s]) => [name, s.counts!]),
    ),
    createdAt: e.createdAt.toISOString(),
    deadlineAt: e.deadlineAt.toISOString(),
    ...(e.completedAt ? { completedAt: e.completedAt.toISOString() } : {}),
    ...(e.failedAt ? { failedAt: e.failedAt.toISOString() } : {}),
    ...(e.missing ? { missing: e.missing } : {}),
  };
}

export async function openErasure(deps: ErasureDeps, caller: Caller, input: { patientId: string; reason: string }) {
  const { patientId } = input;
  // The same patient again while (or after) an erasure runs: that erasure, not a second one.
  const existing = await deps.erasures.activeForPatient(caller.tenantId, patientId);
  if (existing) return erasureView(existing);
  await requirePatient(deps.patients, caller.tenantId, patientId);
  if (await deps.requests.pendingForPatient(caller.tenantId, patientId))
    throw problems.conflict('A subject access request for this patient is pending; erase once it has completed.');
  const id = uuidv7();
  const now = new Date();
  const doc: ErasureDoc = {
    _id: id,
    tenantId: caller.tenantId,
    patientId,
    actor: caller.actor,
    reason: await deps.keys.sealFor(caller.tenantId, patientId, input.reason, reasonAad(caller.tenantId, patientId, id)),
    status: 'pending',
    services: Object.fromEntries(deps.participants.filter((p) => p.erases).map((p) => [p.service, { status: 'pending' as const }])),
    createdAt: now,
    deadlineAt: new Date(now.getTime() + deps.deadlineMs),
    lastSentAt: now,
    sends: 1,
  };
  await deps.erasures.create(doc, [deps.events.make(caller, 'consent.erasure-request.created', { erasureId: id, patientId }, patientId)]);
  deps.events.written();
  return erasureView(doc);
}

export async function listErasures(deps: ErasureDeps, caller: Caller, q: { limit: number; cursor?: string }) {
  const rows = await deps.erasures.list(caller.tenantId, q.limit + 1, decodeCursor(q.cursor));
  const page = pageOf(rows, q.limit, (e) => e._id);
  return { items: page.items.map(erasureView), ...(page.next ? { next: page.next } : {}) };
}

export async function readErasure(deps: ErasureDeps, caller: Caller, id: string) {
  const e = await deps.erasures.find(caller.tenantId, id);
  if (!e) throw problems.notFound('No such erasure request.');
  return erasureView(e);
}

/** A participant answered (`<service>.patient.erased`). A repeat or a stranger's answer changes nothing. */
export async function recordErasureAnswer(
  deps: ErasureDeps,
  tenantId: string,
  service: string,
  data: Record<string, unknown>,
): Promise<void> {
  const erasureId = String(data.erasureId);
  const counts = Object.fromEntries(
    Object.entries(data).filter(([k, v]) => k !== 'erasureId' && k !== 'patientId' && typeof v === 'number'),
  ) as Record<string, number>;
  const after = await deps.erasures.recordAnswer(tenantId, erasureId, service, counts);
  if (!after) return;
  if (String(data.patientId) !== after.patientId) deps.logger.warn({ erasureId, service }, 'erasure answer names another patient');
  await completeIfAnswered(deps, after);
}

async function completeIfAnswered(deps: ErasureDeps, e: ErasureDoc): Promise<void> {
  if (e.status !== 'pending' || Object.values(e.services).some((s) => s.status !== 'erased')) return;
  const counts = Object.fromEntries(Object.entries(e.services).map(([name, s]) => [name, s.counts ?? {}]));
  // The transition is a compare-and-set on status (atomic on MongoDB and on our FerretDB build,
  // docs/decisions/0008); the event's id is fixed by the erasure all the same, so a copy from
  // any second completion is the same event and every consumer's idempotency keeps it out.
  const done = makeEvent({
    id: stableUuid('consent.erasure-request.completed', e.tenantId, e._id),
    type: 'consent.erasure-request.completed',
    tenantId: e.tenantId,
    actor: e.actor,
    subject: { patientId: e.patientId },
    data: { erasureId: e._id, patientId: e.patientId, counts },
  });
  if (await deps.erasures.transition(e.tenantId, e._id, { status: 'completed', completedAt: new Date() }, [done])) {
    deps.events.written();
    deps.logger.info({ erasureId: e._id }, 'erasure completed');
  }
}

/** The runner's step for one pending erasure: fail past the deadline, else re-send if due. */
export async function advanceErasure(deps: ErasureDeps, e: ErasureDoc, now = new Date()): Promise<void> {
  const missing = Object.entries(e.services)
    .filter(([, s]) => s.status !== 'erased')
    .map(([name]) => name);
  if (!missing.length) return completeIfAnswered(deps, e);
  if (now >= e.deadlineAt) {
    const failed = makeEvent({
      id: stableUuid('consent.erasure-request.failed', e.tenantId, e._id),
      type: 'consent.erasure-request.failed',
      tenantId: e.tenantId,
      actor: { kind: 'system', id: 'consent' },
      subject: { patientId: e.patientId },
      data: { erasureId: e._id, patientId: e.patientId, missing },
    });
    if (await deps.erasures.transition(e.tenantId, e._id, { status: 'failed', failedAt: now, missing }, [failed])) {
      deps.events.written();
      deps.logger.warn({ erasureId: e._id, missing }, 'erasure failed: participants did not answer by the deadline');
    }
    return;
  }
  if (now.getTime() - e.lastSentAt.getTime() >= deps.retryMs) {
    const again = makeEvent({
      type: 'consent.erasure-request.created',
      tenantId: e.tenantId,
      actor: e.actor,
      subject: { patientId: e.patientId },
      data: { erasureId: e._id, patientId: e.patientId },
    });
    if (await deps.erasures.resend(e.tenantId, e._id, [again])) {
      deps.events.written();
      deps.logger.info({ erasureId: e._id, missing }, 'erasure request sent again');
    }
  }
}
