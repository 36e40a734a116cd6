// Builds the gateway's express app from its dependencies (main.ts opens them; tests pass
// their own): request ids and trace context, security headers, CORS, health and metrics,
// the OpenAPI document and its browser, the web client, and /api/v1 routed to the
// services after the edge checks (path sanity, per-IP limits, token, per-user limits).
import { revokedSessionKey } from '@praxis/contracts';
import {
  type JwksVerifier,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type TrustedProxies,
  allowedMethods,
  authContextFromClaims,
  clientIpKey,
  clientIpMiddleware,
  bearerToken,
  healthRoutes,
  problemErrorHandler,
  problems,
  requestContextOf,
  runWithContext,
  setContextIdentity,
  trustedProxiesFromLegacy,
} from '@praxis/platform';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { cors } from './http/cors';
import { securityHeaders } from './http/security-headers';
import { OpenApiAggregator } from './openapi/aggregate';
import { forward } from './proxy/forward';
import { decideRoute } from './proxy/route-table';
import { type Upstreams, getJson } from './proxy/upstreams';
import { TokenCheck } from './edge-auth/token-check';
import { BoundedMemo } from './rate-limit/bounded-memo';
import { type EdgeCheck, type RateLimitRule, RateLimiter, type ScriptRunner } from './rate-limit/limiter';
import { serveWebClient } from './web/static';
import { accessLog } from './logging/access-log';

export interface GatewayRateLimits {
  ipPerMinute: number;
  authIpPerMinute: number;
  userPerMinute: number;
}

export interface GatewayDeps {
  logger: Logger;
  metrics: Metrics;
  /** Rate limits and revocation marks (EdgeRedis in main.ts), and the readiness PING. */
  redis: ScriptRunner & { ping(): Promise<unknown> };
  /** Access-token verification (auth's JWKS); revocation is checked in Redis here. */
  verifier: Pick<JwksVerifier, 'verify' | 'refresh'>;
  upstreams: Upstreams;
  rateLimits: GatewayRateLimits;
  corsOrigins: readonly string[];
  bodyLimitBytes: number;
  /** Whose X-Forwarded-For decides the client IP (TRUSTED_PROXIES: the ingress). Default: none. */
  trustedProxies?: TrustedProxies;
  /** Deprecated: the old express `trust proxy` value, used only without trustedProxies. */
  trustProxy?: string | boolean | number;
  version?: string;
  /** `all`: /readyz needs every configured service ready; `redis`: only Redis (services listed). */
  readiness?: 'all' | 'redis';
  /** Prefix of the rate-limit keys in Redis (tests use their own). */
  redisKeyPrefix?: string;
}

const API_PREFIX = '/api/v1';
const quietPaths = new Set(['/livez', '/readyz', '/metrics']);

export interface Gateway {
  app: Express;
  /** Load auth's signing keys (a gateway that starts before auth loads them on the first request). */
  start(): Promise<void>;
  /** Close the pooled connections to the services. */
  stop(): Promise<void>;
}

/**
 * Builds the gateway from its dependencies (main.ts passes the real ones; tests pass
 * fake upstreams and a TestIssuer), the same `{ app, start, stop }` every service has.
 */
export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  return {
    app: createGatewayApp(deps),
    async start() {
      await deps.verifier.refresh().catch((err: Error) => deps.logger.warn({ err: err.message }, 'JWKS not loaded yet'));
    },
    stop: () => deps.upstreams.close(),
  };
}

