// Internal, service-authenticated route (role `service`, permission `internal:subject-data`):
// messaging's part of a subject access request. Documented in the OpenAPI, not routed by the gateway.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { idParam } from '../common/http';
import { type SubjectDataDeps, exportPatient } from './use-cases';

export function subjectDataRoutes(api: ApiRouter, deps: SubjectDataDeps): void {
  api.route(
    {
      method: 'get',
      path: '/internal/patients/:id/export',
      summary: 'Every message and direct message held about one patient, decrypted (Art. 15)',
      tags: ['subject-data'],
      internal: true,
      auth: { permission: 'internal:subject-data' },
      params: z.strictObject({ id: idParam }),
      query: z.strictObject({ requestId: idParam.optional() }),
    },
    ({ auth, params, query }) => exportPatient(deps, auth.tenantId, auth.actor, params.id, query.requestId),
  );
}
