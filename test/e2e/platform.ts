// The whole platform as in production, for end-to-end tests and benchmarks: every service
// that exists runs as its own process (`node --import tsx --import telemetry-register
// src/main.ts`), on free ephemeral ports, with its own database names, a random KEK per
// run and a private audit queue, so it never meets scripts/up's fixed ports or another
// suite's data. Node built-ins only (this folder is not a workspace package).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const SERVICE_NAMES = ['auth', 'records', 'consent', 'messaging', 'audit'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number] | 'gateway';

// A test fixture, like libs/testing: the infrastructure may be pointed elsewhere, and the
// child processes inherit PATH and HOME. Nothing else here reads the environment.
// eslint-disable-next-line no-restricted-syntax
const parentEnv = process.env;
const infra = {
  mongoUrl: parentEnv.TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017',
  amqpUrl: parentEnv.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: parentEnv.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  rabbitManagement: parentEnv.TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672',
};

export interface PlatformOptions {
  /** Services to start besides the gateway; default: every one that exists. */
  services?: readonly (typeof SERVICE_NAMES)[number][];
  /** Extra environment for one process (e.g. higher gateway rate limits for a benchmark). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  logLevel?: string;
  readyTimeoutMs?: number;
  /**
   * Restart a process that exits on its own (as Kubernetes would), after this many ms;
   * default: never. scripts/chaos uses it, since a service may exit when its database goes.
   */
  restartAfterMs?: number;
}

export interface Platform {
  run: string;
  /** Base URL of the gateway (the only one the tests should talk to). */
  url: string;
  /** Base URL of each running process, for benchmarks and readiness. */
  urls: Partial<Record<ServiceName, string>>;
  services: (typeof SERVICE_NAMES)[number][];
  logDir: string;
  /** Another gateway process on this platform, with some environment changed (e.g. an upstream). */
  startGateway(env: Record<string, string>): Promise<string>;
  /**
   * A second process (replica) of one service: the same database, KEK and queues as the
   * first, its own port; its base URL. Stopped with the platform.
   */
  startReplica(name: (typeof SERVICE_NAMES)[number], env?: Record<string, string>): Promise<string>;
  /** Stop one service: SIGTERM (graceful) or SIGKILL (a crash); resolves with how it exited. */
  stopService(
    name: (typeof SERVICE_NAMES)[number],
    signal?: 'SIGTERM' | 'SIGKILL',
  ): Promise<{ pid: number; code: number | null; signal: NodeJS.Signals | null }>;
  /** Start a stopped service again, with the same environment (port, database, KEK) as before. */
  restartService(name: (typeof SERVICE_NAMES)[number]): Promise<{ pid: number }>;
  /** The process id of one service's current process. */
  pid(name: ServiceName): number | undefined;
  /** The environment one service's current process was started with (an operator command runs with it). */
  env(name: ServiceName): Record<string, string>;
  /** Send a signal to one service's current process and wait until it has exited. */
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Start one service again (same port, database and key) and wait until it is ready; ms taken. */
  restart(name: ServiceName): Promise<number>;
  /** How many times each service was restarted after exiting on its own. */
  restarts: Partial<Record<ServiceName, number>>;
  stop(): Promise<void>;
}

export function serviceExists(name: string): boolean {
  return existsSync(path.join(ROOT, 'services', name, 'src', 'main.ts'));
}

/** Messaging's third parties: Mailpit and the SMS simulators that scripts/infra runs, with the credentials it made. */
function messagingEnv(): Record<string, string> {
  const data = path.join(ROOT, '.data');
  const secret = (name: string) => readFileSync(path.join(data, 'secrets', name), 'utf8').trim();
  return {
    SMTP_URL: parentEnv.TEST_SMTP_URL ?? 'smtp://127.0.0.1:1025',
    SMTP_CA_FILE: path.join(data, 'mailpit', 'tls.crt'),
    SMTP_FROM: 'Praxis E2E <no-reply@e2e.praxis.test>',
    TWILIO_API_URL: 'http://127.0.0.1:4010',
    TWILIO_ACCOUNT_SID: secret('sms-twilio-account-sid'),
    TWILIO_AUTH_TOKEN: secret('sms-twilio-auth-token'),
    VONAGE_API_URL: 'http://127.0.0.1:4011',
    VONAGE_API_KEY: secret('sms-vonage-api-key'),
    VONAGE_API_SECRET: secret('sms-vonage-api-secret'),
    VONAGE_SIGNATURE_SECRET: secret('sms-vonage-signature-secret'),
  };
}

/**
 * A free port below Linux's ephemeral range (32768–60999 here), so that the many outgoing
 * connections of a test run cannot take it between this check and the service's listen.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

interface Proc {
  name: ServiceName;
  child: ChildProcess;
  url: string;
  log: string;
  exited: boolean;
  /** Killed on purpose (kill(), restart(), stop()): not restarted by supervision. */
  killed: boolean;
}

