// Internal, service-authenticated route (role `service`, permission
// `internal:subject-data`): the patient's access log for a subject access export.
// Documented in the OpenAPI, never routed by the gateway.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import type { AuditLogRepository } from '../log/model';
import { exportAccessLog } from './export-access-log';

const id = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/);

export function subjectDataRoutes(api: ApiRouter, log: AuditLogRepository): void {
  api.route(
    {
      method: 'get',
      path: '/internal/patients/:id/export',
      summary: 'The access log of one patient, in log order (subject access, Art. 15)',
      tags: ['subject-data'],
      internal: true,
      auth: { permission: 'internal:subject-data' },
      params: z.strictObject({ id }),
      query: z.strictObject({ requestId: id.optional() }),
    },
    ({ auth, params, query }) => exportAccessLog(log, auth.tenantId, params.id, query.requestId),
  );
}
