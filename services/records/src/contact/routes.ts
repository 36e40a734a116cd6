// Internal, service-authenticated routes for messaging (role `service`, permission
// `internal:patient-contact`; documented in the OpenAPI, not routed by the gateway): a
// patient's contact details, and a template rendered for a patient. Both are accesses to
// the record and are recorded (`records.patient.viewed`, `records.template.rendered`) with
// the calling service as the actor before the answer.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import type { Caller } from '../common/caller';
import { idParam } from '../common/http';
import { flattenVariables, templateVariablesBody } from '../templates/schemas';
import { type ContactDeps, patientContact, renderForService } from './use-cases';

/** A service acts on every patient of the practice (real and test), never as an author. */
function serviceCaller(auth: { tenantId: string; actor: Caller['actor'] }): Caller {
  return { tenantId: auth.tenantId, actor: auth.actor, testOnly: false, writesReal: false, authorId: auth.actor.id };
}

export function contactRoutes(api: ApiRouter, deps: ContactDeps): void {
  const tags = ['internal'];
  api.route(
    {
      method: 'get',
      path: '/internal/patients/:id/contact',
      summary: "A patient's contact details and pseudonymous ref, for messaging (recorded as `records.patient.viewed`)",
      tags,
      internal: true,
      auth: { permission: 'internal:patient-contact' },
      params: z.strictObject({ id: idParam }),
      response: z.object({
        patientId: z.string(),
        ref: z.string(),
        email: z.string().optional(),
        mobile: z.string().optional(),
        test: z.boolean(),
      }),
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params }) => patientContact(deps, serviceCaller(auth), params.id),
  );
  api.route(
    {
      method: 'post',
      path: '/internal/templates/:id/render',
      summary: 'Render a template for a patient, for messaging: `{ channel, subject?, body }`, values escaped for the channel',
      tags,
      internal: true,
      auth: { permission: 'internal:patient-contact' },
      params: z.strictObject({ id: idParam }),
      body: z.strictObject({ patientId: idParam, variables: templateVariablesBody.optional() }),
      response: z.object({ channel: z.enum(['sms', 'email']), subject: z.string().optional(), body: z.string() }),
      errors: { 404: 'No such template or patient in this practice' },
    },
    ({ auth, params, body }) => renderForService(deps, serviceCaller(auth), params.id, body.patientId, flattenVariables(body.variables)),
  );
}
