// Test doubles for the gateway's own integration tests: real HTTP upstreams on port 0
// that record what reached them, a gateway built from real Redis and a TestIssuer, and a
// raw HTTP client that can send any header.
import { Metrics, type Logger, type RunningServer, TrustedProxies, startHttpServer } from '@praxis/platform';
import { TestIssuer, infra, testLogger, unique } from '@praxis/testing';
import { Redis } from 'ioredis';
import { EdgeRedis } from '../src/rate-limit/edge-redis';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { type GatewayDeps, buildGateway } from '../src/app';
import type { UpstreamName } from '../src/proxy/route-table';
import { Upstreams } from '../src/proxy/upstreams';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

export interface FakeUpstream {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

/** A service stand-in: answers /readyz, /openapi.json, and echoes anything else as JSON. */
export async function fakeUpstream(
  name: string,
  opts: { openapi?: unknown; ready?: boolean; handler?: Handler } = {},
): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the gateway broke the request off (e.g. an oversized body)
    }
    const body = Buffer.concat(chunks);
    if (req.url === '/readyz') {
      res
        .writeHead(opts.ready === false ? 503 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: opts.ready === false ? 'not-ready' : 'ready' }));
      return;
    }
    if (req.url === '/openapi.json' && opts.openapi) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(opts.openapi));
      return;
    }
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: body.length });
    if (opts.handler) {
      await opts.handler(req, res, body);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-upstream': name,
      'access-control-allow-origin': '*',
      'keep-alive': 'timeout=5',
    });
    res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, bodyBytes: body.length }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port on which nothing listens (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TestGateway {
  url: string;
  issuer: TestIssuer;
  redis: Redis;
  server: RunningServer;
  upstreams: Upstreams;
  close(): Promise<void>;
}

export async function startGateway(
  urls: Partial<Record<UpstreamName, string>>,
  overrides: Partial<GatewayDeps> & { responseTimeoutMs?: number; redisUrl?: string; logger?: Logger; issuer?: TestIssuer } = {},
): Promise<TestGateway> {
  const issuer = overrides.issuer ?? new TestIssuer();
  // The gateway's own client, as main.ts opens it; a Redis that is away is simply never
  // connected, so commands fail at once, as in an outage.
  const edge = new EdgeRedis({ url: overrides.redisUrl ?? infra.redisUrl, commandTimeoutMs: 1_000 });
  await edge.connect();
  // The test's own client, to look at and change what the gateway keeps there.
  const redis = new Redis(infra.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  const upstreams = new Upstreams(urls, {
    connectTimeoutMs: 500,
    responseTimeoutMs: overrides.responseTimeoutMs ?? 1_000,
    connections: 16,
  });
  const { responseTimeoutMs: _r, redisUrl: _u, issuer: _i, ...deps } = overrides;
  const { app } = await buildGateway({
    logger: testLogger('gateway'),
    metrics: new Metrics('gateway'),
    redis: edge,
    verifier: issuer.verifier(),
    upstreams,
    rateLimits: { ipPerMinute: 1_000, authIpPerMinute: 1_000, userPerMinute: 1_000 },
    corsOrigins: ['https://app.example.test'],
    bodyLimitBytes: 1024 * 1024,
    redisKeyPrefix: unique('t:gateway:rl'),
    // The tests speak from loopback as an ingress would, with X-Forwarded-For.
    trustedProxies: TrustedProxies.loopback,
    ...deps,
  });
  const server = await startHttpServer(app, 0);
  return {
    url: `http://127.0.0.1:${server.port}`,
    issuer,
    redis,
    server,
    upstreams,
    close: async () => {
      await server.close(1_000);
      await upstreams.close();
      await edge.quit();
      redis.disconnect();
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
  ms: number;
}

/** A raw request line, exactly as written (no URL normalisation by the client). */
export function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'GET', headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Any method, any header, any body; never throws on status. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer | AsyncIterable<Buffer> } = {},
): Promise<Answer> {
  const started = Date.now();
  // One connection per call (reset): nothing lingers in keep-alive once a suite ends.
  const res = await request(base + path, {
    method: method as 'GET',
    headers: opts.headers ?? {},
    body: (opts.body ?? null) as string | null,
    reset: true,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}
