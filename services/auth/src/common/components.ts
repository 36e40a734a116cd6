// What auth's features are built from: the platform connections it uses, its
// repositories, keys, token issuer and password hasher. `buildAuth` (app.ts) makes one
// set per process; each feature names the few pieces it needs (`<Feature>Deps`, a
// `Pick<…>` in its use-cases.ts, and `<Feature>RouteDeps` in its routes.ts) and is handed
// exactly those (`pick`), so a reader sees a use case's dependencies in its signature.
import type { Authenticator, Bus, KekRing, Logger, Metrics, OutboxRelay, Redis, ServiceEvents } from '@praxis/platform';
import type { Connection } from 'mongoose';
import type { AuthConfig } from '../config';
import type { UserKeyService } from '../keys/key-service';
import type { KeyRepository } from '../keys/model';
import type { SessionRepo } from '../sessions/model';
import type { GrantRepo } from '../support/model';
import type { TenantRepo } from '../tenants/model';
import type { TokenIssuer } from '../tokens/issuer';
import type { KeyStore } from '../tokens/key-store';
import type { UserRepo } from '../users/model';
import type { PasswordHasher } from './passwords';

export interface AuthComponents {
  config: AuthConfig;
  logger: Logger;
  metrics: Metrics;
  mongo: Connection;
  redis: Redis;
  bus: Bus;
  authenticator: Authenticator;
  /** The current KEK and the retired ones still configured (KEK_PREVIOUS). */
  keks: KekRing;
  /** Tenant keys and user data keys (auth's key hierarchy). */
  keyRepo: KeyRepository;
  userKeys: UserKeyService;
  /** Token-signing keys and the JWKS. */
  keys: KeyStore;
  issuer: TokenIssuer;
  hasher: PasswordHasher;
  tenants: TenantRepo;
  users: UserRepo;
  sessions: SessionRepo;
  grants: GrantRepo;
  relay: OutboxRelay;
  /** Events not carried by a changed document (failed logins, tokens issued, rotations), stored before answering. */
  events: ServiceEvents;
}

/** Only the named pieces: what a feature is handed (the compiler checks they are enough). */
export function pick<K extends keyof AuthComponents>(all: AuthComponents, ...keys: K[]): Pick<AuthComponents, K> {
  const some = {} as Pick<AuthComponents, K>;
  for (const k of keys) some[k] = all[k];
  return some;
}
