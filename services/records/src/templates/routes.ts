// Template routes: creating needs `template:manage` (admins), reading and rendering
// `template:render` (staff). Rendering for a patient follows the patient rules (support
// with scope `settings` renders for test patients only).
import { type ApiRouter, humanText, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { flattenVariables, templateVariablesBody } from './schemas';
import { createTemplate, getTemplate, listTemplates, renderForPatient } from './use-cases';

const templateResponse = z.object({
  id: z.string(),
  name: z.string(),
  channel: z.enum(['sms', 'email']),
  subject: z.string().optional(),
  body: z.string(),
  variables: z.array(z.string()),
  warnings: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.string(),
});

export function templateRoutes(api: ApiRouter, deps: Parameters<typeof createTemplate>[0]): void {
  const tags = ['templates'];
  api.route(
    {
      method: 'post',
      path: '/templates',
      summary: 'Create a message template; `warnings` lists identifying variables it uses',
      tags,
      auth: { permission: 'template:manage' },
      body: z.strictObject({
        name: humanText({ max: 200 }),
        channel: z.enum(['sms', 'email']),
        subject: z.string().min(1).max(300).optional(),
        body: z.string().min(1).max(20_000),
      }),
      status: 201,
      response: templateResponse,
    },
    ({ auth, body }) => createTemplate(deps, callerOf(auth), body),
  );
  api.route(
    {
      method: 'get',
      path: '/templates',
      summary: "The practice's templates",
      tags,
      auth: { permission: 'template:render' },
      query: z.strictObject(pageQuery),
      response: z.object({ items: z.array(templateResponse), next: z.string().optional() }),
    },
    ({ auth, query }) => listTemplates(deps, callerOf(auth), query),
  );
  api.route(
    {
      method: 'get',
      path: '/templates/:id',
      summary: 'One template',
      tags,
      auth: { permission: 'template:render' },
      params: z.strictObject({ id: idParam }),
      response: templateResponse,
      errors: { 404: 'No such template in this practice' },
    },
    ({ auth, params }) => getTemplate(deps, callerOf(auth), params.id),
  );
  api.route(
    {
      method: 'post',
      path: '/templates/:id/render',
      summary: 'Render a template for a patient (`{{patient.ref}}` is the pseudonymous reference); values are escaped for the channel',
      tags,
      auth: { permission: 'template:render' },
      params: z.strictObject({ id: idParam }),
      body: z.strictObject({ patientId: idParam, variables: templateVariablesBody.optional() }),
      response: z.object({ subject: z.string().optional(), body: z.string() }),
      errors: { 404: 'No such template or patient in this practice' },
    },
    ({ auth, params, body }) => renderForPatient(deps, callerOf(auth), params.id, body.patientId, flattenVariables(body.variables)),
  );
}
