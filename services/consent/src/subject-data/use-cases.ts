// Consent as a participant of data-subject rights: its own part of an export (preferences
// with history, codes, notices) and its own erasure — the patient's key first
// (crypto-shredding every code display, export and reason sealed under it), then the
// documents, then the patient is forgotten and `consent.patient.erased` answers the saga.
import type { Actor } from '@praxis/contracts';
import { type Logger, makeEvent } from '@praxis/platform';
import type { Events } from '../common/events';
import type { KeyService } from '../keys/key-service';
import type { KnownPatientRepository } from '../patients/model';
import { type PreferenceDeps, consentRecordOf } from '../preferences/use-cases';
import type { SarRepository } from '../subject-access/model';
import type { PartExport } from '../subject-access/participants';
import type { OwnErasureRepository } from './model';

export interface OwnPartDeps extends PreferenceDeps {
  requests: SarRepository;
  tombstones: OwnErasureRepository;
  patients: KnownPatientRepository;
  keys: KeyService;
  events: Events;
  logger: Logger;
}

export async function exportOwnPart(deps: PreferenceDeps, tenantId: string, patientId: string): Promise<PartExport> {
  return { service: 'consent', ...(await consentRecordOf(deps, tenantId, patientId)), generatedAt: new Date().toISOString() };
}

export async function eraseOwnPart(deps: OwnPartDeps, tenantId: string, actor: Actor, patientId: string, erasureId: string): Promise<void> {
  // Events still in the outbox of documents about to be deleted move to the tombstone.
  const carried = [
    ...(await deps.preferences.pendingEventsOf(tenantId, patientId)),
    ...(await deps.notices.pendingEventsOf(tenantId, patientId)),
  ];
  const tomb = await deps.tombstones.begin(tenantId, erasureId, patientId, carried);
  if (tomb.status === 'completed') return;
  await deps.keys.destroyPatientKeys(tenantId, patientId);
  const { preferences, codes } = await deps.preferences.deleteForPatient(tenantId, patientId);
  const notices = await deps.notices.deleteForPatient(tenantId, patientId);
  const exports = await deps.requests.deleteExportsOf(tenantId, patientId);
  await deps.patients.forget(tenantId, patientId, { remember: true });
  const counts = { preferences, codes, notices, exports };
  const erased = makeEvent({
    type: 'consent.patient.erased',
    tenantId,
    actor,
    subject: { patientId },
    data: { erasureId, patientId, ...counts },
  });
  await deps.tombstones.complete(tenantId, erasureId, counts, [erased]);
  deps.events.written();
  deps.logger.info({ erasureId, ...counts }, 'consent part of a patient erased');
}
