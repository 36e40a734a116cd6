// Storage of auth's key hierarchy: one tenant key per practice (and one for the reserved
// tenant `platform`), wrapped by a KEK, and one data key per user, wrapped by the tenant
// key. Kept apart from the user documents they protect, so deleting a key document makes
// every copy of the sealed fields (replicas, backups, a raw copy) unreadable:
// crypto-shredding. Every method but the rotation scan takes the tenant id first.
import {
  modelOn,
  type SealedValue,
  sealedValueSchema,
  type TenantKeyDoc,
  tenantKeyModel,
  TenantKeyRepository,
  TenantRepository,
} from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface UserKeyDoc {
  /** `<tenantId>|<userId>`: one data key per user, found by `_id` and the tenant id. */
  _id: string;
  tenantId: string;
  userId: string;
  /** The key id (`uk_…`), carried by every value sealed with it. */
  kid: string;
  /** The data key wrapped by the tenant key named in `wrapped.kid`. */
  wrapped: SealedValue;
  createdAt: Date;
}

const userKeySchema = new Schema<UserKeyDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    kid: { type: String, required: true },
    wrapped: { type: sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'user_keys', versionKey: false, strict: 'throw' },
);
userKeySchema.index({ tenantId: 1 });

export interface KeyModels {
  TenantKey: Model<TenantKeyDoc>;
  UserKey: Model<UserKeyDoc>;
}

export function keyModels(conn: Connection): KeyModels {
  return {
    TenantKey: tenantKeyModel(conn),
    UserKey: modelOn(conn, 'UserKey', userKeySchema),
  };
}

export const userKeyDocId = (tenantId: string, userId: string) => `${tenantId}|${userId}`;

/** User keys: a tenant-scoped store (every filter carries the tenant id; no events). */
class UserKeyStore extends TenantRepository<UserKeyDoc> {
  async find(tenantId: string, userId: string): Promise<UserKeyDoc | null> {
    const doc = await this.findDoc(tenantId, userKeyDocId(tenantId, userId));
    return doc && doc.userId === userId ? doc : null;
  }

  add(tenantId: string, doc: Omit<UserKeyDoc, '_id' | 'tenantId'>): Promise<void> {
    return this.insert({ _id: userKeyDocId(tenantId, doc.userId), tenantId, ...doc }, []);
  }

  remove(tenantId: string, userId: string): Promise<number> {
    return this.deleteDoc(tenantId, userKeyDocId(tenantId, userId));
  }
}

/** Tenant keys (the shared store in libs/platform) and user keys. */
export class KeyRepository extends TenantKeyRepository {
  private readonly userKeys: UserKeyStore;

  constructor(readonly m: KeyModels) {
    super(m.TenantKey);
    this.userKeys = new UserKeyStore(m.UserKey);
  }

  findUserKey(tenantId: string, userId: string): Promise<UserKeyDoc | null> {
    return this.userKeys.find(tenantId, userId);
  }

  insertUserKey(tenantId: string, doc: Omit<UserKeyDoc, '_id' | 'tenantId'>): Promise<void> {
    return this.userKeys.add(tenantId, doc);
  }

  deleteUserKey(tenantId: string, userId: string): Promise<number> {
    return this.userKeys.remove(tenantId, userId);
  }

  deleteAllUserKeys(tenantId: string): Promise<number> {
    return this.userKeys.deleteAllForTenant(tenantId);
  }
}
