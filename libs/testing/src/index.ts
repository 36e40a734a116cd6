// Fixtures for tests: infrastructure URLs, unique names, a fresh tenant's tokens signed
// by a throwaway key, log capture, and waiting helpers. Tests only.
import { type AccessTokenClaims, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@praxis/contracts';
import { type JwksSource, JwksVerifier, createLogger, type Logger, randomId, uuidv7 } from '@praxis/platform';
import { execFile, execFileSync } from 'node:child_process';
import { type KeyObject, generateKeyPairSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';

export const ROOT = path.resolve(__dirname, '../../..');

// Tests may point at other servers through these; defaults are the local infrastructure.
export const infra = {
  mongoUrl: process.env.TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017',
  amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** A name no other test run will use (database names, tenant slugs, service names). */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A text nobody else will write: the marker the plaintext-at-rest checks look for in the raw files. */
export const marker = (tag: string) =>
  `Zq${tag}${randomId()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)}`;

/** A database name for one test suite, so suites never share or wipe each other's data. */
export function testDbName(service: string): string {
  return `t_${service}_${randomBytes(4).toString('hex')}`;
}

export function testLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** A logger whose JSON lines are kept in memory, to assert what reaches the log. */
export function capturingLogger(service = 'test'): { logger: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination: stream }), lines: () => lines };
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 (tls.crt and tls.key in `dir`),
 * for a test's own TLS server (Mailpit with STARTTLS, a TLS Redis); the certificate is
 * also the CA its clients trust.
 */
export function localhostCertificate(dir: string, days = 2): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', String(days), ...subject, '-keyout', keyFile, '-out', certFile],
    {
      stdio: 'ignore',
    },
  );
  return { certFile, keyFile };
}

export async function runInfra(command: 'up' | 'restart-rabbitmq' | 'status'): Promise<void> {
  await promisify(execFile)('bash', [path.join(ROOT, 'scripts/infra'), command], { timeout: 180_000 });
}

/**
 * A throwaway token issuer: an ES256 key pair with a JWKS, signing access tokens the way
 * the auth service does, so a service can be tested on its own. A fresh tenant id each time.
 */
export class TestIssuer {
  readonly kid = randomId('test');
  private readonly privateKey: KeyObject;
  readonly jwks: { keys: Record<string, unknown>[] };

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'ES256', use: 'sig' }] };
  }

  source(): JwksSource {
    return async () => this.jwks as { keys: never[] };
  }

  verifier(): JwksVerifier {
    return new JwksVerifier({ source: this.source() });
  }

  sign(claims: Partial<AccessTokenClaims> & { tid: string; role: AccessTokenClaims['role'] }, expiresInSeconds = 600): string {
    const { iat: _iat, exp: _exp, iss: _iss, aud: _aud, ...rest } = claims;
    return jwt.sign({ sub: randomId('usr'), sid: randomId('ses'), amr: ['pwd'], jti: uuidv7(), ...rest }, this.privateKey, {
      algorithm: 'ES256',
      keyid: this.kid,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      expiresIn: expiresInSeconds,
    });
  }

  /** A fresh tenant with one user of each role, as bearer tokens. */
  tenant(): TestTenant {
    const tenantId = randomId('ten');
    const mk = (role: AccessTokenClaims['role']) => {
      const sub = randomId('usr');
      return { id: sub, token: this.sign({ tid: tenantId, role, sub }) };
    };
    return { tenantId, admin: mk('admin'), clinician: mk('clinician'), receptionist: mk('receptionist') };
  }
}

export interface TestTenant {
  tenantId: string;
  admin: { id: string; token: string };
  clinician: { id: string; token: string };
  receptionist: { id: string; token: string };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Delete a test consumer's queues (main, retries, parked) so runs do not pile up queues. */
export async function deleteTestQueues(queues: { queue: string; parked: string; retries: string[] }): Promise<void> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(infra.amqpUrl);
  try {
    const ch = await conn.createChannel();
    for (const q of [queues.queue, queues.parked, ...queues.retries]) await ch.deleteQueue(q).catch(() => undefined);
    await ch.close().catch(() => undefined);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Whether a queue exists on the test broker (a consumer has declared it). */
export async function queueExists(name: string): Promise<boolean> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(infra.amqpUrl);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // a missing queue closes the channel with 404
    return await ch.checkQueue(name).then(
      () => true,
      () => false,
    );
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Build a probe event (the platform's diagnostic event type) for bus tests. */
export function probeEvent(run: string, seq: number, id: string = uuidv7()) {
  return {
    id,
    type: 'platform.probe.sent' as const,
    version: 1,
    occurredAt: new Date().toISOString(),
    tenantId: run,
    actor: { kind: 'system' as const, id: 'test' },
    correlationId: run,
    data: { seq, run },
  };
}

export interface RawResponse {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  /** The body parsed as JSON when it is JSON, else its text. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Send exact bytes to an app (an express app is listened on an ephemeral port for the
 * call, as supertest does; a URL is used as it is). supertest re-encodes a Buffer as JSON,
 * so bodies that are deliberately not valid text or not what their headers claim go here.
 */
export async function sendRaw(
  target: import('node:http').RequestListener | string,
  req: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawResponse> {
  const http = await import('node:http');
  let server: import('node:http').Server | undefined;
  let base = typeof target === 'string' ? target : '';
  if (typeof target !== 'string') {
    server = http.createServer(target);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  try {
    const url = new URL(req.path, base);
    const bytes = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    return await new Promise<RawResponse>((resolve, reject) => {
      const r = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: url.pathname + url.search,
          headers: { ...(bytes ? { 'Content-Length': String(bytes.length) } : {}), ...req.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        },
      );
      r.on('error', reject);
      r.end(bytes);
    });
  } finally {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  }
}

// Private FerretDB servers and the index proof for query shapes (docs/platform.md).
export * from './ferretdb';
export * from './bench';
export * from './service';
