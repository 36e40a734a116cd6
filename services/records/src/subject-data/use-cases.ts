// Data-subject rights, records' part: export everything held about one patient (Art. 15)
// and erase it (Art. 17) by crypto-shredding — the patient's data key goes first, so from
// that moment every copy of their data anywhere (replicas, backups, a raw copy) is
// unreadable — then the documents are deleted and a non-identifying tombstone announces
// `records.patient.erased` with counts only. A practice purge does the same for a tenant.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { type Logger, makeEvent, problems, uuidv7 } from '@praxis/platform';
import type { Response } from 'express';
import type { Writable } from 'node:stream';
import type { Events } from '../common/events';
import type { KeyService } from '../keys/key-service';
import type { NoteRepository, Note, NoteVersion } from '../notes/model';
import type { Patient, PatientRepository } from '../patients/model';
import type { TemplateRepository } from '../templates/model';
import type { TombstoneRepository } from './model';

export interface SubjectDataDeps {
  patients: PatientRepository;
  notes: NoteRepository;
  templates: TemplateRepository;
  keys: KeyService;
  tombstones: TombstoneRepository;
  events: Events;
  logger: Logger;
}

const everyone = { testOnly: false };

/** What the export route writes: `{ service: 'records', patient, notes: [note with versions], generatedAt }`. */
export interface PatientExport {
  service: 'records';
  patient: Patient;
  notes: (Note & { versions: NoteVersion[] })[];
  generatedAt: string;
}

/**
 * Write the patient's export (PatientExport) to `out`. The notes are read (and opened) from
 * the start, while the patient is looked up and the access event is made durable: nothing is
 * written before both (a 404 is decided before the first byte, and nobody gets the data before
 * its access event is stored), but the database is not left idle meanwhile. The notes are
 * written a batch at a time as the database hands them over, with back-pressure; a failure
 * once the answer has started breaks the response off.
 */
export async function exportPatient(
  deps: SubjectDataDeps,
  tenantId: string,
  actor: Actor,
  patientId: string,
  requestId: string | undefined,
  out: Response,
): Promise<void> {
  const started = performance.now();
  const batches = deps.notes.exportBatches(tenantId, patientId);
  const firstBatch = batches.next();
  firstBatch.catch(() => undefined); // awaited below, or dropped with the request
  try {
    const patient = await deps.patients.findById(tenantId, patientId, everyone);
    if (!patient) throw problems.notFound('No such patient.');
    await deps.events.recordAccess([
      makeEvent({
        type: 'records.patient.exported',
        tenantId,
        actor,
        subject: { patientId },
        data: { patientId, ...(requestId ? { requestId } : {}) },
      }),
    ]);
    out.status(200).type('application/json; charset=utf-8');
    out.setHeader('Cache-Control', 'no-store');
    out.flushHeaders();
    await write(out, `{"service":"records","patient":${JSON.stringify(patient)},"notes":[`);
  } catch (err) {
    await firstBatch.catch(() => undefined);
    await batches.return(undefined);
    throw err;
  }
  try {
    const headersMs = performance.now() - started;
    let firstNoteMs: number | undefined;
    let count = 0;
    // One write per batch the database hands over (~1,000 notes), waiting while the client's buffer is full.
    for (let next = await firstBatch; !next.done; next = await batches.next()) {
      firstNoteMs ??= performance.now() - started;
      await write(out, (count ? ',' : '') + next.value.map((n) => JSON.stringify(n)).join(','));
      count += next.value.length;
    }
    await write(out, `],"generatedAt":${JSON.stringify(new Date().toISOString())}}`);
    out.end();
    // Where an export's time goes (bench/consent.bench.ts reads it): counts and times only.
    deps.logger.info(
      {
        requestId,
        noteCount: count,
        headersMs: ms(headersMs),
        firstNoteMs: ms(firstNoteMs ?? 0),
        totalMs: ms(performance.now() - started),
      },
      'patient exported',
    );
  } catch (err) {
    if (!out.destroyed) deps.logger.error({ err }, 'patient export broke off');
    out.destroy();
    await batches.return(undefined).catch(() => undefined);
  }
}

const ms = (x: number) => Math.round(x);

/** Write, waiting while the client's buffer is full; fails once the client has gone. */
async function write(out: Writable, s: string): Promise<void> {
  if (out.destroyed) throw new Error('the client went away');
  if (out.write(s)) return;
  await new Promise<void>((resolve, reject) => {
    const drained = () => {
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', drained);
      reject(new Error('the client went away'));
    };
    out.once('drain', drained);
    out.once('close', closed);
  });
}

