// Test harness: a real auth app on its own database and Redis key prefix, with an event
// sink on the bus, plus helpers to sign up a practice and log in.
import type { EventEnvelope } from '@praxis/contracts';
import { type Logger, type ServiceDeps, openServiceDeps } from '@praxis/platform';
import { accessTokenClaimsSchema } from '@praxis/contracts';
import { deleteTestQueues, infra, testDbName, testLogger, unique, waitFor } from '@praxis/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Express } from 'express';
import { type Auth, buildAuth, ownJwks } from '../src/app';
import { type AuthConfig, authConfigSchema } from '../src/config';
import { revocationConsumerName } from '../src/sessions/consumers';
import { totpCode } from '../src/mfa/totp';

export const API = '/api/v1';

export interface Harness {
  auth: Auth;
  /** The connections it was built on (openServiceDeps), as main.ts has them. */
  deps: ServiceDeps;
  app: Express;
  events: EventEnvelope[];
  /** Wait until an event of that type (and matching `where`) has been published. */
  event(type: string, where?: (e: EventEnvelope) => boolean): Promise<EventEnvelope>;
  close(): Promise<void>;
}

/**
 * Run auth's operator command (src/cli.ts) as an operator would, against the suite's
 * database, broker and Redis (its config), with `env` on top (a KEK, KEK_PREVIOUS …).
 */
export function runCli(config: AuthConfig, env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  // The command inherits the shell's PATH and HOME, nothing else of this process's environment.
  // eslint-disable-next-line no-restricted-syntax
  const shell = process.env;
  return promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '../src/cli.ts'), ...args], {
    cwd: path.join(__dirname, '..'),
    env: {
      PATH: shell.PATH ?? '',
      HOME: shell.HOME ?? '/tmp',
      MONGO_URL: config.MONGO_URL,
      MONGO_DB: config.MONGO_DB!,
      AMQP_URL: config.AMQP_URL,
      REDIS_URL: config.REDIS_URL,
      JWKS_URL: config.JWKS_URL,
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: config.REDIS_PREFIX,
      ...env,
    },
    timeout: 60_000,
  });
}

export function testConfig(overrides: Record<string, string> = {}): AuthConfig {
  return authConfigSchema.parse({
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: testDbName('auth'),
    AMQP_URL: infra.amqpUrl,
    REDIS_URL: infra.redisUrl,
    JWKS_URL: 'http://127.0.0.1:9/unused',
    LOG_LEVEL: 'silent',
    KEK: randomBytes(32).toString('base64'),
    KEK_ID: 'test-kek',
    REDIS_PREFIX: `t:${unique('auth')}:`,
    // Tests speak as the gateway does (from loopback, with X-Forwarded-For).
    TRUSTED_PROXIES: '127.0.0.1,::1',
    LOGIN_DELAY_BASE_MS: '100',
    LOGIN_DELAY_MAX_MS: '400',
    OUTBOX_INTERVAL_MS: '50',
    // The suite's own revocation queue (the region names it), never a running auth's.
    REGION: unique('region')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-'),
    // Suites run housekeeping themselves, with the clock they choose.
    PURGE_INTERVAL_MS: '3600000',
    BUS_RETRY_DELAYS_MS: '100',
    ...overrides,
  });
}

/** Connections and an auth built on them, as main.ts does (not started); closing one closes both. */
export async function openAuth(config: AuthConfig, logger: Logger): Promise<{ auth: Auth; deps: ServiceDeps }> {
  const jwks = ownJwks();
  const deps = await openServiceDeps('auth', config, { logger, jwksSource: jwks.source });
  try {
    return { auth: await buildAuth({ ...deps, config }, jwks), deps };
  } catch (err) {
    await deps.lifecycle.stop(5_000);
    throw err;
  }
}

export async function startAuth(overrides: Record<string, string> = {}, logger: Logger = testLogger('auth')): Promise<Harness> {
  const config = testConfig(overrides);
  const { auth, deps } = await openAuth(config, logger);
  await auth.start();
  const events: EventEnvelope[] = [];
  const sink = unique('test-sink');
  await deps.bus.consume(sink, {
    bindings: ['auth.#'],
    handler: async (e) => {
      events.push(e);
    },
  });
  return {
    auth,
    deps,
    app: auth.app,
    events,
    event: (type, where = () => true) =>
      waitFor(() => events.find((e) => e.type === type && where(e)), { what: `event ${type}`, timeoutMs: 10_000 }),
    close: async () => {
      await auth.stop();
      for (const name of [sink, revocationConsumerName(config.REGION)]) {
        await deleteTestQueues(deps.bus.queuesOf(name)).catch(() => undefined);
      }
      await deps.mongo.dropDatabase().catch(() => undefined);
      await deps.lifecycle.stop(5_000);
    },
  };
}

/** A password the policy accepts, different each time. */
/** How many argon2id verifications this auth has run (its `auth_password_verifications_total`). */
export async function verifications(h: Harness): Promise<number> {
  const m = /^auth_password_verifications_total(?:\{[^}]*\})? (\d+)/m.exec(await h.auth.metrics.registry.metrics());
  return Number(m?.[1] ?? 0);
}

export const strongPassword = () => `${randomBytes(6).toString('base64url')} staple horse battery`;

export interface Practice {
  tenantId: string;
  slug: string;
  admin: { id: string; email: string; password: string };
}

export async function signUpPractice(app: Express, name = 'Test Practice'): Promise<Practice> {
  const slug = unique('px').toLowerCase();
  const email = `${unique('admin')}@example.test`;
  const password = strongPassword();
  const res = await request(app)
    .post(`${API}/tenants`)
    .send({ name, slug, admin: { name: 'Ada Admin', email, password } });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { tenantId: res.body.tenant.id, slug, admin: { id: res.body.user.id, email, password } };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: string;
}

export async function login(app: Express, slug: string, email: string, password: string, ip = '10.0.0.1'): Promise<Tokens> {
  const res = await request(app).post(`${API}/auth/login`).set('X-Forwarded-For', ip).send({ tenant: slug, email, password });
  if (res.status !== 200 || !res.body.accessToken) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Tokens;
}

export async function addUser(app: Express, adminToken: string, role: 'admin' | 'clinician' | 'receptionist') {
  const email = `${unique(role)}@example.test`;
  const password = strongPassword();
  const res = await request(app)
    .post(`${API}/users`)
    .set(bearer(adminToken))
    .send({ name: `Some ${role}`, email, role, password });
  if (res.status !== 201) throw new Error(`add user failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, email, password };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function claimsOf(token: string) {
  return accessTokenClaimsSchema.parse(jwt.decode(token));
}

/** Enrol and activate TOTP for a logged-in user; returns the secret, the recovery codes and the step time used. */
export async function enableTotp(app: Express, accessToken: string): Promise<{ secret: string; recoveryCodes: string[]; usedAt: number }> {
  const enrol = await request(app).post(`${API}/auth/mfa/totp`).set(bearer(accessToken)).send({});
  if (enrol.status !== 200) throw new Error(`enrol failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const usedAt = Date.now();
  const act = await request(app)
    .post(`${API}/auth/mfa/totp/activate`)
    .set(bearer(accessToken))
    .send({ code: totpCode(enrol.body.secret, usedAt) });
  if (act.status !== 200) throw new Error(`activate failed: ${act.status} ${JSON.stringify(act.body)}`);
  return { secret: enrol.body.secret, recoveryCodes: act.body.recoveryCodes, usedAt };
}
