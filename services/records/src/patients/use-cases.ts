// Patient use-cases: create, read (audited), search (audited), change. Encryption is the
// repository's business; here are the rules about who may do what.
import { problems, type Page, decodeCursor, pageOf } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import { type Demographics, type DemographicsChange, type Patient, type PatientRepository, newPatientId } from './model';
import { parsePatientRef } from './ref';

export interface PatientDeps {
  patients: PatientRepository;
  events: Events;
}

export async function createPatient(deps: PatientDeps, caller: Caller, input: Demographics & { test?: boolean }): Promise<Patient> {
  // Support with scope `settings` creates test patients only: omitted means test, an
  // explicit `test: false` is refused rather than silently changed.
  const test = input.test ?? !caller.writesReal;
  if (!test && !caller.writesReal) throw problems.forbidden('Only test patients may be created in this session.');
  const id = newPatientId();
  const created = deps.events.make(caller, 'records.patient.created', { patientId: id, test }, id);
  const patient = await deps.patients.create(caller.tenantId, id, { ...input, test }, [created]);
  deps.events.written();
  return patient;
}

export async function viewPatient(deps: PatientDeps, caller: Caller, id: string): Promise<Patient> {
  const patient = await deps.patients.findById(caller.tenantId, id, caller);
  if (!patient) throw problems.notFound('No such patient.');
  await deps.events.recordAccess([deps.events.make(caller, 'records.patient.viewed', { patientId: id }, id)]);
  return patient;
}

export interface PatientQuery {
  ref?: string;
  familyName?: string;
  limit: number;
  cursor?: string;
}

export async function searchPatients(deps: PatientDeps, caller: Caller, q: PatientQuery): Promise<Page<Patient>> {
  if (q.ref !== undefined && q.familyName !== undefined) throw problems.badRequest('Search by ref or by familyName, not both.');
  let ref: string | undefined;
  if (q.ref !== undefined) {
    const parsed = parsePatientRef(q.ref);
    if (!parsed.ok) {
      throw problems.badRequest(
        parsed.reason === 'check' ? 'The ref has a wrong check character (a typo?).' : 'Not a patient ref (PX-XXXX-XXXX).',
        [{ path: 'query.ref', message: parsed.reason === 'check' ? 'check character does not match' : 'not a patient ref' }],
      );
    }
    ref = parsed.ref;
  }
  const after = decodeCursor(q.cursor);
  const rows = await deps.patients.search(
    caller.tenantId,
    { ...(ref ? { ref } : {}), ...(q.familyName !== undefined ? { familyName: q.familyName } : {}) },
    caller,
    {
      ...(after ? { after } : {}),
      limit: q.limit + 1,
    },
  );
  const page = pageOf(rows, q.limit, (item) => item.id);
  const by = ref ? 'ref' : q.familyName !== undefined ? 'familyName' : 'all';
  // A result list shows demographics: each patient shown is a view, besides the search itself.
  await deps.events.recordAccess([
    deps.events.make(caller, 'records.patient.searched', { by, results: page.items.length }),
    ...page.items.map((p) => deps.events.make(caller, 'records.patient.viewed', { patientId: p.id }, p.id)),
  ]);
  return page;
}

export async function changePatient(
  deps: PatientDeps,
  caller: Caller,
  id: string,
  change: DemographicsChange & { test?: boolean },
): Promise<Patient> {
  const fields = Object.keys(change).filter((k) => (change as Record<string, unknown>)[k] !== undefined);
  if (!fields.length) throw problems.badRequest('Nothing to change.');
  if (!caller.writesReal) {
    if (change.test === false) throw problems.forbidden('Only test patients may be handled in this session.');
  }
  const event = deps.events.make(caller, 'records.patient.updated', { patientId: id, fields }, id);
  // Writers limited to test patients cannot reach real ones: those answer 404.
  const patient = await deps.patients.update(caller.tenantId, id, { testOnly: !caller.writesReal || caller.testOnly }, change, [event]);
  if (!patient) throw problems.notFound('No such patient.');
  deps.events.written();
  return patient;
}
