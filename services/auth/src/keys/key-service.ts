// Auth's key hierarchy in use: KEK (config) → tenant key (one per practice, and one for the
// reserved tenant `platform`) → user data key (one per user) → AES-256-GCM sealed email,
// name and TOTP secrets. Unwrapped keys are cached in memory for a short while (bounded),
// and evicted at once when this process destroys them. A read never creates a key: a
// missing key means the user's fields were shredded, and they stay unreadable.
import { type KekRing, TtlCache, isDuplicateKeyError, newDataKey, randomId, unwrapKey, wrapKey } from '@praxis/platform';
import type { KeyRepository } from './model';

export interface DataKey {
  kid: string;
  key: Buffer;
}

/** Prefix of user-key ids; a sealed value whose kid has it is sealed under a user key, any other kid names a KEK (legacy). */
export const USER_KEY_PREFIX = 'uk_';
export const isUserKeyId = (kid: string) => kid.startsWith(USER_KEY_PREFIX);

/** The key a value was sealed under no longer exists (crypto-shredded): the value is gone for good. */
export class KeyDestroyedError extends Error {
  constructor(what: string) {
    super(`${what} was destroyed`);
    this.name = 'KeyDestroyedError';
  }
}

const userAad = (tenantId: string, userId: string, kid: string) => `user:${tenantId}:${userId}:${kid}`;
const userCacheKey = (tenantId: string, userId: string) => `${tenantId}|${userId}`;

export class UserKeyService {
  private readonly tenantKeys = new TtlCache<DataKey>(5 * 60_000, 10_000);
  private readonly userKeys = new TtlCache<DataKey>(60_000, 50_000);
  private readonly creating = new Map<string, Promise<DataKey>>();

  constructor(
    private readonly repo: KeyRepository,
    private readonly keks: KekRing,
  ) {}

  /** The user's data key to seal with, created (with the tenant key) on first use. */
  async userKeyForWrite(tenantId: string, userId: string): Promise<DataKey> {
    const ck = userCacheKey(tenantId, userId);
    const cached = this.userKeys.get(ck);
    if (cached) return cached;
    return this.once(`u|${ck}`, () => this.loadOrCreateUserKey(tenantId, userId));
  }

  /** The user's data key that sealed a value with id `kid`; throws KeyDestroyedError when it is gone. */
  async userKeyForRead(tenantId: string, userId: string, kid: string): Promise<DataKey> {
    const ck = userCacheKey(tenantId, userId);
    const cached = this.userKeys.get(ck);
    if (cached?.kid === kid) return cached;
    const uk = await this.loadUserKey(tenantId, userId);
    if (!uk || uk.kid !== kid) throw new KeyDestroyedError('the user key');
    return uk;
  }

  /** Crypto-shred one user: their sealed email, name and TOTP secrets become unreadable. */
  async destroyUserKey(tenantId: string, userId: string): Promise<void> {
    this.userKeys.delete(userCacheKey(tenantId, userId));
    await this.repo.deleteUserKey(tenantId, userId);
    this.userKeys.delete(userCacheKey(tenantId, userId));
  }

  /** Crypto-shred a whole tenant: the tenant key (never recreated) and every user key under it. */
  async destroyTenant(tenantId: string): Promise<void> {
    this.tenantKeys.delete(tenantId);
    await this.repo.destroyTenantKey(tenantId);
    await this.repo.deleteAllUserKeys(tenantId);
    this.tenantKeys.delete(tenantId);
    this.userKeys.deleteWhere((k) => k.startsWith(`${tenantId}|`));
  }

  /** Forget every cached key (tests, and after keys were removed by another process). */
  clearCache(): void {
    this.tenantKeys.deleteWhere(() => true);
    this.userKeys.deleteWhere(() => true);
  }

  private once(key: string, make: () => Promise<DataKey>): Promise<DataKey> {
    let pending = this.creating.get(key);
    if (!pending) {
      pending = make().finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }

  private async loadUserKey(tenantId: string, userId: string): Promise<DataKey | null> {
    const doc = await this.repo.findUserKey(tenantId, userId);
    if (!doc) return null;
    const tk = await this.tenantKey(tenantId, false);
    if (doc.wrapped.kid !== tk.kid) throw new KeyDestroyedError('the tenant key that wrapped this user key');
    const uk = { kid: doc.kid, key: unwrapKey(tk.key, doc.wrapped, userAad(tenantId, userId, doc.kid)) };
    this.userKeys.set(userCacheKey(tenantId, userId), uk);
    return uk;
  }

  private async loadOrCreateUserKey(tenantId: string, userId: string): Promise<DataKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.loadUserKey(tenantId, userId);
      if (existing) return existing;
      const tk = await this.tenantKey(tenantId, true);
      const kid = randomId(USER_KEY_PREFIX.slice(0, -1));
      const key = newDataKey();
      try {
        await this.repo.insertUserKey(tenantId, {
          userId,
          kid,
          wrapped: wrapKey(tk.key, tk.kid, key, userAad(tenantId, userId, kid)),
          createdAt: new Date(),
        });
      } catch (err) {
        if (isDuplicateKeyError(err)) continue; // another writer created it first: use that one
        throw err;
      }
      const uk = { kid, key };
      this.userKeys.set(userCacheKey(tenantId, userId), uk);
      return uk;
    }
    throw new Error('could not load or create the user key');
  }

  /** The tenant key; created on first use only when `create` (writes). A purged tenant never gets one again. */
  private async tenantKey(tenantId: string, create: boolean): Promise<DataKey> {
    const cached = this.tenantKeys.get(tenantId);
    if (cached) return cached;
    if (!create) {
      const tk = await this.loadTenantKey(tenantId);
      if (!tk) throw new KeyDestroyedError('the tenant key');
      return tk;
    }
    return this.once(`t|${tenantId}`, () => this.loadOrCreateTenantKey(tenantId));
  }

  private async loadTenantKey(tenantId: string): Promise<DataKey | null> {
    const opened = await this.repo.openTenantKey(tenantId, this.keks);
    if (opened === 'absent') return null;
    return this.remember(tenantId, opened);
  }

  private async loadOrCreateTenantKey(tenantId: string): Promise<DataKey> {
    return this.remember(tenantId, await this.repo.openOrCreateTenantKey(tenantId, this.keks));
  }

  private remember(tenantId: string, opened: DataKey | 'destroyed'): DataKey {
    if (opened === 'destroyed') throw new KeyDestroyedError('the tenant key');
    this.tenantKeys.set(tenantId, opened);
    return opened;
  }
}
