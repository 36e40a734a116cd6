// `scripts/up --observe`, end to end: the whole platform as a second instance beside the
// default one (PRAXIS_PORT_BASE 8180: its own vhost, databases, Redis index and secrets
// directory), with the OpenTelemetry Collector, Jaeger and Prometheus built from the Go
// module proxy. A request sent through the gateway with our own `traceparent` must come
// back from Jaeger's query API, through the collector, as one trace with the gateway's and
// auth's spans (and auth's MongoDB span); the collector's scrub must drop the attributes
// it lists; and Prometheus must be scraping every service and the collector. `scripts/up down` then stops all of it and leaves the
// shared infrastructure running. Building Jaeger cold takes long; afterwards it is cached
// under .data/observe/bin (docs/deployment.md, "Locally").
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const BASE = 8180;
// Jaeger's own OTLP at otlp+1; the collector's health check and metrics at prometheus+1, +2.
const PORTS = { jaeger: 8190, otlp: 8192, jaegerOtlp: 8193, prometheus: 8194, otelcolHealth: 8195, otelcolMetrics: 8196 };
const VHOST = `praxis-${BASE}`;
const MGMT = 'http://127.0.0.1:15672';
const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

const secrets = mkdtempSync(path.join(tmpdir(), 'praxis-observe-'));
const env = {
  ...process.env,
  PRAXIS_PORT_BASE: String(BASE),
  PRAXIS_JAEGER_PORT: String(PORTS.jaeger),
  PRAXIS_OTLP_PORT: String(PORTS.otlp),
  PRAXIS_PROMETHEUS_PORT: String(PORTS.prometheus),
  PRAXIS_REDIS_DB: '12',
  PRAXIS_SECRETS_DIR: secrets,
};

function up(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/up'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`scripts/up ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`)),
    );
  });
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: nothing within ${ms / 1000}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

type JaegerTrace = {
  traceID: string;
  spans: {
    spanID: string;
    operationName: string;
    processID: string;
    references: { spanID: string }[];
    tags: { key: string; value: unknown }[];
  }[];
  processes: Record<string, { serviceName: string }>;
};

beforeAll(() => {
  // The SMS simulators' credentials that scripts/infra made; every other key is generated.
  for (const f of readdirSync(path.join(ROOT, '.data/secrets')).filter((f) => f.startsWith('sms-')))
    copyFileSync(path.join(ROOT, '.data/secrets', f), path.join(secrets, f));
  mkdirSync(path.join(ROOT, '.data/logs'), { recursive: true });
});

afterAll(async () => {
  await up(['down']).catch((err: unknown) => console.error(String(err)));
  rmSync(secrets, { recursive: true, force: true });
  await fetch(`${MGMT}/api/vhosts/${VHOST}`, { method: 'DELETE', headers: { authorization: MGMT_AUTH } }).catch(() => undefined);
  // This instance's databases only (every name ends in _8180).
  const mongoose = (await import('mongoose')).default;
  const conn = await mongoose.createConnection('mongodb://127.0.0.1:27017', { serverSelectionTimeoutMS: 5_000 }).asPromise();
  try {
    const { databases } = await conn.db!.admin().listDatabases();
    for (const d of databases) if (d.name.endsWith(`_${BASE}`)) await conn.useDb(d.name).dropDatabase();
  } finally {
    await conn.close();
  }
}, 120_000);

