// Per-request (or per-message) context: request id, trace parent and tenant, carried by
// AsyncLocalStorage so logs, outgoing calls and published events pick them up.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pooledRandomBytes } from './ids';

export interface RequestContext {
  requestId: string;
  /** W3C traceparent of the current operation. */
  traceparent: string;
  tenantId?: string;
  actorId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Attach tenant and actor once the caller's token has been verified. */
export function setContextIdentity(tenantId: string, actorId: string): void {
  const ctx = storage.getStore();
  if (ctx) {
    ctx.tenantId = tenantId;
    ctx.actorId = actorId;
  }
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = traceparentPattern.exec(value.trim());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]! };
}

/** A child traceparent continuing the incoming trace, or a new trace when there is none. */
export function childTraceparent(incoming?: unknown): string {
  const parent = parseTraceparent(incoming);
  const traceId = parent?.traceId ?? pooledRandomBytes(16).toString('hex');
  return `00-${traceId}-${pooledRandomBytes(8).toString('hex')}-01`;
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}
