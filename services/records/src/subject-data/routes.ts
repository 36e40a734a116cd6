// Internal, service-authenticated routes (role `service`, permission
// `internal:subject-data`); documented in the OpenAPI but not routed by the gateway.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { idParam } from '../common/http';
import { type SubjectDataDeps, erasePatient, exportPatient, newErasureId } from './use-cases';

export function subjectDataRoutes(api: ApiRouter, deps: SubjectDataDeps): void {
  const tags = ['subject-data'];
  const params = z.strictObject({ id: idParam });
  api.route(
    {
      method: 'get',
      path: '/internal/patients/:id/export',
      summary:
        'Everything records holds about one patient: demographics and every note with its full history (Art. 15); streamed as it is decrypted',
      tags,
      internal: true,
      auth: { permission: 'internal:subject-data' },
      params,
      query: z.strictObject({ requestId: idParam.optional() }),
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params: p, query, res }) => exportPatient(deps, auth.tenantId, auth.actor, p.id, query.requestId, res),
  );
  api.route(
    {
      method: 'post',
      path: '/internal/patients/:id/erasure',
      summary:
        "Erase a patient (Art. 17): destroy the patient's data key, delete the documents, publish `records.patient.erased` (counts only). Idempotent on `erasureId`.",
      tags,
      internal: true,
      auth: { permission: 'internal:subject-data' },
      params,
      body: z.strictObject({ erasureId: idParam.optional() }),
      response: z.object({
        erasureId: z.string(),
        patientId: z.string(),
        status: z.literal('completed'),
        notes: z.number(),
        documents: z.number(),
      }),
      errors: { 404: 'No such patient in this practice', 409: 'The erasure id was used for another patient' },
    },
    ({ auth, params: p, body }) =>
      erasePatient(deps, auth.tenantId, auth.actor, p.id, body.erasureId ?? newErasureId(), { requireKnown: true }),
  );
}
