// Consent's internal export route (role `service`, `internal:subject-data`), like every
// participant's; consent itself collates in-process, this serves other callers and tests.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { idParam } from '../common/http';
import { requirePatient } from '../patients/use-cases';
import type { PreferenceDeps } from '../preferences/use-cases';
import { exportOwnPart } from './use-cases';

export function subjectDataRoutes(api: ApiRouter, deps: PreferenceDeps): void {
  api.route(
    {
      method: 'get',
      path: '/internal/patients/:id/export',
      summary: 'Everything consent holds about one patient: preferences with history, codes, notices (Art. 15)',
      tags: ['subject-data'],
      internal: true,
      auth: { permission: 'internal:subject-data' },
      params: z.strictObject({ id: idParam }),
      query: z.strictObject({ requestId: idParam.optional() }),
      errors: { 404: 'No such patient in this practice' },
    },
    async ({ auth, params }) => {
      await requirePatient(deps.patients, auth.tenantId, params.id);
      return exportOwnPart(deps, auth.tenantId, params.id);
    },
  );
}
