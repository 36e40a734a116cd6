// Boot contract, run by scripts/k8s-verify: every service the umbrella chart deploys, started
// from this repository as a local process with exactly the environment its pod would get
// (the rendered ConfigMap plus one value per referenced Secret key), answers /readyz 200.
// A variable a service needs that the chart does not give it, a Secret key nobody maps, or
// a readiness check on something the region does not deploy fails here, not in a rollout.
//
// What differs from the cluster, and only that: in-cluster addresses become loopback
// (each service on an ephemeral port, `http://praxis-<svc>:<port>` rewritten to it), the
// Secret keys get local values (the shared infrastructure on loopback, a fresh KEK), and
// the run is isolated from everyone else on that infrastructure: its own RabbitMQ vhost,
// its own database names (dropped at the end) and its own Redis database index.
//
//   node --import tsx scripts/tools/k8s/boot-contract.ts <rendered-manifests.yaml>
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');
const RUN = `k8sverify${process.pid}`;
const VHOST = `k8s-verify-${process.pid}`;
const MGMT = 'http://127.0.0.1:15672';
const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const READY_WITHIN_MS = 90_000;

type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

/** Local stand-ins for the values the secret store holds, made fresh per run. */
type Locals = { kek: string; clientSecrets: Record<string, string> };

/** The local value of each Secret key a chart may reference; any other key fails the contract. */
function secretValue(secret: string, key: string, locals: Locals): string {
  const hex = (n: number) => randomBytes(n).toString('hex');
  switch (key) {
    case 'mongo-url':
      return 'mongodb://127.0.0.1:27017';
    case 'amqp-url':
      return `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(VHOST)}`;
    case 'redis-url':
      return 'redis://127.0.0.1:6379/11';
    case 'kek':
      return locals.kek;
    // Service tokens: auth holds every caller's client secret, each caller its own (the
    // same value, or the caller cannot get a token).
    case 'service-client-secrets':
      return Object.entries(locals.clientSecrets)
        .map(([svc, s]) => `${svc}:${s}`)
        .join(',');
    case 'service-client-secret': {
      const own = locals.clientSecrets[secret.replace(/^praxis-/, '')];
      if (!own) throw new Error(`Secret "${secret}" holds a service-client-secret for a service auth does not know`);
      return own;
    }
    // The messaging providers' credentials, in the shapes the providers issue them.
    case 'smtp-user':
      return 'k8s-verify';
    case 'smtp-password':
    case 'twilio-auth-token':
    case 'vonage-api-secret':
    case 'vonage-signature-secret':
      return hex(16);
    case 'twilio-account-sid':
      return `AC${hex(16)}`;
    case 'vonage-api-key':
      return hex(4);
    default:
      throw new Error(`Secret key "${key}" has no local value: the boot contract does not know what the service expects in it`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function mgmt(method: string, url: string, body?: unknown): Promise<void> {
  const res = await fetch(`${MGMT}${url}`, { method, headers: { authorization: MGMT_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`RabbitMQ management ${method} ${url}: ${res.status}`);
}

async function waitReady(name: string, port: number, child: ChildProcess, log: string[]): Promise<number> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < READY_WITHIN_MS) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${log.join('').slice(-3000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3_000) });
      last = `${res.status} ${(await res.text()).slice(0, 300)}`;
      if (res.status === 200) return Date.now() - t0;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not answer /readyz 200 within ${READY_WITHIN_MS / 1000}s; last answer: ${last}\n${log.join('').slice(-3000)}`);
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: boot-contract.ts <rendered-manifests.yaml>');
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => !!d && typeof d.kind === 'string');
  const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d.data ?? {}]));
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  if (deployments.length < 6) throw new Error(`expected the six service Deployments, found ${deployments.length}`);

  // Ports: the cluster's `praxis-<svc>:<port>` becomes a loopback port per service.
  const ports = new Map<string, { cluster: string; local: number }>();
  for (const d of deployments) {
    const c = d.spec.template.spec.containers[0];
    const port = c.ports.find((p: { name: string }) => p.name === 'http').containerPort as number;
    ports.set(d.metadata.name, { cluster: String(port), local: await freePort() });
  }
  const rewrite = (v: string): string => v.replace(/http:\/\/(praxis-[a-z]+):(\d+)/g, (m, host: string, port: string) => (ports.get(host)?.cluster === port ? `http://127.0.0.1:${ports.get(host)!.local}` : m));

  const locals: Locals = {
    kek: randomBytes(32).toString('base64'),
    clientSecrets: { consent: randomBytes(24).toString('base64url'), messaging: randomBytes(24).toString('base64url') },
  };
  await mgmt('PUT', `/api/vhosts/${encodeURIComponent(VHOST)}`, {});
  await mgmt('PUT', `/api/permissions/${encodeURIComponent(VHOST)}/guest`, { configure: '.*', write: '.*', read: '.*' });

  const children: { name: string; child: ChildProcess }[] = [];
  const callers: { name: string; authUrl: string; secret: string }[] = [];
  const databases: string[] = [];
  const results: string[] = [];
  try {
    // auth first: the others fetch its signing keys; then the rest, then the gateway.
    const order = [...deployments].sort((a, b) => rank(a.metadata.name) - rank(b.metadata.name));
    for (const d of order) {
      const name = d.metadata.name;
      const c = d.spec.template.spec.containers[0];
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'production' };
      for (const from of c.envFrom ?? []) {
        const cm = configMaps.get(from.configMapRef.name);
        if (!cm) throw new Error(`${name}: envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
        for (const [k, v] of Object.entries(cm)) env[k] = rewrite(String(v));
      }
      for (const e of (c.env ?? []) as EnvVar[]) {
        if (e.valueFrom?.secretKeyRef) env[e.name] = secretValue(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key, locals);
        else if (e.value !== undefined) env[e.name] = rewrite(e.value);
        else throw new Error(`${name}: env ${e.name} is neither a value nor a secretKeyRef`);
      }
      env.HOST = '127.0.0.1';
      env.PORT = String(ports.get(name)!.local);
      // Traces go nowhere here: no collector runs on loopback during the contract.
      delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
      if (env.MONGO_DB) {
        env.MONGO_DB = `${env.MONGO_DB}_${RUN}`;
        databases.push(env.MONGO_DB);
      }
      const svc = name.replace(/^praxis-/, '');
      if (env.SERVICE_CLIENT_SECRET && env.AUTH_URL) callers.push({ name: svc, authUrl: env.AUTH_URL, secret: env.SERVICE_CLIENT_SECRET });
      const child = spawn(process.execPath, ['--enable-source-maps', '--import', 'tsx', '--import', '@praxis/platform/telemetry-register', 'src/main.ts'], {
        cwd: path.join(ROOT, 'services', svc),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const log: string[] = [];
      child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
      child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
      children.push({ name, child });
      const ms = await waitReady(name, ports.get(name)!.local, child, log);
      results.push(`${name} ready in ${ms} ms`);
    }
    // Service tokens: each caller's own client secret is the one auth holds for it (auth
    // answers 404 for an unknown practice once the secret is right, 401 otherwise).
    for (const c of callers) {
      const res = await fetch(`${c.authUrl}/api/v1/internal/service-tokens`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${c.name}:${c.secret}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId: `${RUN}-no-practice` }),
      });
      await res.arrayBuffer();
      if (res.status !== 404) throw new Error(`${c.name}: auth answered ${res.status} to its service-token request (its client secret and auth's SERVICE_CLIENT_SECRETS disagree)`);
      results.push(`${c.name}'s client secret accepted by auth`);
    }
    console.log(`boot contract: ${results.join(', ')}`);
  } finally {
    for (const { child } of children) child.kill('SIGTERM');
    await Promise.all(children.map(({ child }) => (child.exitCode !== null ? null : new Promise((r) => child.once('exit', r)))));
    await mgmt('DELETE', `/api/vhosts/${encodeURIComponent(VHOST)}`);
    await dropDatabases(databases);
  }
}

function rank(name: string): number {
  return name === 'praxis-auth' ? 0 : name === 'praxis-gateway' ? 2 : 1;
}

/** Drops this run's own databases (never anyone else's: every name carries the run id). */
async function dropDatabases(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const req = createRequire(path.join(ROOT, 'libs/platform/package.json'));
  const mongoose = req('mongoose') as typeof import('mongoose');
  const conn = await mongoose.createConnection('mongodb://127.0.0.1:27017', { serverSelectionTimeoutMS: 5_000 }).asPromise();
  try {
    for (const n of names) if (n.endsWith(`_${RUN}`)) await conn.useDb(n).dropDatabase();
  } finally {
    await conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
