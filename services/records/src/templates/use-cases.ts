// Template use-cases: create (checked, with warnings) and render for a patient. A render
// that reads the patient's record is an access: recorded before the text is returned.
import { problems, type Page, decodeCursor, pageOf } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { PatientRepository } from '../patients/model';
import { type Template, type TemplateRepository, newTemplateId } from './model';
import { type Channel, TemplateSyntaxError, analyseTemplate, renderTemplate } from './render';

export interface TemplateDeps {
  patients: PatientRepository;
  templates: TemplateRepository;
  events: Events;
  /** Refuses (404) practices whose data was destroyed, so stale tokens cannot start it again. */
  assertTenantActive: (tenantId: string) => Promise<unknown>;
}

export async function createTemplate(
  deps: TemplateDeps,
  caller: Caller,
  input: { name: string; channel: Channel; subject?: string; body: string },
): Promise<Template> {
  if (input.channel === 'sms' && input.subject !== undefined)
    throw problems.badRequest('SMS templates have no subject.', [{ path: 'body.subject', message: 'not allowed for sms' }]);
  let analysis;
  try {
    analysis = analyseTemplate(input);
  } catch (err) {
    if (err instanceof TemplateSyntaxError)
      throw problems.badRequest('The template is not valid.', [{ path: `body.${err.field}`, message: err.message }]);
    throw err;
  }
  await deps.assertTenantActive(caller.tenantId);
  const id = newTemplateId();
  const template = await deps.templates.create(
    caller.tenantId,
    {
      _id: id,
      name: input.name,
      channel: input.channel,
      ...(input.subject !== undefined ? { subject: input.subject } : {}),
      body: input.body,
      variables: analysis.variables,
      warnings: analysis.warnings,
      createdBy: caller.actor.id,
    },
    [deps.events.make(caller, 'records.template.created', { templateId: id })],
  );
  deps.events.written();
  return template;
}

export async function getTemplate(deps: TemplateDeps, caller: Caller, id: string): Promise<Template> {
  const t = await deps.templates.findById(caller.tenantId, id);
  if (!t) throw problems.notFound('No such template.');
  return t;
}

export async function listTemplates(deps: TemplateDeps, caller: Caller, q: { limit: number; cursor?: string }): Promise<Page<Template>> {
  const after = decodeCursor(q.cursor);
  return pageOf(
    await deps.templates.list(caller.tenantId, { ...(after ? { after } : {}), limit: q.limit + 1 }),
    q.limit,
    (item) => item.id,
  );
}

/** Variables given by the caller: appointment.* and practice.*, nested or dotted. */
export type SuppliedVariables = Record<string, string>;

export async function renderForPatient(
  deps: TemplateDeps,
  caller: Caller,
  id: string,
  patientId: string,
  supplied: SuppliedVariables,
): Promise<{ subject?: string; body: string }> {
  const template = await getTemplate(deps, caller, id);
  const needsRecord = template.variables.some((v) => v.startsWith('patient.') && v !== 'patient.ref');
  const values: Record<string, string> = { ...supplied };
  if (needsRecord) {
    const p = await deps.patients.findById(caller.tenantId, patientId, caller);
    if (!p) throw problems.notFound('No such patient.');
    Object.assign(values, {
      'patient.ref': p.ref,
      'patient.givenName': p.givenName,
      'patient.familyName': p.familyName,
      'patient.birthDate': p.birthDate,
      'patient.email': p.email ?? '',
      'patient.mobile': p.mobile ?? '',
      'patient.address': p.address ? [p.address.line1, p.address.line2, p.address.city, p.address.postcode].filter(Boolean).join(', ') : '',
    });
  } else {
    const located = await deps.patients.locate(caller.tenantId, patientId, caller);
    if (!located) throw problems.notFound('No such patient.');
    values['patient.ref'] = located.ref;
  }
  const missing = template.variables.filter((v) => !v.startsWith('patient.') && values[v] === undefined);
  if (missing.length)
    throw problems.badRequest(
      'Values are missing for variables the template uses.',
      missing.map((v) => ({ path: `body.variables.${v}`, message: 'required by the template' })),
    );
  const rendered = renderTemplate(template, values);
  await deps.events.recordAccess([deps.events.make(caller, 'records.template.rendered', { templateId: id, patientId }, patientId)]);
  return rendered;
}
