// The express app every service builds on: request context, security headers, metrics,
// an access log without identifying data, JSON bodies with a size limit, health and
// metrics endpoints, the service's routes, and problem+json for every error.
import { PROBLEM_CONTENT_TYPE, type Problem, problemTypes } from '@praxis/contracts';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { childTraceparent, currentContext, runWithContext } from '../context';
import { randomId, uuidv7 } from '../ids';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { isDatabaseInterrupted, isDatabaseUnreachable } from '../mongo';
import { API_PREFIX, type ApiRouter, openApiDocument } from './api-router';
import { TrustedProxies, clientIpMiddleware, trustedProxiesFromLegacy } from './client-ip';
import { jsonBodyDefect } from './json-text';
import { ProblemError, problems } from './problem';

export const requestIdPattern = /^[A-Za-z0-9._:-]{8,128}$/;

export type ReadinessCheck = () => Promise<unknown>;

export interface HttpAppOptions {
  service: string;
  version?: string;
  logger: Logger;
  metrics: Metrics;
  /** Named checks for /readyz (database, broker, Redis …); each throws when not ready. */
  readiness?: Record<string, ReadinessCheck>;
  routers?: ApiRouter[];
  bodyLimit?: string;
  /**
   * Whose X-Forwarded-For decides the client IP (`req.ip`): TRUSTED_PROXIES from the
   * service's config. Default: none, the socket's peer is the client.
   */
  trustedProxies?: TrustedProxies;
  /** Deprecated: the old express `trust proxy` value; used only when trustedProxies is not given. */
  trustProxy?: string | boolean | number;
  /**
   * A request not answered after this long gets 503 problem+json (REQUEST_TIMEOUT_MS;
   * default 8 s, below the gateway's 10 s upstream timeout). A response already started
   * (a streamed export) is left alone.
   */
  requestTimeoutMs?: number;
  /** Extra middleware or routes mounted before the API routes (e.g. JWKS). */
  configure?: (app: Express) => void;
}

export function createHttpApp(opts: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // req.ip is set by clientIpMiddleware (validated, normalised), not by express's own
  // parsing of X-Forwarded-For; the same list decides req.protocol.
  const trusted = opts.trustedProxies ?? trustedProxiesFromLegacy(opts.trustProxy);
  app.set('trust proxy', (addr: string) => trusted.trusts(addr));
  app.set('query parser', 'simple');
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const httpDuration = opts.metrics.histogram(
    'http_request_duration_seconds',
    'HTTP request latency',
    ['method', 'route', 'status'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );

  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : uuidv7();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (req.path !== '/livez' && req.path !== '/readyz' && req.path !== '/metrics') {
        // Route pattern, never the raw URL: query strings can carry names.
        opts.logger.info({ http: { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) } }, 'request');
      }
    });
    runWithContext({ requestId, traceparent: childTraceparent(req.headers.traceparent) }, next);
  });
  app.use(clientIpMiddleware(trusted));
  app.use(allowedMethods());
  app.use(requestDeadline(requestTimeoutMs, opts.logger));

  app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok', service: opts.service });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      Object.entries(opts.readiness ?? {}).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          checks[name] = 'ok';
        } catch (err) {
          ok = false;
          checks[name] = 'failing';
          opts.logger.warn({ check: name, err }, 'readiness check failed');
        }
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', service: opts.service, checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', opts.metrics.registry.contentType);
    res.send(await opts.metrics.registry.metrics());
  });
  const routers = opts.routers ?? [];
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument({ title: `Praxis ${opts.service}`, version: opts.version ?? '1.0.0' }, routers, { includeInternal: true }));
  });

  opts.configure?.(app);

  app.use(acceptedBodyEncoding());
  app.use(
    express.json({
      limit: opts.bodyLimit ?? '1mb',
      strict: true,
      type: ['application/json', 'application/*+json'],
      // The raw (decompressed) bytes, before JSON.parse: UTF-8, surrogates, duplicate keys.
      verify: (_req, _res, buf) => {
        const defect = jsonBodyDefect(buf);
        if (defect) throw problems.badRequest(defect);
      },
    }),
  );
  for (const r of routers) app.use(API_PREFIX, r.router);

  app.use((_req: Request, _res: Response, next: NextFunction) => next(problems.notFound('No such endpoint.')));
  app.use(problemErrorHandler(opts.logger));
  return app;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 8_000;

