// Subject access routes (admins only, `dsr:manage`).
import { type ApiRouter, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import type { SarDoc } from './model';
import {
  type SubjectAccessDeps,
  downloadExport,
  listSubjectAccessRequests,
  openSubjectAccessRequest,
  readSubjectAccessRequest,
} from './use-cases';

const view = z.object({
  id: z.string(),
  patientId: z.string(),
  status: z.enum(['pending', 'completed', 'failed']),
  dueAt: z.string(),
  createdAt: z.string(),
  completedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  expired: z.literal(true).optional(),
  failedParticipant: z.string().optional().describe('The participant that did not answer (status failed)'),
  failureReason: z.string().optional().describe('Why it failed: the participant’s last answer and how long it was retried (status failed)'),
  retrying: z
    .object({
      participant: z.string(),
      reason: z.string().describe('unreachable, timeout, status NNN, broke off mid-answer or answered for another service'),
      since: z.string().describe('The first failure'),
      attempts: z.number().int(),
      nextAttemptAt: z.string(),
    })
    .optional()
    .describe('Status pending: a participant failed and is asked again until SAR_RETRY_WINDOW_S after its first failure'),
  participants: z.array(z.string()),
});

export function subjectAccessRoutes(api: ApiRouter, deps: SubjectAccessDeps, collate: (r: SarDoc) => void): void {
  const tags = ['subject-access'];
  const params = z.strictObject({ id: idParam });
  api.route(
    {
      method: 'post',
      path: '/subject-access-requests',
      summary: 'Open a subject access request (Art. 15), due in 30 days; collated from every service in the background',
      tags,
      auth: { permission: 'dsr:manage' },
      body: z.strictObject({ patientId: idParam }),
      status: 201,
      response: view,
      errors: { 404: 'No such patient in this practice', 409: 'The patient is being erased' },
    },
    ({ auth, body }) => openSubjectAccessRequest(deps, callerOf(auth), body.patientId, collate),
  );
  api.route(
    {
      method: 'get',
      path: '/subject-access-requests',
      summary: 'The practice’s subject access requests, newest first; `next` is the cursor of the following page',
      tags,
      auth: { permission: 'dsr:manage' },
      query: z.strictObject({ patientId: idParam.optional(), ...pageQuery }),
      response: z.object({ items: z.array(view), next: z.string().optional() }),
    },
    ({ auth, query }) => listSubjectAccessRequests(deps, callerOf(auth), query),
  );
  api.route(
    {
      method: 'get',
      path: '/subject-access-requests/:id',
      summary: 'A subject access request’s status',
      tags,
      auth: { permission: 'dsr:manage' },
      params,
      response: view,
      errors: { 404: 'No such request in this practice' },
    },
    ({ auth, params: p }) => readSubjectAccessRequest(deps, callerOf(auth), p.id),
  );
  api.route(
    {
      method: 'get',
      path: '/subject-access-requests/:id/export',
      summary:
        'The export: `{ patient, notes, consent, messages, accessLog, generatedAt }`, or a FHIR R4 Bundle (type collection) with `?format=fhir`; streamed (chunked transfer) as it is decrypted',
      tags,
      auth: { permission: 'dsr:manage' },
      params,
      query: z.strictObject({ format: z.enum(['json', 'fhir']).default('json') }),
      errors: { 404: 'No such request in this practice', 409: 'Not completed (pending or failed)', 410: 'The export has expired (7 days)' },
    },
    ({ auth, params: p, query, res }) => downloadExport(deps, callerOf(auth), p.id, query.format, res),
  );
}
