// The access log's own line writer: one JSON line per request in the same shape (and to
// the same destination) as the logger's lines, built by hand. pino's generic path (hooks,
// the context mixin, the redaction walk over every field, its serialiser) was a tenth of
// the gateway's CPU per request in the profile (docs/performance.md). Only fields that
// cannot carry identifying data go in: the method (Node's parser accepts known methods
// only), the route class (static words of the route table and `:id`), the upstream's
// name, status, milliseconds, the trace id (hex), the tenant id (from a verified token),
// and the request id, which passes through the central string redaction when the client
// chose it (a generated UUID needs none).
import { type Logger, type RequestContext, loggerDestination, scrubString, traceIdOf } from '@praxis/platform';

export interface AccessEntry {
  method: string;
  route: string;
  upstream?: string;
  status: number;
  ms: number;
}

export type AccessLog = (ctx: RequestContext | undefined, clientChoseRequestId: boolean, entry: AccessEntry) => void;

export function accessLog(logger: Logger): AccessLog {
  const out = loggerDestination(logger);
  // `"service":"gateway","name":"gateway"`: the logger's own bindings, once.
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const head = `{"level":"info","time":"`;
  const afterTime = bindings ? `",${bindings}` : '"';
  return (ctx, clientChoseRequestId, e) => {
    if (!logger.isLevelEnabled('info')) return;
    let line = head + new Date().toISOString() + afterTime;
    if (ctx) {
      line += `,"requestId":${JSON.stringify(clientChoseRequestId ? scrubString(ctx.requestId) : ctx.requestId)}`;
      const traceId = traceIdOf(ctx.traceparent);
      if (traceId) line += `,"traceId":"${traceId}"`;
      if (ctx.tenantId) line += `,"tenantId":${JSON.stringify(ctx.tenantId)}`;
    }
    line += `,"http":{"method":${JSON.stringify(e.method)},"route":${JSON.stringify(e.route)}`;
    if (e.upstream) line += `,"upstream":${JSON.stringify(e.upstream)}`;
    line += `,"status":${e.status},"ms":${e.ms}},"msg":"request"}\n`;
    out.write(line);
  };
}
