// Declarative routes: each route states its method, path, who may call it and its zod
// schemas for params, query and body. The same declarations validate requests and
// generate the service's OpenAPI 3.1 document, so docs cannot drift from behaviour.
import type { Permission } from '@praxis/contracts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuthContext, Authenticator } from './auth';
import { problems } from './problem';
import { parseOrThrow } from './validate';

export const API_PREFIX = '/api/v1';

export type RouteAuth = 'public' | 'authenticated' | { permission: Permission };

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<
  A extends RouteAuth = RouteAuth,
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Express-style path below /api/v1, e.g. `/patients/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  auth: A;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * The body may be left out altogether (it is then parsed as `{}`); documented as
   * `requestBody.required: false`. Default: a route with a body schema requires one.
   */
  bodyOptional?: boolean;
  /** Success status (default 200; 204 sends no body). */
  status?: number;
  response?: z.ZodType;
  /** Other statuses worth documenting, with what they mean. */
  errors?: Record<number, string>;
  /** Not part of the public API (service-to-service); documented but not routed by the gateway. */
  internal?: boolean;
}

export interface RouteContext<A extends RouteAuth, P, Q, B> {
  params: P;
  query: Q;
  body: B;
  auth: A extends 'public' ? AuthContext | undefined : AuthContext;
  req: Request;
  res: Response;
}

const emptyStrict = z.strictObject({});

export class ApiRouter {
  readonly router: Router = express.Router();
  private readonly specs: RouteSpec[] = [];

  constructor(private readonly authenticator?: Authenticator) {}

  route<
    A extends RouteAuth,
    P extends z.ZodType = typeof emptyStrict,
    Q extends z.ZodType = typeof emptyStrict,
    B extends z.ZodType = typeof emptyStrict,
  >(spec: RouteSpec<A, P, Q, B>, handler: (ctx: RouteContext<A, z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<unknown> | unknown): this {
    this.specs.push(spec as unknown as RouteSpec);
    const paramsSchema = spec.params ?? emptyStrict;
    const querySchema = spec.query ?? emptyStrict;
    const bodySchema = spec.body;
    const authenticator = this.authenticator;

    this.router[spec.method](spec.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        let auth: AuthContext | undefined;
        if (spec.auth !== 'public') {
          if (!authenticator) throw new Error(`route ${spec.method} ${spec.path} needs an authenticator`);
          auth = await authenticator.authenticate(req);
          if (typeof spec.auth === 'object' && !auth.can(spec.auth.permission)) throw problems.forbidden();
        } else if (authenticator && req.headers.authorization) {
          auth = await authenticator.authenticate(req).catch(() => undefined);
        }
        const params = parseOrThrow(paramsSchema, { ...req.params }, 'params');
        const query = parseOrThrow(querySchema, { ...(req.query as object) }, 'query');
        let body: unknown = undefined;
        if (bodySchema) {
          // A body was sent but no parser took it: not JSON.
          if (req.body === undefined && hasBody(req))
            throw problems.unsupportedMediaType('The body must be JSON (Content-Type: application/json).');
          body = parseOrThrow(bodySchema, req.body ?? {}, 'body');
        } else if (req.body !== undefined && isNonEmpty(req.body)) {
          throw problems.badRequest('This endpoint takes no request body.');
        }
        const result = await handler({ params, query, body, auth, req, res } as RouteContext<A, z.infer<P>, z.infer<Q>, z.infer<B>>);
        if (res.headersSent) return;
        const status = spec.status ?? 200;
        if (status === 204 || result === undefined) res.status(status === 200 && result === undefined ? 204 : status).end();
        else res.status(status).json(result);
      } catch (err) {
        next(err);
      }
    });
    return this;
  }

  routes(): readonly RouteSpec[] {
    return this.specs;
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isNonEmpty(body: unknown): boolean {
  if (body === null || body === undefined) return false;
  if (typeof body === 'object') return Object.keys(body as object).length > 0;
  return true;
}

const problemJsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errorId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** Build an OpenAPI 3.1 document from route declarations. */
export function openApiDocument(
  info: { title: string; version: string; description?: string },
  routers: readonly { routes(): readonly RouteSpec[] }[],
  opts: { includeInternal?: boolean } = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routers) {
    for (const spec of r.routes()) {
      if (spec.internal && !opts.includeInternal) continue;
      const oaPath = API_PREFIX + spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters: Record<string, unknown>[] = [];
      for (const [where, schema] of [
        ['path', spec.params],
        ['query', spec.query],
      ] as const) {
        if (!schema) continue;
        const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, s] of Object.entries(js.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
        }
      }
      const status = String(spec.status ?? 200);
      const responses: Record<string, unknown> = {
        [status]:
          spec.status === 204
            ? { description: 'No content' }
            : {
                description: 'Success',
                ...(spec.response ? { content: { 'application/json': { schema: jsonSchema(spec.response) } } } : {}),
              },
      };
      // Every status the platform itself can answer for this route, then the route's own.
      const errors: Record<number, string> = {};
      errors[400] = 'Invalid input (unknown fields or query parameters, `$` operators, text that is not valid Unicode)';
      if (spec.auth !== 'public') errors[401] = 'Missing, invalid, expired or revoked token';
      if (typeof spec.auth === 'object') errors[403] = `Requires permission \`${spec.auth.permission}\``;
      if (spec.params) errors[404] = 'Not found, or it belongs to another practice';
      if (spec.body) {
        errors[413] = 'The body is larger than allowed';
        errors[415] = 'The body is not JSON, not UTF-8, or has a Content-Encoding other than gzip, deflate or br';
      }
      errors[429] = 'Rate-limited (Retry-After says when to try again)';
      errors[503] = 'A dependency is unavailable, or the request took too long; nothing was changed';
      if (spec.method !== 'get')
        errors[504] = 'The change did not finish in time or its answer was lost: it may still be made; read it back before trying again';
      Object.assign(errors, spec.errors);
      for (const [code, description] of Object.entries(errors)) {
        responses[code] = { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
      }
      (paths[oaPath] ??= {})[spec.method] = {
        summary: spec.summary,
        ...(spec.tags ? { tags: spec.tags } : {}),
        ...(spec.auth === 'public' ? { security: [] } : {}),
        ...(typeof spec.auth === 'object' ? { 'x-permission': spec.auth.permission } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body
          ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: jsonSchema(spec.body) } } } }
          : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: problemJsonSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
  };
}
