// JSON logging (pino) with request, trace and tenant ids from the request context, and
// every line passed through the central redaction list.
import pino, { type Logger } from 'pino';
import { currentContext, traceIdOf } from './context';
import { redact, scrubString } from './redact';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; tests pass a stream to read them. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.service,
      level: opts.level ?? 'info',
      base: { service: opts.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      mixin() {
        const ctx = currentContext();
        if (!ctx) return {};
        return { requestId: ctx.requestId, traceId: traceIdOf(ctx.traceparent), tenantId: ctx.tenantId };
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      serializers: { err: (e: unknown) => redact(e) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubString(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    opts.destination,
  );
}

/**
 * Where a logger's lines go, for a caller that writes one fixed-shape line per request
 * itself (the gateway's access log) instead of paying for pino's generic path. Such a
 * caller owns the line's redaction: it may write only fields it knows carry no
 * identifying data, and must check `logger.isLevelEnabled` first.
 */
export function loggerDestination(logger: Logger): { write(line: string): unknown } {
  const out = (logger as unknown as Record<symbol, { write(line: string): unknown } | undefined>)[pino.symbols.streamSym];
  if (!out) throw new Error('this logger has no destination stream');
  return out;
}