/** Methods the API answers; anything else (TRACE, CONNECT-like extensions) is 405. */
export const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const allowedMethodSet = new Set<string>(ALLOWED_METHODS);

export function allowedMethods() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(allowedMethodSet.has(req.method) ? undefined : problems.methodNotAllowed(ALLOWED_METHODS));
  };
}

/** Content-Encoding we inflate; anything else is 415 before the body is read. Charsets: UTF-8 only. */
const ACCEPTED_ENCODINGS = new Set(['identity', 'gzip', 'deflate', 'br']);

export function acceptedBodyEncoding() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const enc = req.headers['content-encoding'];
    if (enc !== undefined && !ACCEPTED_ENCODINGS.has(enc.trim().toLowerCase())) {
      next(problems.unsupportedMediaType('Content-Encoding must be one of identity, gzip, deflate, br.'));
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      next(problems.unsupportedMediaType('Bodies must be UTF-8.'));
      return;
    }
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The detail of a 504 to a change whose outcome is unknown (docs/platform.md): 503 means the
 * change was not made and may be sent again; 504 that it may still be made.
 */
export const OUTCOME_UNKNOWN = 'The change did not finish in time and may still be made: read it back before trying again.';

/**
 * Answer when the handler has not started a response within `ms`: 503 to a read or to a
 * change still arriving (nothing changed), 504 to a change under way, which goes on running
 * and may still be made.
 */
export function requestDeadline(ms: number, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      logger.warn({ http: { method: req.method, ms } }, 'request deadline passed');
      // A client still sending its body is not waited for any longer.
      if (!req.complete) res.setHeader('Connection', 'close');
      sendProblem(
        res,
        // A change whose body has not all arrived has not started either.
        SAFE_METHODS.has(req.method) || !req.complete
          ? { type: problemTypes.timeout, title: 'Service unavailable', status: 503, detail: 'The request took too long; try again.' }
          : { type: problemTypes.timeout, title: 'Gateway timeout', status: 504, detail: OUTCOME_UNKNOWN },
      );
    }, ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    res.on('finish', clear);
    res.on('close', clear);
    next();
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** Turns anything thrown into problem+json. Unknown errors become a 500 with an error id only. */
export function problemErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let problem: ProblemError;
    const e = err as { type?: string; status?: number; statusCode?: number };
    if (err instanceof ProblemError) problem = err;
    else if (e?.type === 'entity.too.large') problem = problems.payloadTooLarge();
    else if (e?.type === 'entity.parse.failed') problem = problems.badRequest('The body is not valid JSON.');
    else if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') problem = problems.unsupportedMediaType();
    else if (isDecompressionError(err)) problem = problems.badRequest('The body is not valid data for its Content-Encoding.');
    else if (clientStatus(e) === 413) problem = problems.payloadTooLarge();
    else if (clientStatus(e) === 415) problem = problems.unsupportedMediaType();
    // Any other 4xx from express or the body parser (undecodable path parameters, an
    // aborted body, …): the client's fault, answered as such.
    else if (clientStatus(e) !== undefined) problem = problems.badRequest('The request could not be read.');
    else if (isDatabaseUnreachable(err))
      problem =
        !SAFE_METHODS.has(req.method) && isDatabaseInterrupted(err)
          ? problems.timeout(OUTCOME_UNKNOWN)
          : problems.unavailable('The database cannot be reached right now; try again.');
    else {
      const errorId = randomId();
      logger.error({ err, errorId }, 'unhandled error');
      sendProblem(res, {
        type: problemTypes.internal,
        title: 'Internal error',
        status: 500,
        detail: 'Something went wrong on our side.',
        errorId,
      });
      return;
    }
    if (problem.status >= 500) logger.warn({ status: problem.status, type: problem.type }, 'request failed');
    for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
    sendProblem(res, {
      type: problem.type,
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
  };
}

function clientStatus(e: { status?: number; statusCode?: number } | undefined): number | undefined {
  const status = e?.status ?? e?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function isDecompressionError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_BROTLI') || code === 'ERR_ZLIB_INITIALIZATION_FAILED');
}

export function sendProblem(res: Response, problem: Problem): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const ctx = currentContext();
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...problem, ...(ctx ? { instance: `urn:request:${ctx.requestId}` } : {}) }));
}
