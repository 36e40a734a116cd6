// The child process of floor.ts: the least a Node proxy does (node:http in, an undici pool
// out, the answer passed back), plus, named in its third argument (comma-separated), the gateway's
// edge steps one at a time, each done the way the gateway does it:
//   redis    one EVALSHA per request through ioredis with auto-pipelining (limits + revocation)
//   headers  the twelve security and cache headers set per answer
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

const [upstream, port] = [process.argv[2]!, Number(process.argv[3])];
const add = new Set((process.argv[4] ?? 'none').split(',').filter((s) => s && s !== 'none'));
const pool = new Pool(upstream, { connections: 16 });
const redis = add.has('redis') ? new Redis({ port: 6379, host: '127.0.0.1', enableAutoPipelining: true }) : undefined;
const SCRIPT = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], 60000) end return {n, redis.call('EXISTS', KEYS[2])}`;
let sha: string | undefined;
const latency = add.has('log')
  ? new Metrics('floor').histogram(
      'http_request_duration_seconds',
      'latency',
      ['method', 'route', 'status'],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1],
    )
  : undefined;
const securityHeaders: [string, string][] = [
  ['content-security-policy', "default-src 'none'"],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-dns-prefetch-control', 'off'],
  ['x-download-options', 'noopen'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['cache-control', 'no-store'],
];
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
    if (redis) {
      sha ??= (await redis.script('LOAD', SCRIPT)) as string;
      await redis.evalsha(sha, 2, `floor:rl:${req.socket.remoteAddress ?? ''}`, 'floor:revoked:x');
    }
    const answer = await pool.request({ path: req.url ?? '/', method: 'GET', headers: { 'x-request-id': requestId } });
    const body = Buffer.from(await answer.body.arrayBuffer());
    if (add.has('headers')) for (const [k, v] of securityHeaders) res.setHeader(k, v);
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
