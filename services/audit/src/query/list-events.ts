// Admin queries over the tenant's log: by patient, actor, event type and time, in log
// order (or newest first), paginated with the platform's opaque cursor (paging.ts; the
// position is the log sequence number). Support-mode activity (actor.kind "support") is
// marked `support: true`.
import { decodeCursor, pageOf, problems } from '@praxis/platform';
import type { AuditLogRepository, EntryDoc } from '../log/model';

export interface ListQuery {
  patientId?: string;
  actorId?: string;
  type?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
  order: 'asc' | 'desc';
}

export interface AuditItem {
  seq: number;
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  actor: EntryDoc['event']['actor'];
  subject?: EntryDoc['event']['subject'];
  correlationId: string;
  data: Record<string, unknown>;
  hash: string;
  prevHash: string;
  support: boolean;
}

/** The log position a cursor stands for; 400 when it is not a sequence number. */
function seqOf(cursor: string | undefined): number | undefined {
  const position = decodeCursor(cursor);
  if (position === undefined) return undefined;
  if (!/^\d{1,15}$/.test(position))
    throw problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this list' }]);
  return Number(position);
}

export function toItem(d: Pick<EntryDoc, 'seq' | 'hash' | 'prevHash' | 'event'>): AuditItem {
  const e = d.event;
  return {
    seq: d.seq,
    id: e.id,
    type: e.type,
    version: e.version,
    occurredAt: e.occurredAt,
    actor: e.actor,
    ...(e.subject ? { subject: e.subject } : {}),
    correlationId: e.correlationId,
    data: e.data,
    hash: d.hash,
    prevHash: d.prevHash,
    support: e.actor.kind === 'support',
  };
}

export async function listAuditEvents(
  log: AuditLogRepository,
  tenantId: string,
  q: ListQuery,
): Promise<{ items: AuditItem[]; next?: string }> {
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from > to) throw problems.badRequest('`from` is after `to`.');
  const order = q.order === 'desc' ? -1 : 1;
  const at = seqOf(q.cursor);
  const docs = await log.find(
    tenantId,
    {
      ...(q.patientId ? { patientId: q.patientId } : {}),
      ...(q.actorId ? { actorId: q.actorId } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(at !== undefined ? (order === 1 ? { afterSeq: at } : { beforeSeq: at }) : {}),
    },
    q.limit + 1,
    order,
  );
  const page = pageOf(docs, q.limit, (d) => d.seq);
  return { ...page, items: page.items.map(toItem) };
}
