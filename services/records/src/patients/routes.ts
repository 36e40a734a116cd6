// Patient routes: thin (parse → use-case → shape). The gate is the minimal permission
// (`patient:read-test` / `patient:write-test`, which every staff role has too); callers
// without `patient:read` / `patient:write` are confined to test patients by the use-cases.
import { type ApiRouter, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { patientCreateBody, patientPatchBody, patientResponse } from './schemas';
import { type PatientDeps, changePatient, createPatient, searchPatients, viewPatient } from './use-cases';

export function patientRoutes(api: ApiRouter, deps: PatientDeps): void {
  const tags = ['patients'];
  const params = z.strictObject({ id: idParam });

  api.route(
    {
      method: 'post',
      path: '/patients',
      summary: 'Create a patient (support with scope `settings`: test patients only; `test: false` is 403)',
      tags,
      auth: { permission: 'patient:write-test' },
      body: patientCreateBody,
      status: 201,
      response: patientResponse,
    },
    ({ auth, body }) => createPatient(deps, callerOf(auth), body),
  );

  api.route(
    {
      method: 'get',
      path: '/patients',
      summary:
        'List or search patients by `ref` (check character validated: a wrong one is 400) or `familyName` (exact, case- and accent-insensitive)',
      tags,
      auth: { permission: 'patient:read-test' },
      query: z.strictObject({
        ref: z.string().min(1).max(40).optional(),
        familyName: z.string().trim().min(1).max(100).optional(),
        ...pageQuery,
      }),
      response: z.object({ items: z.array(patientResponse), next: z.string().optional() }),
    },
    ({ auth, query }) => searchPatients(deps, callerOf(auth), query),
  );

  api.route(
    {
      method: 'get',
      path: '/patients/:id',
      summary: 'Read a patient (the view is recorded as `records.patient.viewed` before the answer)',
      tags,
      auth: { permission: 'patient:read-test' },
      params,
      response: patientResponse,
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params: p }) => viewPatient(deps, callerOf(auth), p.id),
  );

  api.route(
    {
      method: 'patch',
      path: '/patients/:id',
      summary: 'Change demographics (null removes email, mobile or address)',
      tags,
      auth: { permission: 'patient:write-test' },
      params,
      body: patientPatchBody,
      response: patientResponse,
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params: p, body }) => changePatient(deps, callerOf(auth), p.id, body),
  );
}