function spawnService(name: ServiceName, env: Record<string, string>, log: string): ChildProcess {
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', '--import', 'tsx', '--import', '@praxis/platform/telemetry-register', 'src/main.ts'],
    {
      cwd: path.join(ROOT, 'services', name),
      env: { PATH: parentEnv.PATH ?? '', HOME: parentEnv.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(p: Proc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.exited) throw new Error(`${p.name} exited during start-up; last log lines:\n${tail(p.log)}`);
    try {
      const res = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} was not ready within ${timeoutMs} ms; last log lines:\n${tail(p.log)}`);
}

async function stopProc(p: Proc): Promise<void> {
  if (p.exited) return;
  p.killed = true;
  const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** Delete one run's private queues through RabbitMQ's management API (best effort). */
async function deleteQueues(names: string[]): Promise<void> {
  const auth = 'Basic ' + Buffer.from('guest:guest').toString('base64');
  await Promise.all(
    names.map((q) =>
      fetch(`${infra.rabbitManagement}/api/queues/%2F/${encodeURIComponent(q)}`, {
        method: 'DELETE',
        headers: { authorization: auth },
        signal: AbortSignal.timeout(5_000),
      })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined),
    ),
  );
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const run = randomBytes(4).toString('hex');
  const services = (opts.services ?? SERVICE_NAMES).filter(serviceExists);
  if (!services.includes('auth')) throw new Error('the auth service does not exist yet; nothing to test end to end');
  const logDir = path.join(ROOT, '.data', 'logs', 'e2e');
  mkdirSync(logDir, { recursive: true });

  const ports: Partial<Record<ServiceName, number>> = {};
  for (const name of [...services, 'gateway'] as ServiceName[]) ports[name] = await freePort();
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const [name, port] of Object.entries(ports)) urls[name as ServiceName] = `http://127.0.0.1:${port}`;

  const auditConsumer = `e2e-${run}`;
  // Private bus consumers for records and consent too, so a run never takes another's messages.
  const consumerPrefix = `e2e-${run}-`;
  // Service-to-service client secrets (docs/platform.md), fresh per run.
  const clientSecrets = { consent: randomBytes(32).toString('base64url'), messaging: randomBytes(32).toString('base64url') };
  const participants = ['records', 'consent', 'audit', 'messaging'].filter((p) => services.includes(p as (typeof SERVICE_NAMES)[number]));
  const retryDelays = [200, 1000];
  const common: Record<string, string> = {
    HOST: '127.0.0.1',
    MONGO_URL: infra.mongoUrl,
    AMQP_URL: infra.amqpUrl,
    REDIS_URL: infra.redisUrl,
    JWKS_URL: `${urls.auth}/.well-known/jwks.json`,
    LOG_LEVEL: opts.logLevel ?? 'warn',
    KEK_ID: `e2e-${run}`,
    PUBLIC_URL: urls.gateway!,
    CORS_ORIGINS: urls.gateway!,
    BUS_RETRY_DELAYS_MS: retryDelays.join(','),
    // auth's own Redis keys (throttles, challenges) stay apart from every other run's.
    REDIS_PREFIX: `praxis:e2e:${run}:`,
    // …and so do the gateway's per-IP and per-user counters (every run comes from 127.0.0.1).
    RATE_LIMIT_PREFIX: `praxis:e2e:${run}:gw`,
    AUDIT_CONSUMER_NAME: auditConsumer,
    // The services believe the gateway's X-Forwarded-For (it runs on this machine); the
    // gateway itself, which clients reach directly, believes no one (set below).
    TRUSTED_PROXIES: '127.0.0.1,::1',
    // A short checkpoint interval so a test can see a signed head quickly.
    AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
    RECORDS_CONSUMER_PREFIX: consumerPrefix,
    CONSENT_CONSUMER_PREFIX: consumerPrefix,
    MESSAGING_CONSUMER_PREFIX: consumerPrefix,
    SUBJECT_RIGHTS_PARTICIPANTS: participants.join(','),
  };
  for (const name of services) common[`${name.toUpperCase()}_URL`] = urls[name]!;

  const procs: Proc[] = [];
  // One KEK per service for the whole run, so a restarted process opens what the first wrote.
  const keks = new Map<ServiceName, string>();
  const current = new Map<ServiceName, Proc>();
  const envs = new Map<ServiceName, Record<string, string>>();
  const restarts: Partial<Record<ServiceName, number>> = {};
  let stopping = false;
  const start = (name: ServiceName, overrides: Record<string, string> = {}, tag: string = name) => {
    const log = path.join(logDir, `${run}-${tag}.log`);
    if (!keks.has(name)) keks.set(name, randomBytes(32).toString('base64'));
    const env = {
      ...common,
      PORT: String(ports[name]),
      MONGO_DB: `e2e_${name}_${run}`,
      KEK: keks.get(name)!,
      OTEL_SERVICE_NAME: `praxis-${name}`,
      ...(name === 'messaging' ? { ...messagingEnv(), WEBHOOK_BASE_URL: `http://127.0.0.1:${ports.gateway}` } : {}),
      ...(name in clientSecrets ? { SERVICE_CLIENT_SECRET: clientSecrets[name as keyof typeof clientSecrets] } : {}),
      ...(name === 'auth'
        ? {
            SERVICE_CLIENT_SECRETS: Object.entries(clientSecrets)
              .map(([n, v]) => `${n}:${v}`)
              .join(','),
          }
        : {}),
      ...(opts.env?.[name] ?? {}),
      ...overrides,
    };
    const child = spawnService(name, env, log);
    if (tag === name) envs.set(name, env);
    const p: Proc = { name, child, url: `http://127.0.0.1:${env.PORT}`, log, exited: false, killed: false };
    child.once('exit', () => {
      p.exited = true;
      // Exited by itself (not killed here, not stopping): start it again, as Kubernetes would.
      if (!p.killed && !stopping && opts.restartAfterMs !== undefined && tag === name && current.get(name) === p) {
        restarts[name] = (restarts[name] ?? 0) + 1;
        setTimeout(() => {
          if (!stopping && current.get(name) === p) start(name);
        }, opts.restartAfterMs);
      }
    });
    procs.push(p);
    if (tag === name) current.set(name, p);
    return p;
  };

  const kill = async (name: ServiceName, signal: NodeJS.Signals = 'SIGKILL') => {
    const p = current.get(name);
    if (!p || p.exited) return;
    p.killed = true;
    const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
    p.child.kill(signal);
    await gone;
  };
  const restart = async (name: ServiceName) => {
    const t0 = Date.now();
    const p = current.get(name);
    if (p && !p.exited) await kill(name);
    await waitReady(start(name), opts.readyTimeoutMs ?? 60_000);
    return Date.now() - t0;
  };

  const stop = async () => {
    stopping = true;
    // The gateway first, then the services, as a rolling shutdown would.
    for (const p of [...procs].reverse()) await stopProc(p);
    const queues = [
      `audit.${auditConsumer}`,
      ...[
        'records.erasure-requests',
        'records.tenant-purges',
        'consent.patients',
        'consent.erasures',
        'consent.erasure-answers',
        'messaging.erasure-requests',
        'messaging.notice-requests',
        'messaging.preferences',
        'messaging.deliveries',
        'messaging.batches',
      ].map((q) => q.replace('.', `.${consumerPrefix}`)),
    ];
    await deleteQueues(queues.flatMap((q) => [q, `${q}.parked`, ...retryDelays.map((d) => `${q}.retry.${d}ms`)]));
  };

  try {
    const timeout = opts.readyTimeoutMs ?? 60_000;
    // auth first: the others fetch its JWKS.
    await waitReady(start('auth'), timeout);
    await Promise.all(services.filter((s) => s !== 'auth').map((s) => waitReady(start(s), timeout)));
    await waitReady(start('gateway', { TRUSTED_PROXIES: '' }), timeout);
  } catch (err) {
    await stop();
    throw err;
  }
  const startGateway = async (env: Record<string, string>) => {
    const port = await freePort();
    const p = start('gateway', { TRUSTED_PROXIES: '', ...env, PORT: String(port) }, `gateway-${port}`);
    await waitReady(p, opts.readyTimeoutMs ?? 60_000);
    return p.url;
  };
  const startReplica: Platform['startReplica'] = async (name, env = {}) => {
    const port = await freePort();
    const p = start(name, { ...env, PORT: String(port) }, `${name}-${port}`);
    await waitReady(p, opts.readyTimeoutMs ?? 60_000);
    return p.url;
  };
  const stopService: Platform['stopService'] = async (name, signal = 'SIGTERM') => {
    const p = current.get(name);
    if (!p || p.exited) throw new Error(`${name} is not running`);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      p.child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    p.killed = true;
    p.child.kill(signal);
    return { pid: p.child.pid!, ...(await exit) };
  };
  const restartService: Platform['restartService'] = async (name) => {
    const p = current.get(name);
    if (p && !p.exited) throw new Error(`${name} is still running`);
    const next = start(name);
    await waitReady(next, opts.readyTimeoutMs ?? 60_000);
    return { pid: next.child.pid! };
  };
  return {
    run,
    url: urls.gateway!,
    urls,
    services,
    logDir,
    startGateway,
    startReplica,
    stopService,
    restartService,
    pid: (name) => current.get(name)?.child.pid,
    env: (name) => ({ ...(envs.get(name) ?? {}) }),
    kill,
    restart,
    restarts,
    stop,
  };
}
