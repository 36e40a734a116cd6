// The child process of floor.ts: the least a Node proxy does (node:http in, an undici pool
// out, the answer passed back), plus, named in its third argument (comma-separated), the gateway's
// edge steps one at a time, each done the way the gateway does it:
//   redis    the gateway's RateLimiter: one EVALSHA through the gateway's EdgeRedis (the
//            per-IP and per-user limits and the revocation mark)
//   ioredis  the same through ioredis with auto-pipelining (what the gateway used before)
//   headers  the gateway's securityHeaders middleware, and Cache-Control
//   ids      a SHA-256 of the bearer token and a random request id
//   log      a JSON access-log line into a buffer flushed every 100 ms, and a latency histogram
//   express  express in front, with five pass-through middlewares
// Run by floor.ts: node --import tsx floor-proxy.ts <upstream> <port> <none | step,step,...>
import { Metrics } from '@praxis/platform';
import express from 'express';
import { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { securityHeaders } from '../src/http/security-headers';
import { EdgeRedis } from '../src/rate-limit/edge-redis';
import { RateLimiter } from '../src/rate-limit/limiter';

const [upstream, port] = [process.argv[2]!, Number(process.argv[3])];
const add = new Set((process.argv[4] ?? 'none').split(',').filter((s) => s && s !== 'none'));
const pool = new Pool(upstream, { connections: 16 });
const edge = add.has('redis') ? new EdgeRedis({ url: 'redis://127.0.0.1:6379' }) : undefined;
if (edge) void edge.connect();
const ioredis = add.has('ioredis') ? new Redis({ port: 6379, host: '127.0.0.1', enableAutoPipelining: true }) : undefined;
const client = edge ?? ioredis;
const limiter = client ? new RateLimiter(client, 'floor:rl') : undefined;
const minute = 60_000;
const rules = [
  { name: 'ip', limit: 1e9, windowMs: minute },
  { name: 'user', limit: 1e9, windowMs: minute },
];
const latency = add.has('log')
  ? new Metrics('floor').histogram(
      'http_request_duration_seconds',
      'latency',
      ['method', 'route', 'status'],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1],
    )
  : undefined;
const setSecurityHeaders = securityHeaders();
const lines: string[] = [];
if (add.has('log'))
  setInterval(() => {
    if (lines.length) process.stderr.write(lines.splice(0).join(''));
  }, 100).unref();

async function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  let requestId = 'r';
  try {
    if (add.has('ids')) {
      createHash('sha256')
        .update(req.headers.authorization ?? 'Bearer x')
        .digest('base64url');
      requestId = randomUUID();
    }
    if (limiter)
      await limiter.check(
        rules.map((rule) => ({ rule, subject: rule.name === 'ip' ? (req.socket.remoteAddress ?? '') : 'usr_floor' })),
        'floor:revoked:sid',
      );
    const answer = await pool.request({ path: req.url ?? '/', method: 'GET', headers: { 'x-request-id': requestId } });
    const body = Buffer.from(await answer.body.arrayBuffer());
    if (add.has('headers')) {
      setSecurityHeaders(req as never, res as never, () => undefined);
      res.setHeader('Cache-Control', 'no-store');
    }
    res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': body.byteLength });
    res.end(body);
  } catch {
    res.statusCode = 502;
    res.end();
  }
  res.once('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latency?.observe({ method: 'GET', route: '/patients/:id', status: String(res.statusCode) }, seconds);
    if (add.has('log'))
      lines.push(
        `${JSON.stringify({ level: 30, time: Date.now(), requestId, route: '/patients/:id', status: res.statusCode, ms: Math.round(seconds * 1000) })}\n`,
      );
  });
}

let handler: http.RequestListener = (req, res) => void proxy(req, res);
if (add.has('express')) {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  for (let i = 0; i < 5; i++) app.use((_req, _res, next) => next());
  app.use((req, res) => void proxy(req, res));
  handler = app;
}
http.createServer(handler).listen(port, '127.0.0.1', () => console.log('ready'));
