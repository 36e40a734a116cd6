// Erasure routes (admins only, `dsr:manage`).
import { type ApiRouter, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam, text } from '../common/http';
import { type ErasureDeps, listErasures, openErasure, readErasure } from './use-cases';

const view = z.object({
  id: z.string(),
  patientId: z.string(),
  status: z.enum(['pending', 'completed', 'failed']),
  services: z.record(z.string(), z.enum(['pending', 'erased'])),
  counts: z.record(z.string(), z.record(z.string(), z.number())),
  createdAt: z.string(),
  deadlineAt: z.string(),
  completedAt: z.string().optional(),
  failedAt: z.string().optional(),
  missing: z.array(z.string()).optional(),
});

export function erasureRoutes(api: ApiRouter, deps: ErasureDeps): void {
  const tags = ['erasure'];
  api.route(
    {
      method: 'post',
      path: '/erasure-requests',
      summary: 'Erase a patient everywhere (Art. 17): every service crypto-shreds and deletes its part; follow it with GET',
      tags,
      auth: { permission: 'dsr:manage' },
      body: z.strictObject({ patientId: idParam, reason: text(1000) }),
      status: 202,
      response: view,
      errors: { 404: 'No such patient in this practice', 409: 'A subject access request for the patient is pending' },
    },
    ({ auth, body }) => openErasure(deps, callerOf(auth), body),
  );
  api.route(
    {
      method: 'get',
      path: '/erasure-requests',
      summary: 'The practice’s erasure requests, newest first; `next` is the cursor of the following page',
      tags,
      auth: { permission: 'dsr:manage' },
      query: z.strictObject(pageQuery),
      response: z.object({ items: z.array(view), next: z.string().optional() }),
    },
    ({ auth, query }) => listErasures(deps, callerOf(auth), query),
  );
  api.route(
    {
      method: 'get',
      path: '/erasure-requests/:id',
      summary: 'An erasure’s status, per participating service',
      tags,
      auth: { permission: 'dsr:manage' },
      params: z.strictObject({ id: idParam }),
      response: view,
      errors: { 404: 'No such erasure request in this practice' },
    },
    ({ auth, params }) => readErasure(deps, callerOf(auth), params.id),
  );
}
