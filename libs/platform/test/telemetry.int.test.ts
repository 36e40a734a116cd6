// Traces cover every hop with the maintained instrumentations, exported over OTLP/HTTP:
// a child process started like a service (`--import @praxis/platform/telemetry-register`)
// makes an HTTP request into express, a MongoDB insert, a Redis SET and a RabbitMQ
// publish/delivery; this test is its OTLP endpoint and reads what arrives. Real
// MongoDB, RabbitMQ and Redis.
import { infra, testDbName, unique } from '@praxis/testing';
import { spawn } from 'node:child_process';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

type Span = { name: string; kind: number; traceId: string; attributes: { key: string; value: Record<string, unknown> }[] };
type Export = { resourceSpans: { scopeSpans: { scope: { name: string }; spans: Span[] }[] }[] };

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });

it('exports spans for HTTP, express, MongoDB, Redis and RabbitMQ through OTLP, without statements', async () => {
  const received: Export[] = [];
  const server = createServer(async (req, res) => {
    if (req.url === '/v1/traces') received.push(JSON.parse(await body(req)) as Export);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      '@praxis/platform/telemetry-register',
      path.join(__dirname, 'fixtures/traced-hops.ts'),
      infra.mongoUrl,
      infra.amqpUrl,
      infra.redisUrl,
      testDbName('otel'),
      unique('otel-hop'),
    ],
    {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, OTEL_SERVICE_NAME: 'praxis-test', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  server.close();
  expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });

  const scopes = new Map<string, Span[]>();
  for (const e of received)
    for (const rs of e.resourceSpans)
      for (const ss of rs.scopeSpans) scopes.set(ss.scope.name, [...(scopes.get(ss.scope.name) ?? []), ...ss.spans]);
  console.log([...scopes].map(([s, spans]) => `${s}: ${spans.map((x) => x.name).join(', ')}`).join('\n'));
  for (const s of ['http', 'express', 'amqplib', 'mongodb', 'ioredis'])
    expect([...scopes.keys()]).toContain(`@opentelemetry/instrumentation-${s}`);
  // The request's spans share one trace: HTTP server → express → MongoDB / Redis / publish.
  const server_ = scopes.get('@opentelemetry/instrumentation-http')!.find((s) => s.kind === 2)!;
  const inTrace = [...scopes.values()]
    .flat()
    .filter((s) => s.traceId === server_.traceId)
    .map((s) => s.name);
  expect(inTrace.length).toBeGreaterThanOrEqual(4);
  // No statement or command arguments: the hop id and the Redis key never appear.
  const attrs = JSON.stringify([...scopes.values()].flat().map((s) => s.attributes));
  expect(attrs).not.toContain('praxis:test:hop');
  expect(attrs).not.toMatch(/"id"\s*:\s*"1"/);
}, 60_000);
