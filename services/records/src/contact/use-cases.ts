// What messaging needs from a record: where to reach the patient, and a template filled
// in for them. Both are accesses: recorded before the answer.
import { problems } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { SuppliedVariables, TemplateDeps } from '../templates/use-cases';
import { getTemplate, renderForPatient } from '../templates/use-cases';

export type ContactDeps = TemplateDeps;

export async function patientContact(
  deps: ContactDeps,
  caller: Caller,
  id: string,
): Promise<{ patientId: string; ref: string; email?: string; mobile?: string; test: boolean }> {
  const p = await deps.patients.findById(caller.tenantId, id, caller);
  if (!p) throw problems.notFound('No such patient.');
  await deps.events.recordAccess([deps.events.make(caller, 'records.patient.viewed', { patientId: id }, id)]);
  return { patientId: p.id, ref: p.ref, ...(p.email ? { email: p.email } : {}), ...(p.mobile ? { mobile: p.mobile } : {}), test: p.test };
}

export async function renderForService(
  deps: ContactDeps,
  caller: Caller,
  templateId: string,
  patientId: string,
  supplied: SuppliedVariables,
): Promise<{ channel: 'sms' | 'email'; subject?: string; body: string }> {
  const template = await getTemplate(deps, caller, templateId);
  const rendered = await renderForPatient(deps, caller, templateId, patientId, supplied);
  return { channel: template.channel, ...rendered };
}
