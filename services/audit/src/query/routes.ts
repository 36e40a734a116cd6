// GET /audit/events: the admin's view of the practice's log.
import { eventTypePattern } from '@praxis/contracts';
import { type ApiRouter, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import type { AuditLogRepository } from '../log/model';
import { listAuditEvents } from './list-events';

const id = z.string().min(1).max(200);

export const listQuerySchema = z.strictObject({
  patientId: id.optional(),
  actorId: id.optional(),
  type: z.string().regex(eventTypePattern).max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  ...pageQuery,
  order: z.enum(['asc', 'desc']).default('asc'),
});

const itemSchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  type: z.string(),
  version: z.number().int(),
  occurredAt: z.string(),
  actor: z.object({ kind: z.string(), id: z.string(), onBehalfOf: z.string().optional() }),
  subject: z.object({ patientId: z.string().optional() }).optional(),
  correlationId: z.string(),
  data: z.record(z.string(), z.unknown()),
  hash: z.string(),
  prevHash: z.string(),
  support: z.boolean().describe('true for activity in a support-mode session'),
});

export function queryRoutes(api: ApiRouter, log: AuditLogRepository): void {
  api.route(
    {
      method: 'get',
      path: '/audit/events',
      summary: 'Search the practice’s audit log by patient, actor, event type and time (log order; `order=desc` for newest first)',
      tags: ['audit'],
      auth: { permission: 'audit:read' },
      query: listQuerySchema,
      response: z.object({ items: z.array(itemSchema), next: z.string().optional() }),
    },
    ({ auth, query }) => listAuditEvents(log, auth.tenantId, query),
  );
}
