// Forwarding one request to its service: streamed both ways (the body is never parsed
// here), hop-by-hop headers dropped, request id, trace context and the client address
// passed on, the body capped at the size limit while it streams, and every upstream
// failure turned into a quick 503 or 504 problem instead of a hang.
import { type Logger, type Metrics, OUTCOME_UNKNOWN, ProblemError, currentContext, problems } from '@praxis/platform';
import type { Request, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import type { Upstream } from './upstreams';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'http2-settings',
]);
/** Set by the gateway itself; whatever the client sent is replaced. */
const gatewayOwnedRequestHeaders = new Set([
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'x-request-id',
  'traceparent',
  'x-real-ip',
]);

class BodyTooLargeError extends Error {
  constructor() {
    super('request body over the limit');
    this.name = 'BodyTooLargeError';
  }
}

/** Counts bytes as they stream and fails once the limit is passed. */
class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(new BodyTooLargeError());
    else cb(null, chunk);
  }
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const c = headers.connection;
  return new Set(
    typeof c === 'string'
      ? c
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean)
      : [],
  );
}

function upstreamRequestHeaders(req: Request): Record<string, string | string[]> {
  const extraHop = connectionTokens(req.headers);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || hopByHop.has(k) || extraHop.has(k) || gatewayOwnedRequestHeaders.has(k)) continue;
    out[k] = v;
  }
  const ctx = currentContext();
  if (ctx) {
    out['x-request-id'] = ctx.requestId;
    out['traceparent'] = ctx.traceparent;
  }
  // The client as the gateway determined it (under its trust-proxy policy), never a
  // chain the client made up.
  out['x-forwarded-for'] = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  out['x-forwarded-proto'] = req.protocol;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  return out;
}

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

// Failures before the request reached the service: nothing was done there.
const NOT_SENT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * 503 when the service was not reached (or a read failed: nothing changed, try again);
 * 504 when a change was sent and its answer is lost (timed out, or the service's connection
 * broke): it may have been made (docs/platform.md).
 */
function classifyFailure(err: unknown, method: string): { problem: ProblemError; reason: string } {
  const code = (err as { code?: string }).code ?? '';
  if (err instanceof BodyTooLargeError) return { problem: problems.payloadTooLarge(), reason: 'body-too-large' };
  const reason = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : code ? code.toLowerCase() : 'error';
  if (!NOT_SENT.has(code) && !SAFE_METHODS.has(method)) return { problem: problems.timeout(OUTCOME_UNKNOWN), reason };
  if (reason === 'timeout') return { problem: problems.timeout('The service did not answer in time.'), reason };
  return { problem: problems.unavailable('The service is not reachable right now.'), reason };
}

export interface ForwardOptions {
  upstream: Upstream;
  bodyLimitBytes: number;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Forward `req` to the upstream with the same path and query. Resolves once the response
 * has been handed over (or the failure answered); never rejects.
 */
/** The proxy's metrics, made once per registry rather than looked up on every request. */
interface ProxyMetrics {
  duration: ReturnType<Metrics['histogram']>;
  failures: ReturnType<Metrics['counter']>;
}
const proxyMetrics = new WeakMap<Metrics, ProxyMetrics>();
function metricsOf(metrics: Metrics): ProxyMetrics {
  let m = proxyMetrics.get(metrics);
  if (!m) {
    m = {
      duration: metrics.histogram(
        'gateway_upstream_duration_seconds',
        'Time until an upstream answered (headers)',
        ['upstream', 'status'],
        [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ),
      failures: metrics.counter('gateway_upstream_failures_total', 'Upstream requests that failed before an answer', [
        'upstream',
        'reason',
      ]),
    };
    proxyMetrics.set(metrics, m);
  }
  return m;
}

export async function forward(req: Request, res: Response, opts: ForwardOptions): Promise<void> {
  const { upstream } = opts;
  const { duration: upstreamDuration, failures: upstreamFailures } = metricsOf(opts.metrics);

  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > opts.bodyLimitBytes) {
    res.setHeader('Connection', 'close');
    throw problems.payloadTooLarge();
  }

  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClientGone);

  let body: BodyLimit | null = null;
  if (hasBody(req)) {
    body = new BodyLimit(opts.bodyLimitBytes);
    req.pipe(body);
    req.once('error', (err) => body?.destroy(err));
  }

  const started = process.hrtime.bigint();
  let upstreamRes;
  try {
    upstreamRes = await upstream.pool.request({
      path: req.originalUrl,
      method: req.method as 'GET',
      headers: upstreamRequestHeaders(req),
      body,
      signal: abort.signal,
    });
  } catch (err) {
    if (abort.signal.aborted) return; // the client left; nobody to answer
    const { problem, reason } = classifyFailure(err, req.method);
    upstreamFailures.inc({ upstream: upstream.name, reason });
    if (reason !== 'body-too-large') opts.logger.warn({ upstream: upstream.name, reason }, 'upstream request failed');
    else res.setHeader('Connection', 'close');
    throw problem;
  }
  upstreamDuration.observe(
    { upstream: upstream.name, status: String(upstreamRes.statusCode) },
    Number(process.hrtime.bigint() - started) / 1e9,
  );

  const extraHop = new Set<string>();
  const conn = upstreamRes.headers.connection;
  if (typeof conn === 'string') for (const t of conn.split(',')) extraHop.add(t.trim().toLowerCase());
  res.status(upstreamRes.statusCode);
  for (const [k, v] of Object.entries(upstreamRes.headers)) {
    if (v === undefined || hopByHop.has(k) || extraHop.has(k) || k.startsWith('access-control-') || k === 'x-request-id') continue;
    res.setHeader(k, v);
  }
  // Piped by hand rather than with stream.pipeline, which makes an AbortController per
  // call and aborts it (a DOMException with a stack trace) at the end of every response:
  // 3 % of the gateway's CPU in the profile. The same outcomes: a body that breaks off
  // cuts the client's response; a client that leaves stops the upstream body.
  const answer = upstreamRes.body;
  await new Promise<void>((resolve) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      // The body's error listener stays: a late error must not become an uncaught one.
      res.off('finish', onFinish);
      res.off('close', onClose);
      res.off('close', onClientGone);
      if (err && !abort.signal.aborted) {
        upstreamFailures.inc({ upstream: upstream.name, reason: 'response-stream' });
        opts.logger.warn({ upstream: upstream.name, reason: (err as { code?: string }).code ?? 'stream' }, 'upstream response broke off');
      }
      resolve();
    };
    const onBodyError = (err: Error) => {
      if (settled) return;
      answer.unpipe(res);
      res.destroy(err);
      settle(err);
    };
    const onFinish = () => settle();
    const onClose = () => {
      if (res.writableFinished) return settle();
      answer.unpipe(res);
      answer.destroy();
      settle(Object.assign(new Error('client closed the response early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    answer.on('error', onBodyError);
    res.once('finish', onFinish);
    res.once('close', onClose);
    answer.pipe(res);
  });
}