function createGatewayApp(deps: GatewayDeps): Express {
  const { logger, metrics, upstreams } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // req.ip comes from clientIpMiddleware (validated; X-Forwarded-For only from a trusted
  // proxy); the same list decides whether X-Forwarded-Proto/Host count (req.protocol).
  const trusted = deps.trustedProxies ?? trustedProxiesFromLegacy(deps.trustProxy);
  app.set('trust proxy', (addr: string) => trusted.trusts(addr));
  app.set('query parser', false);

  const httpDuration = metrics.histogram(
    'http_request_duration_seconds',
    'HTTP request latency',
    ['method', 'route', 'status'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const rateLimited = metrics.counter('gateway_rate_limited_total', 'Requests refused by a rate limit', ['rule']);
  const edgeRejected = metrics.counter('gateway_edge_rejected_total', 'Requests refused at the edge', ['reason']);

  // Request id, trace context and the access log. The log names the route class (static
  // words kept, ids replaced), never the URL or query string.
  const logAccess = accessLog(logger);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const { context: ctx, fromClient: clientChose } = requestContextOf(req, res);
    res.locals.route = 'unmatched';
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = String(res.locals.route);
      httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (!quietPaths.has(req.path)) {
        logAccess(ctx, clientChose, {
          method: req.method,
          route,
          upstream: res.locals.upstream as string | undefined,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        });
      }
    });
    runWithContext(ctx, next);
  });
  app.use(clientIpMiddleware(trusted));
  app.use(securityHeaders());
  app.use(allowedMethods());
  app.use(cors(deps.corsOrigins));

  // The platform's health routes: Redis and every configured service's /readyz (in `redis`
  // mode the services are listed but only Redis decides).
  const readiness: Record<string, ReadinessCheck> = {
    redis: async () => {
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('Redis did not answer PONG');
    },
  };
  for (const u of upstreams.all()) {
    readiness[u.name] = async () => {
      const { status } = await getJson(u, '/readyz', 2_000);
      if (status !== 200) throw new Error(`${u.name} /readyz answered ${status}`);
    };
  }
  const informational = deps.readiness === 'redis' ? upstreams.all().map((u) => u.name) : [];
  healthRoutes(app, { service: 'gateway', logger, metrics, readiness, informational });

  const openapi = new OpenApiAggregator(upstreams, logger, { version: deps.version ?? '1.0.0' });
  app.get('/openapi.json', async (_req, res, next) => {
    res.locals.route = '/openapi.json';
    try {
      res.setHeader('Cache-Control', 'no-cache');
      res.json(await openapi.document());
    } catch (err) {
      next(err);
    }
  });

  const limiter = new RateLimiter(deps.redis, deps.redisKeyPrefix ?? 'praxis:gateway:rl');
  const tokens = new TokenCheck(deps.verifier);
  const minute = 60_000;
  const rules = {
    ip: { name: 'ip', limit: deps.rateLimits.ipPerMinute, windowMs: minute },
    authIp: { name: 'auth-ip', limit: deps.rateLimits.authIpPerMinute, windowMs: minute },
    user: { name: 'user', limit: deps.rateLimits.userPerMinute, windowMs: minute },
  } satisfies Record<string, RateLimitRule>;
  // The hashed address of the few clients seen lately, so a busy client's key is made once.
  const ipKeys = new BoundedMemo<string, string>(4_096);
  const byIp = (req: Request, rule: RateLimitRule) => {
    const ip = req.ip ?? 'unknown';
    return { rule, subject: ipKeys.get(ip) ?? ipKeys.set(ip, clientIpKey(ip)) };
  };

  /** One Redis round trip: every limit, and the revocation mark when given. Fails closed. */
  async function edgeCheck(hits: { rule: RateLimitRule; subject: string }[], revokedKey?: string): Promise<void> {
    let result: EdgeCheck;
    try {
      result = await limiter.check(hits, revokedKey);
    } catch (err) {
      edgeRejected.inc({ reason: 'redis-unavailable' });
      logger.warn({ err: (err as Error).message }, 'rate limits and revocation cannot be checked');
      throw problems.unavailable('Cannot check this request right now.');
    }
    if (result.outcome === 'revoked') {
      edgeRejected.inc({ reason: 'revoked' });
      throw problems.unauthenticated('The session has ended.');
    }
    if (result.outcome === 'limited') {
      rateLimited.inc({ rule: result.rule.name });
      throw problems.tooManyRequests(result.retryAfterSeconds);
    }
  }

  /** Token check for a protected route: valid signature and claims, session not revoked, limits kept. */
  async function authenticate(req: Request): Promise<void> {
    const token = bearerToken(req);
    let claims;
    try {
      if (!token) throw problems.unauthenticated();
      claims = await tokens.verify(token);
    } catch (err) {
      // A request without a valid token still counts against its address.
      await edgeCheck([byIp(req, rules.ip)]);
      edgeRejected.inc({ reason: 'token' });
      throw err;
    }
    const auth = authContextFromClaims(claims);
    await edgeCheck(
      [byIp(req, rules.ip), { rule: rules.user, subject: `${auth.tenantId}:${auth.actor.id}` }],
      revokedSessionKey(claims.sid),
    );
    setContextIdentity(auth.tenantId, auth.actor.id);
  }

  app.get('/.well-known/jwks.json', async (req, res, next) => {
    res.locals.route = '/.well-known/jwks.json';
    res.locals.upstream = 'auth';
    try {
      await edgeCheck([byIp(req, rules.ip)]);
      const auth = upstreams.get('auth');
      if (!auth) throw problems.unavailable('The auth service is not configured.');
      await forward(req, res, { upstream: auth, bodyLimitBytes: deps.bodyLimitBytes, logger, metrics });
    } catch (err) {
      next(err);
    }
  });

  app.use(API_PREFIX, async (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const rest = req.originalUrl.slice(API_PREFIX.length).split('?')[0] ?? '';
      const decision = decideRoute(req.method, rest);
      if (decision.kind === 'bad-path') {
        edgeRejected.inc({ reason: 'bad-path' });
        throw problems.badRequest('The path is not acceptable.');
      }
      if (decision.kind === 'not-found') throw problems.notFound('No such endpoint.');
      res.locals.route = decision.routeClass;
      res.locals.upstream = decision.upstream;
      const upstream = upstreams.get(decision.upstream);
      if (!upstream) throw problems.unavailable(`The ${decision.upstream} service is not available in this deployment.`);

      if (decision.isPublic) await edgeCheck(decision.authClass ? [byIp(req, rules.ip), byIp(req, rules.authIp)] : [byIp(req, rules.ip)]);
      else await authenticate(req);
      await forward(req, res, { upstream, bodyLimitBytes: deps.bodyLimitBytes, logger, metrics });
    } catch (err) {
      next(err);
    }
  });

  serveWebClient(app);

  app.use((_req: Request, _res: Response, next: NextFunction) => next(problems.notFound('No such endpoint.')));
  app.use(problemErrorHandler(logger));
  return app;
}
