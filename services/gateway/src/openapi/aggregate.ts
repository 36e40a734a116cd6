// The public OpenAPI document: each service's own document (generated from its zod route
// declarations) merged into one, keeping only the operations the gateway actually routes
// to that service — so service-only (internal) endpoints never appear — plus the
// gateway's own endpoints. Cached briefly; a service that is down is left out and named.
import type { Logger } from '@praxis/platform';
import { decideRoute, type UpstreamName } from '../proxy/route-table';
import { type Upstreams, getJson } from '../proxy/upstreams';

type Operation = Record<string, unknown> & { tags?: string[]; 'x-internal'?: boolean };
type PathItem = Record<string, Operation>;
interface ServiceDocument {
  paths?: Record<string, PathItem>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
}

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const plain = (summary: string, description = 'OK', contentType = 'application/json'): Operation => ({
  summary,
  tags: ['gateway'],
  security: [],
  responses: { 200: { description, content: { [contentType]: {} } } },
});

export const gatewayPaths: Record<string, PathItem> = {
  '/livez': { get: plain('Liveness: the gateway process answers') },
  '/readyz': {
    get: {
      ...plain('Readiness: Redis and every configured service are ready'),
      responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } },
    },
  },
  '/metrics': { get: plain('Prometheus metrics', 'Metrics', 'text/plain') },
  '/openapi.json': { get: plain('This document') },
  '/docs': { get: plain('Browse this document', 'HTML page', 'text/html') },
  '/.well-known/jwks.json': { get: plain('Token-signing public keys (from auth)') },
};

export class OpenApiAggregator {
  private cached?: { at: number; doc: Record<string, unknown> };

  constructor(
    private readonly upstreams: Upstreams,
    private readonly logger: Logger,
    private readonly opts: { version: string; cacheMs?: number; fetchTimeoutMs?: number } = { version: '1.0.0' },
  ) {}

  async document(): Promise<Record<string, unknown>> {
    if (this.cached && Date.now() - this.cached.at < (this.opts.cacheMs ?? 30_000)) return this.cached.doc;
    const fetched = await Promise.all(
      this.upstreams.all().map(async (u) => {
        try {
          const { status, body } = await getJson(u, '/openapi.json', this.opts.fetchTimeoutMs ?? 3_000);
          if (status !== 200 || typeof body !== 'object' || body === null) throw new Error(`answered ${status}`);
          return { name: u.name, doc: body as ServiceDocument };
        } catch (err) {
          this.logger.warn({ upstream: u.name, err: (err as Error).message }, 'service OpenAPI document unavailable');
          return { name: u.name, doc: undefined };
        }
      }),
    );
    const mismatches: string[] = [];
    const doc = merge(fetched, this.opts.version, mismatches);
    // A route a service serves without a token that the edge still guards answers 401
    // here: worth an operator's attention, never silently opened.
    if (mismatches.length) this.logger.warn({ routes: mismatches }, 'services declare public routes the gateway does not treat as public');
    // Only complete documents are cached, so a service that comes up appears at once.
    if (fetched.every((f) => f.doc)) this.cached = { at: Date.now(), doc };
    return doc;
  }
}

export function merge(
  parts: { name: UpstreamName; doc: ServiceDocument | undefined }[],
  version: string,
  mismatches: string[] = [],
): Record<string, unknown> {
  const paths: Record<string, PathItem> = { ...gatewayPaths };
  const schemas: Record<string, unknown> = {};
  const unavailable: string[] = [];
  for (const { name, doc } of parts) {
    if (!doc) {
      unavailable.push(name);
      continue;
    }
    for (const [p, item] of Object.entries(doc.paths ?? {})) {
      if (!p.startsWith('/api/v1/')) continue;
      // Path parameters stand in as a plain segment to ask the route table.
      const probe = p.slice('/api/v1'.length).replace(/\{[^}]+\}/g, 'x');
      for (const [method, op] of Object.entries(item)) {
        if (!methods.includes(method) || op['x-internal']) continue;
        const decision = decideRoute(method.toUpperCase(), probe);
        if (decision.kind !== 'proxy' || decision.upstream !== name) continue;
        const servicePublic = Array.isArray(op.security) && op.security.length === 0;
        if (servicePublic && !decision.isPublic) mismatches.push(`${method.toUpperCase()} ${p}`);
        (paths[p] ??= {})[method] = { ...op, tags: op.tags?.length ? op.tags : [name] };
      }
    }
    Object.assign(schemas, doc.components?.schemas ?? {});
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Praxis API',
      version,
      description:
        'The public API of Praxis, served by the gateway under /api/v1. Bearer access tokens from POST /api/v1/auth/login; errors are application/problem+json.' +
        (unavailable.length ? ` Not available right now: ${unavailable.join(', ')}.` : ''),
    },
    servers: [{ url: '/' }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
    ...(unavailable.length ? { 'x-unavailable-services': unavailable } : {}),
  };
}
