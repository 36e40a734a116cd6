// Builds the auth service from its dependencies (main.ts passes the real ones; tests,
// benchmarks and cli.ts build it the same way): repositories, keys, token issuer,
// password hasher, the outbox relay, and the express app — the platform app (health,
// metrics, OpenAPI, problem+json) with auth's routers and the JWKS at the root.
import {
  type Authenticator,
  type Bus,
  type JwksSource,
  type JwksVerifier,
  KekRing,
  KeyedSerialiser,
  type Logger,
  type Metrics,
  OutboxRelay,
  PeriodicTask,
  type Redis,
  ServiceEvents,
  createHttpApp,
  serialisedCollection,
  syncIndexes,
} from '@praxis/platform';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { type AuthComponents, pick } from './common/components';
import { PasswordHasher } from './common/passwords';
import type { AuthConfig } from './config';
import { housekeeping } from './deletion/use-cases';
import { deletionRoutes } from './deletion/routes';
import { UserKeyService } from './keys/key-service';
import { KeyRepository, keyModels } from './keys/model';
import { loginRoutes } from './login/routes';
import { mfaRoutes } from './mfa/routes';
import { practiceAdminRoutes } from './practice-admins/routes';
import { serviceTokenRoutes } from './service-tokens/routes';
import { startRevocationConsumer } from './sessions/consumers';
import { SessionRepo, sessionModel } from './sessions/model';
import { reassertRevocations } from './sessions/use-cases';
import { GrantRepo, grantModel } from './support/model';
import { supportRoutes } from './support/routes';
import { TenantRepo, tenantModel } from './tenants/model';
import { tenantRoutes } from './tenants/routes';
import { TokenIssuer } from './tokens/issuer';
import { KeyStore } from './tokens/key-store';
import { signingKeyModel } from './tokens/model';
import { UserRepo, userModel } from './users/model';
import { userRoutes } from './users/routes';

export interface AuthDeps {
  config: AuthConfig;
  logger: Logger;
  metrics: Metrics;
  mongo: Connection;
  redis: Redis;
  bus: Bus;
  /** Verifies access tokens against auth's own key store (see `ownJwks`). */
  verifier: Pick<JwksVerifier, 'refresh'>;
  authenticator: Authenticator;
  readiness?: Record<string, () => Promise<unknown>>;
}

