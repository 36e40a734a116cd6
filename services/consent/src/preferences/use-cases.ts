// Preferences and codes: a change appends a version and publishes
// `consent.preference.changed` (with the version, so messaging keeps the newest) or
// `consent.code.recorded` (ids and codes only). A PUT that changes nothing appends
// nothing. The patient's consent view gathers the current state and the history.
import { problems } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { KeyService } from '../keys/key-service';
import type { NoticeRepository } from '../notices/model';
import { noticesOf } from '../notices/use-cases';
import type { KnownPatientRepository } from '../patients/model';
import { requirePatient } from '../patients/use-cases';
import { type CodeDoc, type PreferenceDoc, type PreferenceRepository } from './model';
import { randomId } from '@praxis/platform';

export interface PreferenceDeps {
  preferences: PreferenceRepository;
  notices: NoticeRepository;
  patients: KnownPatientRepository;
  keys: KeyService;
  events: Events;
}

/** No row yet: both channels allowed (the default). */
export const DEFAULT_PREFERENCES = { sms: true, email: true };

const displayAad = (tenantId: string, patientId: string, codeId: string) => `consent-code|${tenantId}|${patientId}|${codeId}|display`;

export async function changePreferences(
  deps: PreferenceDeps,
  caller: Caller,
  patientId: string,
  change: { sms?: boolean; email?: boolean },
) {
  if (change.sms === undefined && change.email === undefined) throw problems.badRequest('Nothing to change: give sms, email or both.');
  await requirePatient(deps.patients, caller.tenantId, patientId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const latest = await deps.preferences.latest(caller.tenantId, patientId);
    const current = latest ? { sms: latest.sms, email: latest.email } : DEFAULT_PREFERENCES;
    const next = { sms: change.sms ?? current.sms, email: change.email ?? current.email };
    if (latest && next.sms === current.sms && next.email === current.email) return next;
    const version = (latest?.version ?? 0) + 1;
    const doc: PreferenceDoc = {
      _id: `${caller.tenantId}:${patientId}:${version}`,
      tenantId: caller.tenantId,
      patientId,
      version,
      ...next,
      changedBy: caller.actor.id,
      changedAt: new Date(),
    };
    if (
      await deps.preferences.append(doc, [
        deps.events.make(caller, 'consent.preference.changed', { patientId, ...next, version }, patientId),
      ])
    ) {
      deps.events.written();
      return next;
    }
  }
  throw problems.conflict('The preferences kept changing meanwhile; try again.');
}

export async function recordCode(
  deps: PreferenceDeps,
  caller: Caller,
  patientId: string,
  input: { kind: 'consent' | 'dissent'; system: string; code: string; display: string },
) {
  await requirePatient(deps.patients, caller.tenantId, patientId);
  const id = randomId('cc');
  const doc: CodeDoc = {
    _id: id,
    tenantId: caller.tenantId,
    patientId,
    kind: input.kind,
    system: input.system,
    code: input.code,
    display: await deps.keys.sealFor(caller.tenantId, patientId, input.display, displayAad(caller.tenantId, patientId, id)),
    recordedBy: caller.actor.id,
    recordedAt: new Date(),
  };
  await deps.preferences.addCode(doc, [
    deps.events.make(caller, 'consent.code.recorded', { patientId, kind: input.kind, system: input.system, code: input.code }, patientId),
  ]);
  deps.events.written();
  return {
    id,
    patientId,
    kind: input.kind,
    system: input.system,
    code: input.code,
    display: input.display,
    recordedBy: doc.recordedBy,
    recordedAt: doc.recordedAt.toISOString(),
  };
}

/** Everything consent holds about a patient's choices (the consent view and the SAR part). */
export async function consentRecordOf(deps: PreferenceDeps, tenantId: string, patientId: string) {
  const [history, codes, notices] = await Promise.all([
    deps.preferences.history(tenantId, patientId),
    deps.preferences.codes(tenantId, patientId),
    noticesOf(deps, tenantId, patientId),
  ]);
  const latest = history[history.length - 1];
  return {
    preferences: latest ? { sms: latest.sms, email: latest.email } : { ...DEFAULT_PREFERENCES },
    preferenceHistory: history.map((h) => ({
      version: h.version,
      sms: h.sms,
      email: h.email,
      changedBy: h.changedBy,
      changedAt: h.changedAt.toISOString(),
    })),
    codes: await Promise.all(
      codes.map(async (c) => ({
        id: c._id,
        kind: c.kind,
        system: c.system,
        code: c.code,
        display: (await deps.keys.openFor(tenantId, patientId, c.display, displayAad(tenantId, patientId, c._id))).toString('utf8'),
        recordedBy: c.recordedBy,
        recordedAt: c.recordedAt.toISOString(),
      })),
    ),
    notices,
  };
}

export async function viewConsent(deps: PreferenceDeps, caller: Caller, patientId: string) {
  await requirePatient(deps.patients, caller.tenantId, patientId);
  return consentRecordOf(deps, caller.tenantId, patientId);
}
