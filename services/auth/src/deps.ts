// Everything auth's use-cases need, opened once: the platform dependencies (logger,
// MongoDB, Redis, bus, token verification against auth's own key store), repositories,
// the password hasher, signing keys and the outbox relay. main.ts and the tests share it.
import {
  KekRing,
  KeyedSerialiser,
  type Logger,
  OutboxRelay,
  type ServiceDeps,
  openServiceDeps,
  serialisedCollection,
  syncIndexes,
} from '@praxis/platform';
import type { AuthConfig } from './config';
import { type KeyStore, KeyStore as KeyStoreImpl } from './tokens/key-store';
import { signingKeyModel } from './tokens/model';
import { TokenIssuer } from './tokens/issuer';
import { PasswordHasher } from './shared/passwords';
import { TenantRepo, tenantModel } from './tenants/model';
import { UserRepo, userModel } from './users/model';
import { SessionRepo, sessionModel } from './sessions/model';
import { GrantRepo, grantModel } from './support/model';
import { KeyRepository, keyModels } from './keys/model';
import { UserKeyService } from './keys/key-service';

export interface AuthDeps extends ServiceDeps {
  config: AuthConfig;
  /** The current KEK (config KEK). */
  kek: Buffer;
  /** The current KEK and the retired ones still configured (KEK_PREVIOUS). */
  keks: KekRing;
  /** Tenant keys and user data keys (auth's key hierarchy). */
  keyRepo: KeyRepository;
  userKeys: UserKeyService;
  keys: KeyStore;
  issuer: TokenIssuer;
  hasher: PasswordHasher;
  tenants: TenantRepo;
  users: UserRepo;
  sessions: SessionRepo;
  grants: GrantRepo;
  relay: OutboxRelay;
}

export async function openAuthDeps(config: AuthConfig, opts: { logger?: Logger } = {}): Promise<AuthDeps> {
  // Auth verifies its own tokens from its key store, never over HTTP to itself.
  let keys: KeyStore | undefined;
  const base = await openServiceDeps('auth', config, {
    ...(opts.logger ? { logger: opts.logger } : {}),
    jwksSource: async () => {
      // Before the store is open there is nothing to trust yet; refreshed once it is.
      return keys ? keys.jwks() : { keys: [] };
    },
  });
  try {
    const keks = new KekRing(config);
    const kek = keks.current().key;
    const keyRepo = new KeyRepository(keyModels(base.mongo));
    const userKeys = new UserKeyService(keyRepo, keks);
    const store = new KeyStoreImpl(signingKeyModel(base.mongo), {
      keks,
      retiredGraceMs: (config.ACCESS_TOKEN_TTL_S + 120) * 1000,
    });
    keys = store;
    // One serialiser per process: every update of a document by _id, the repositories' and
    // the relay's, runs one at a time (FerretDB would otherwise lose one of two).
    const serial = new KeyedSerialiser();
    const models = {
      tenants: tenantModel(base.mongo),
      users: userModel(base.mongo),
      sessions: sessionModel(base.mongo),
      grants: grantModel(base.mongo),
    };
    const cols = {
      tenants: serialisedCollection(models.tenants.collection, serial),
      users: serialisedCollection(models.users.collection, serial),
      sessions: serialisedCollection(models.sessions.collection, serial),
      grants: serialisedCollection(models.grants.collection, serial),
    };
    await syncIndexes(base.mongo);
    await store.ensureKeys();
    await base.verifier.refresh();
    store.onNewKeys(() => void base.verifier.refresh().catch(() => undefined));
    const relay = new OutboxRelay({
      bus: base.bus,
      logger: base.logger,
      metrics: base.metrics,
      conn: base.mongo,
      collections: Object.values(cols),
      intervalMs: config.OUTBOX_INTERVAL_MS,
    });
    await relay.init();
    const notify = () => relay.nudge();
    const tenants = new TenantRepo(models.tenants, { col: cols.tenants, notify });
    const users = new UserRepo(models.users, { col: cols.users, notify }, keks, userKeys);
    const sessions = new SessionRepo(models.sessions, { col: cols.sessions, notify });
    const grants = new GrantRepo(models.grants, { col: cols.grants, notify });
    return {
      ...base,
      config,
      kek,
      keks,
      keyRepo,
      userKeys,
      keys: store,
      issuer: new TokenIssuer(store, config.ACCESS_TOKEN_TTL_S),
      hasher: new PasswordHasher({
        memoryKiB: config.ARGON2_MEMORY_KIB,
        timeCost: config.ARGON2_TIME,
        concurrency: config.HASH_CONCURRENCY,
        queue: config.HASH_QUEUE,
        // Every argon2id verification, the dummy ones for unknown accounts included: the
        // number of password guesses actually checked (the lockout's test reads it).
        onVerify: () => base.metrics.counter('auth_password_verifications_total', 'argon2id password verifications run').inc(),
      }),
      tenants,
      users,
      sessions,
      grants,
      relay,
    };
  } catch (err) {
    await base.lifecycle.stop(5_000);
    throw err;
  }
}
