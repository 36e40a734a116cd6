// Admin queries over the tenant's log: by patient, actor, event type and time, in log
// order (or newest first), paginated with an opaque cursor. Support-mode activity
// (actor.kind "support") is marked `support: true`.
import { problems } from '@praxis/platform';
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

const encodeCursor = (seq: number) => Buffer.from(`s${seq}`).toString('base64url');
function decodeCursor(c: string): number {
  const m = /^s(\d{1,15})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this endpoint' }]);
  return Number(m[1]);
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
  const at = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
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
  const page = docs.slice(0, q.limit);
  return { items: page.map(toItem), ...(docs.length > q.limit ? { next: encodeCursor(page[page.length - 1]!.seq) } : {}) };
}