it(
  'traces a request across the gateway, auth and MongoDB into Jaeger, and Prometheus scrapes every service',
  async () => {
    const t0 = Date.now();
    const out = await up(['--observe']);
    const upS = ((Date.now() - t0) / 1000).toFixed(0);
    expect(out).toContain(`http://127.0.0.1:${PORTS.jaeger}/api/traces/<trace id>`);
    expect(out).toContain(`http://127.0.0.1:${PORTS.prometheus}/api/v1/targets`);
    expect(existsSync(path.join(ROOT, '.data/observe/bin/jaeger'))).toBe(true);
    expect(existsSync(path.join(ROOT, '.data/observe/bin/otelcol'))).toBe(true);
    expect((await fetch(`http://127.0.0.1:${PORTS.otelcolHealth}/`)).status).toBe(200);

    // A login attempt through the gateway, under a trace id of our choosing.
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`http://127.0.0.1:${BASE}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ tenant: 'no-such-practice', email: 'nobody@example.test', password: 'not the password 1234' }),
    });
    await res.arrayBuffer();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);

    // Jaeger's query API has it: spans of the gateway and of auth in that one trace, auth's
    // server span a descendant of the gateway's.
    const t1 = Date.now();
    const trace = await poll('the trace in Jaeger', async () => {
      const r = await fetch(`http://127.0.0.1:${PORTS.jaeger}/api/traces/${traceId}`);
      if (!r.ok) return undefined;
      const t = ((await r.json()) as { data: JaegerTrace[] }).data[0];
      const services = new Set(t?.spans.map((s) => t.processes[s.processID]!.serviceName));
      return services.has('praxis-gateway') && services.has('praxis-auth') ? t : undefined;
    });
    const byService = new Map<string, string[]>();
    for (const s of trace.spans) {
      const svc = trace.processes[s.processID]!.serviceName;
      byService.set(svc, [...(byService.get(svc) ?? []), s.operationName]);
    }
    console.log(
      `scripts/up --observe ready in ${upS}s; trace ${traceId} in Jaeger after ${Date.now() - t1} ms:\n${[...byService].map(([k, v]) => `  ${k}: ${v.join(', ')}`).join('\n')}`,
    );
    expect(trace.traceID).toBe(traceId);
    const ids = new Map(trace.spans.map((s) => [s.spanID, s]));
    const gatewaySpans = new Set(
      trace.spans.filter((s) => trace.processes[s.processID]!.serviceName === 'praxis-gateway').map((s) => s.spanID),
    );
    const authRoot = trace.spans.find(
      (s) =>
        trace.processes[s.processID]!.serviceName === 'praxis-auth' &&
        s.references.some((r) => !ids.has(r.spanID) || gatewaySpans.has(r.spanID)),
    );
    expect(authRoot).toBeDefined();
    expect((byService.get('praxis-auth') ?? []).some((n) => /mongodb|find|aggregate/i.test(n))).toBe(true);

    // The search a person starts from lists the services.
    const services = (await (await fetch(`http://127.0.0.1:${PORTS.jaeger}/api/services`)).json()) as { data: string[] };
    expect(services.data).toEqual(expect.arrayContaining(['praxis-gateway', 'praxis-auth']));

    // The collector runs the regions' scrub: a span sent to it with attributes that could
    // identify someone reaches Jaeger without them, and with the others.
    const probeTrace = randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });
    const sent = await fetch(`http://127.0.0.1:${PORTS.otlp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [attr('service.name', 'praxis-scrub-probe')] },
            scopeSpans: [
              {
                scope: { name: 'observe-test' },
                spans: [
                  {
                    traceId: probeTrace,
                    spanId: randomBytes(8).toString('hex'),
                    name: 'probe',
                    kind: 2,
                    startTimeUnixNano: String(now),
                    endTimeUnixNano: String(now + 1_000_000n),
                    attributes: [
                      attr('enduser.id', 'usr_probe'),
                      attr('http.request.header.authorization', 'Bearer secret'),
                      attr('db.statement', 'find patients'),
                      attr('praxis.kept', 'yes'),
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(sent.status).toBe(200);
    const probe = await poll('the probe span in Jaeger', async () => {
      const r = await fetch(`http://127.0.0.1:${PORTS.jaeger}/api/traces/${probeTrace}`);
      return r.ok ? ((await r.json()) as { data: JaegerTrace[] }).data[0]?.spans[0] : undefined;
    });
    const keys = probe.tags.map((t) => t.key);
    console.log(`probe span through the collector: tags ${keys.join(', ')}`);
    expect(keys).toContain('praxis.kept');
    for (const k of ['enduser.id', 'http.request.header.authorization', 'db.statement']) expect(keys).not.toContain(k);

    // Prometheus: every service a target, each scraped and up, and the collector.
    const targets = await poll('every target up in Prometheus', async () => {
      const r = (await (await fetch(`http://127.0.0.1:${PORTS.prometheus}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { service: string }; health: string }[] };
      };
      const t = r.data.activeTargets;
      return t.length === 7 && t.every((x) => x.health === 'up') ? t : undefined;
    });
    expect(targets.map((t) => t.labels.service).sort()).toEqual(
      ['praxis-audit', 'praxis-auth', 'praxis-consent', 'praxis-gateway', 'praxis-messaging', 'praxis-records', 'otel-collector'].sort(),
    );
    const q = (await (
      await fetch(
        `http://127.0.0.1:${PORTS.prometheus}/api/v1/query?query=${encodeURIComponent('sum by (service) (http_request_duration_seconds_count)')}`,
      )
    ).json()) as { data: { result: { metric: { service: string } }[] } };
    expect(q.data.result.map((r) => r.metric.service)).toContain('praxis-gateway');

    // down stops this instance and its tools, and leaves the shared infrastructure alone.
    await up(['down']);
    for (const port of [BASE, BASE + 1, ...Object.values(PORTS)]) expect([port, await portOpen(port)]).toEqual([port, false]);
    for (const port of [27017, 5672, 6379]) expect([port, await portOpen(port)]).toEqual([port, true]);
    expect(execFileSync('bash', [path.join(ROOT, 'scripts/up'), 'status'], { cwd: ROOT, env, encoding: 'utf8' })).not.toMatch(
      /ready 127\.0\.0\.1:81/,
    );
  },
  60 * 60_000,
);