export interface ErasureResult {
  erasureId: string;
  patientId: string;
  status: 'completed';
  notes: number;
  documents: number;
}

/**
 * Erase one patient. Idempotent on the erasure id (a redelivered request finishes or
 * repeats the same answer). `requireKnown`: answer 404 for a patient this tenant never
 * had (the HTTP route); the bus consumer instead records an empty erasure so the
 * orchestrator hears back.
 */
export async function erasePatient(
  deps: SubjectDataDeps,
  tenantId: string,
  actor: Actor,
  patientId: string,
  erasureId: string,
  opts: { requireKnown: boolean },
): Promise<ErasureResult> {
  let tomb = await deps.tombstones.findErasure(tenantId, erasureId);
  if (tomb && tomb.patientId !== patientId) throw problems.conflict('This erasure id was used for another patient.');
  if (!tomb) {
    const exists = await deps.patients.exists(tenantId, patientId, everyone);
    if (!exists && opts.requireKnown) {
      const earlier = await deps.tombstones.findErasureOfPatient(tenantId, patientId);
      if (earlier) return resultOf(earlier);
      throw problems.notFound('No such patient.');
    }
    const held = exists ? await deps.notes.countForPatient(tenantId, patientId) : { notes: 0, documents: 0 };
    // Events not yet relayed from the documents about to go move to the tombstone first.
    const carried: EventEnvelope[] = exists
      ? [...(await deps.patients.pendingEvents(tenantId, patientId)), ...(await deps.notes.pendingEventsForPatient(tenantId, patientId))]
      : [];
    tomb = await deps.tombstones.beginErasure(
      tenantId,
      { erasureId, patientId, actor, counts: { notes: held.notes, documents: exists ? held.documents + 1 : 0 } },
      carried,
    );
  }
  if (tomb.status !== 'completed') {
    await deps.keys.destroyPatientKeys(tenantId, patientId); // crypto-shred: first, so a crash after it leaves only unreadable data
    await deps.notes.deleteForPatient(tenantId, patientId);
    await deps.patients.delete(tenantId, patientId);
    const erased = makeEvent({
      type: 'records.patient.erased',
      tenantId,
      actor,
      subject: { patientId },
      data: { erasureId, patientId, notes: tomb.counts.notes, documents: tomb.counts.documents },
    });
    await deps.tombstones.completeErasure(tenantId, erasureId, [erased]);
    deps.events.written();
    deps.logger.info({ erasureId, noteCount: tomb.counts.notes, documentCount: tomb.counts.documents }, 'patient erased');
  }
  return { erasureId, patientId, status: 'completed', notes: tomb.counts.notes, documents: tomb.counts.documents };
}

function resultOf(t: { erasureId: string; patientId: string; counts: { notes: number; documents: number } }): ErasureResult {
  return { erasureId: t.erasureId, patientId: t.patientId, status: 'completed', notes: t.counts.notes, documents: t.counts.documents };
}

export const newErasureId = () => uuidv7();

/** The practice was purged (auth.tenant.purged): destroy its tenant key, then all its data. */
export async function purgeTenant(deps: SubjectDataDeps, tenantId: string): Promise<{ patients: number }> {
  let tomb = await deps.tombstones.findPurge(tenantId);
  if (tomb?.status === 'completed') return { patients: tomb.patients };
  if (!tomb) {
    const patients = await deps.patients.countForTenant(tenantId);
    const carried = [...(await deps.patients.pendingEventsForTenant(tenantId)), ...(await deps.notes.pendingEventsForTenant(tenantId))];
    tomb = await deps.tombstones.beginPurge(tenantId, patients, carried);
  }
  await deps.keys.destroyTenant(tenantId);
  await deps.notes.deleteAllForTenant(tenantId);
  await deps.patients.deleteAllForTenant(tenantId);
  await deps.templates.deleteAllForTenant(tenantId);
  const destroyed = makeEvent({
    type: 'records.tenant.destroyed',
    tenantId,
    actor: { kind: 'service', id: 'records' },
    data: { patients: tomb.patients },
  });
  await deps.tombstones.completePurge(tenantId, [destroyed]);
  deps.events.written();
  deps.logger.info({ patientCount: tomb.patients }, 'practice data destroyed');
  return { patients: tomb.patients };
}
