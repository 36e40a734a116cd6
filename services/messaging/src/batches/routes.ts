// Batch routes (staff with `message:send`): start, progress and per-status counts, cancel.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { templateVariables } from '../messages/schemas';
import { type BatchDeps, MAX_BATCH, cancelBatch, startBatch, viewBatch } from './use-cases';

const batchResponse = z.object({
  id: z.string(),
  status: z.enum(['running', 'completed', 'cancelled']),
  channel: z.enum(['sms', 'email']),
  templateId: z.string(),
  total: z.number(),
  queued: z.number(),
  sent: z.number(),
  delivered: z.number(),
  failed: z.number(),
  blocked: z.number(),
  createdAt: z.string(),
});

export function batchRoutes(api: ApiRouter, deps: BatchDeps): void {
  const tags = ['message-batches'];
  const params = z.strictObject({ id: idParam });
  api.route(
    {
      method: 'post',
      path: '/message-batches',
      summary: `Send a template to up to ${MAX_BATCH} patients; each patient's consent and credit are checked as their message is queued`,
      tags,
      auth: { permission: 'message:send' },
      body: z.strictObject({
        channel: z.enum(['sms', 'email']),
        templateId: idParam,
        patientIds: z.array(idParam).min(1).max(MAX_BATCH),
        variables: templateVariables.optional(),
      }),
      status: 202,
      response: z.object({ id: z.string(), status: z.literal('running'), total: z.number() }),
    },
    ({ auth, body }) => startBatch(deps, callerOf(auth), body),
  );
  api.route(
    {
      method: 'get',
      path: '/message-batches/:id',
      summary: 'Progress of a batch: how many messages are queued, sent, delivered, failed or blocked',
      tags,
      auth: { permission: 'message:read' },
      params,
      response: batchResponse,
      errors: { 404: 'No such batch in this practice' },
    },
    ({ auth, params: p }) => viewBatch(deps, callerOf(auth), p.id),
  );
  api.route(
    {
      method: 'post',
      path: '/message-batches/:id/cancel',
      summary: 'Cancel a running batch: nothing more is queued and queued messages are not sent',
      tags,
      auth: { permission: 'message:send' },
      params,
      response: batchResponse,
      errors: { 404: 'No such batch in this practice', 409: 'Already completed' },
    },
    ({ auth, params: p }) => cancelBatch(deps, callerOf(auth), p.id),
  );
}