export interface Auth extends AuthComponents {
  app: Express;
  /** Start the outbox relay, the purge scheduler and the region's revocation consumer (once ready). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Auth verifies its own tokens from its key store, never over HTTP to itself. The verifier
 * is opened before the store exists (openServiceDeps), so its key source is attached by
 * buildAuth; until then there is nothing to trust.
 */
export function ownJwks(): { source: JwksSource; attach(store: KeyStore): void } {
  let store: KeyStore | undefined;
  return {
    source: async () => (store ? store.jwks() : { keys: [] }),
    attach: (s) => void (store = s),
  };
}

export async function buildAuth(deps: AuthDeps, jwks?: { attach(store: KeyStore): void }): Promise<Auth> {
  const { config, logger, metrics, mongo, redis, bus } = deps;
  const keks = new KekRing(config);
  const keyRepo = new KeyRepository(keyModels(mongo));
  const userKeys = new UserKeyService(keyRepo, keks);
  const keys = new KeyStore(signingKeyModel(mongo), { keks, retiredGraceMs: (config.ACCESS_TOKEN_TTL_S + 120) * 1000 });
  jwks?.attach(keys);
  // One serialiser per process: every update of a document by _id, the repositories' and
  // the relay's, runs one at a time (FerretDB would otherwise lose one of two).
  const serial = new KeyedSerialiser();
  const models = { tenants: tenantModel(mongo), users: userModel(mongo), sessions: sessionModel(mongo), grants: grantModel(mongo) };
  const cols = {
    tenants: serialisedCollection(models.tenants.collection, serial),
    users: serialisedCollection(models.users.collection, serial),
    sessions: serialisedCollection(models.sessions.collection, serial),
    grants: serialisedCollection(models.grants.collection, serial),
  };
  // Unique indexes matter for correctness (slugs, emails): build them before serving.
  await syncIndexes(mongo);
  await keys.ensureKeys();
  await deps.verifier.refresh();
  keys.onNewKeys(() => void deps.verifier.refresh().catch(() => undefined));
  const relay = new OutboxRelay({
    bus,
    logger,
    metrics,
    conn: mongo,
    collections: Object.values(cols),
    intervalMs: config.OUTBOX_INTERVAL_MS,
  });
  await relay.init();
  const notify = () => relay.nudge();

  const components: AuthComponents = {
    config,
    logger,
    metrics,
    mongo,
    redis,
    bus,
    authenticator: deps.authenticator,
    keks,
    keyRepo,
    userKeys,
    keys,
    issuer: new TokenIssuer(keys, config.ACCESS_TOKEN_TTL_S),
    hasher: new PasswordHasher({
      memoryKiB: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME,
      concurrency: config.HASH_CONCURRENCY,
      queue: config.HASH_QUEUE,
      // Every argon2id verification, the dummy ones for unknown accounts included: the
      // number of password guesses actually checked (the lockout's test reads it).
      onVerify: () => metrics.counter('auth_password_verifications_total', 'argon2id password verifications run').inc(),
    }),
    tenants: new TenantRepo(models.tenants, { col: cols.tenants, notify }),
    users: new UserRepo(models.users, { col: cols.users, notify }, keks, userKeys),
    sessions: new SessionRepo(models.sessions, { col: cols.sessions, notify }),
    grants: new GrantRepo(models.grants, { col: cols.grants, notify }),
    relay,
    events: new ServiceEvents(mongo, relay),
  };

  // Each feature is handed what its `<Feature>Deps` names (the compiler checks it is enough):
  // two-factor checks and sessions are used by sign-in, users, support and deletion.
  const mfaNeeds = ['config', 'events', 'metrics', 'redis', 'users'] as const;
  const sessionNeeds = ['config', 'issuer', 'redis', 'sessions'] as const;
  const loginNeeds = [...mfaNeeds, ...sessionNeeds, 'hasher', 'tenants'] as const;
  const deletionNeeds = [...loginNeeds, 'grants', 'logger', 'userKeys'] as const;
  const app = createHttpApp({
    service: 'auth',
    logger,
    metrics,
    readiness: deps.readiness ?? {},
    trustedProxies: config.TRUSTED_PROXIES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    routers: [
      tenantRoutes(pick(components, 'authenticator', 'config', 'redis', 'hasher', 'logger', 'tenants', 'users')),
      deletionRoutes(pick(components, 'authenticator', ...deletionNeeds)),
      loginRoutes(pick(components, 'authenticator', 'grants', ...loginNeeds)),
      mfaRoutes(pick(components, 'authenticator', ...loginNeeds)),
      userRoutes(pick(components, 'authenticator', 'hasher', ...mfaNeeds, ...sessionNeeds)),
      supportRoutes(pick(components, 'authenticator', 'grants', ...loginNeeds)),
      serviceTokenRoutes(pick(components, 'authenticator', 'config', 'events', 'issuer', 'tenants')),
      practiceAdminRoutes(pick(components, 'authenticator', 'config', 'events', 'mongo', 'users')),
    ],
    configure: (express) => {
      express.get('/.well-known/jwks.json', async (_req, res, next) => {
        try {
          const published = await keys.jwks();
          // Verifiers may cache briefly; the next key is published well before it signs.
          res.setHeader('Cache-Control', 'public, max-age=60');
          res.json(published);
        } catch (err) {
          next(err);
        }
      });
    },
  });

  const deletionDeps = pick(components, ...deletionNeeds);
  const scheduler = new PeriodicTask('tenant purge', config.PURGE_INTERVAL_MS, () => housekeeping(deletionDeps), logger);
  // After Redis comes back (it may have lost the last revocations), put them back.
  const reassert = () =>
    void reassertRevocations(pick(components, 'sessions', 'redis', 'config')).then(
      (n) => n && logger.info({ sessions: n }, 'revocation marks re-asserted in Redis'),
      (err: unknown) => logger.warn({ err }, 'could not re-assert revocation marks'),
    );
  let started = false;

  return {
    ...components,
    app,
    async start() {
      started = true;
      relay.start();
      redis.on('ready', reassert);
      reassert();
      scheduler.start();
      const markTtlS = config.SESSION_MAX_S + config.ACCESS_TOKEN_TTL_S + 60;
      await startRevocationConsumer(bus, { redis, markTtlS }, config.REGION);
    },
    async stop() {
      if (!started) return;
      redis.off('ready', reassert);
      await scheduler.stop();
      await relay.stop();
    },
  };
}
