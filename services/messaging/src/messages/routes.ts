// Message routes: thin (parse → use-case → shape). Staff with `message:send` queue
// messages (202: the worker sends them); `message:read` lists a patient's history.
import { type ApiRouter, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { templateVariables } from './schemas';
import { type MessageDeps, getMessage, listMessages, queueMessage } from './use-cases';

export const messageResponse = z.object({
  id: z.string(),
  patientId: z.string(),
  channel: z.enum(['sms', 'email']),
  status: z.enum(['queued', 'sent', 'delivered', 'failed', 'blocked']),
  reason: z.string().optional(),
  provider: z.string().optional(),
  attempts: z.number(),
  segments: z.number().optional(),
  templateId: z.string().optional(),
  batchId: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().optional(),
  deliveredAt: z.string().optional(),
  failedAt: z.string().optional(),
});

export function messageRoutes(api: ApiRouter, deps: MessageDeps): void {
  const tags = ['messages'];
  api.route(
    {
      method: 'post',
      path: '/messages',
      summary: 'Queue an SMS or email to a patient, from a template (`templateId`) or a `body`; sent by the worker, never in the request',
      tags,
      auth: { permission: 'message:send' },
      body: z.strictObject({
        patientId: idParam,
        channel: z.enum(['sms', 'email']),
        templateId: idParam.optional(),
        subject: z.string().trim().min(1).max(300).optional(),
        body: z.string().min(1).max(20_000).optional(),
        variables: templateVariables.optional(),
      }),
      status: 202,
      response: z.object({ id: z.string(), status: z.literal('queued') }),
      errors: {
        402: 'Not enough SMS credit',
        404: 'No such patient or template in this practice',
        422: 'The patient opted out of this channel (`urn:praxis:problem:opted-out`) or has no contact for it',
      },
    },
    ({ auth, body }) => queueMessage(deps, callerOf(auth), body),
  );
  api.route(
    {
      method: 'get',
      path: '/messages',
      summary: "A patient's messages, newest first",
      tags,
      auth: { permission: 'message:read' },
      query: z.strictObject({ patientId: idParam, ...pageQuery }),
      response: z.object({ items: z.array(messageResponse), next: z.string().optional() }),
    },
    ({ auth, query }) => listMessages(deps, callerOf(auth), query),
  );
  api.route(
    {
      method: 'get',
      path: '/messages/:id',
      summary: 'One message: status, provider, attempts and times (never its text)',
      tags,
      auth: { permission: 'message:read' },
      params: z.strictObject({ id: idParam }),
      response: messageResponse,
      errors: { 404: 'No such message in this practice' },
    },
    ({ auth, params }) => getMessage(deps, callerOf(auth), params.id),
  );
}
