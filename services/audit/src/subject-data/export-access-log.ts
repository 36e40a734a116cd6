// Audit's part of a subject access request (Art. 15): the access log of one patient — who
// read their record (views, exports, renders, downloads) and when, in log order. Changes
// are in the other services' parts (every note version, the consent history). Read page
// by page on the (tenantId, patientId, seq) index, the database leaving out every entry
// that is not an access (a long record's thousands of note events never leave it). Audit
// exports but never erases: the log is append-only (docs/audit.md, docs/consent.md).
import { eventDefinitions } from '@praxis/contracts';
import type { AuditLogRepository } from '../log/model';

export interface AccessLogEntry {
  seq: number;
  id: string;
  type: string;
  occurredAt: string;
  actor: { kind: string; id: string; onBehalfOf?: string };
  data: Record<string, unknown>;
}

export interface AccessLogExport {
  service: 'audit';
  patientId: string;
  requestId?: string;
  accessLog: AccessLogEntry[];
  generatedAt: string;
}

const PAGE = 1000;

/** Event types that record someone reading a patient's data. */
export const isAccess = (type: string) => /\.(viewed|exported|rendered|downloaded)$/.test(type);

/** Every such type the contracts define. */
const accessTypes = [...new Set(eventDefinitions().map((d) => d.type as string))].filter(isAccess).sort();

export async function exportAccessLog(
  log: AuditLogRepository,
  tenantId: string,
  patientId: string,
  requestId?: string,
): Promise<AccessLogExport> {
  const accessLog: AccessLogEntry[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const page = await log.find(tenantId, { patientId, types: accessTypes, ...(afterSeq !== undefined ? { afterSeq } : {}) }, PAGE, 1);
    for (const d of page) {
      if (!isAccess(d.type)) continue;
      const e = d.event;
      accessLog.push({ seq: d.seq, id: e.id, type: e.type, occurredAt: e.occurredAt, actor: e.actor, data: e.data });
    }
    if (page.length < PAGE) break;
    afterSeq = page[page.length - 1]!.seq;
  }
  return { service: 'audit', patientId, ...(requestId ? { requestId } : {}), accessLog, generatedAt: new Date().toISOString() };
}
