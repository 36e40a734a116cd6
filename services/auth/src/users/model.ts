// Users of a practice (and, under the reserved tenant id `platform`, Praxis support staff):
// role, argon2id password hash, TOTP state and hashed recovery codes. Email, name and the
// TOTP secrets are identifying or secret: the repository stores them sealed (AES-256-GCM
// under the user's data key from keys/, bound to tenant, user and field) and finds a user
// by email through a keyed blind index. Values sealed the old way, directly under a KEK
// (their kid is a KEK id, not `uk_…`), still open and are re-sealed under the user key
// when the document is next written. Nothing outside this file sees ciphertext. Every
// repository method takes the tenant id first.
import type { EventEnvelope } from '@praxis/contracts';
import {
  blindIndex,
  type DocUpdate,
  isDuplicateKeyError,
  type KekRing,
  modelOn,
  open,
  outboxSchemaFields,
  seal,
  type SealedValue,
  TenantRepository,
} from '@praxis/platform';
import { createHmac } from 'node:crypto';
import { KeyDestroyedError, type UserKeyService, isUserKeyId } from '../keys/key-service';
import type { DocStore } from '../common/mongo';
import { type Connection, type Model, Schema, trusted } from 'mongoose';
/** Tenant id under which platform support users live; never a practice's id or slug. */
export const PLATFORM_TENANT = 'platform';

export type UserRole = 'admin' | 'clinician' | 'receptionist' | 'support';

export interface UserDoc {
  _id: string;
  tenantId: string;
  email: string;
  name: string;
  role: UserRole;
  passwordHash: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  passwordChangedAt?: Date;
  /** Active TOTP secret, sealed; present when 2FA is on. */
  totpSecret?: SealedValue;
  /** Secret of an enrolment not yet activated, sealed. */
  totpPending?: SealedValue;
  /** Highest TOTP time step accepted: a code of that step or earlier is a replay. */
  totpLastStep?: number;
  /** SHA-256 of each unused recovery code. */
  recoveryCodes?: string[];
}

const sealed = { type: { kid: String, ct: String }, _id: false };

const schema = new Schema<StoredUser>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    emailIndex: { type: String, required: true },
    emailSealed: { ...sealed, required: true },
    nameSealed: { ...sealed, required: true },
    role: { type: String, required: true, enum: ['admin', 'clinician', 'receptionist', 'support'] },
    passwordHash: { type: String, required: true },
    disabled: { type: Boolean, required: true, default: false },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    passwordChangedAt: { type: Date },
    totpSecret: { ...sealed, default: undefined },
    totpPending: { ...sealed, default: undefined },
    totpLastStep: { type: Number },
    recoveryCodes: { type: [String], default: undefined },
    ...outboxSchemaFields,
  },
  { collection: 'users', versionKey: false, strict: 'throw' },
);
schema.index({ tenantId: 1, emailIndex: 1 }, { unique: true });
schema.index({ tenantId: 1, _id: 1 });

/** How a user is stored: email and name sealed, the email also as a blind index. */
export type StoredUser = Omit<UserDoc, 'email' | 'name'> & { emailIndex: string; emailSealed: SealedValue; nameSealed: SealedValue };

export function userModel(conn: Connection): Model<StoredUser> {
  return modelOn(conn, 'User', schema);
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

type SealedField = 'emailSealed' | 'nameSealed' | 'totpSecret' | 'totpPending';
const SEALED_FIELDS: SealedField[] = ['emailSealed', 'nameSealed', 'totpSecret', 'totpPending'];

/** The associated data of each sealed field: binds it to its tenant, user and field. */
function fieldAad(tenantId: string, userId: string, field: SealedField): string {
  if (field === 'emailSealed') return `user|${tenantId}|${userId}|email`;
  if (field === 'nameSealed') return `user|${tenantId}|${userId}|name`;
  // Pending and active secrets share one binding: activation moves the pending value as it is.
  return `totp|${tenantId}|${userId}`;
}

export class UserRepo extends TenantRepository<StoredUser> {
  /** One blind-index key per configured KEK, the current one first (lookups still find not-yet-rotated users). */
  private readonly indexKeys: Buffer[];

  constructor(
    model: Model<StoredUser>,
    store: DocStore,
    private readonly keks: KekRing,
    private readonly keys: UserKeyService,
  ) {
    super(model, { collection: store.col, notify: store.notify });
    // A key for the blind index derived from the KEK, so the index is useless without it.
    this.indexKeys = keks.all().map((k) => createHmac('sha256', k.key).update('praxis-auth|user-email-index').digest());
  }

  private indexWith(key: Buffer, tenantId: string, email: string): string {
    return blindIndex(key, normaliseEmail(email), `user-email|${tenantId}`);
  }

  emailIndex(tenantId: string, email: string): string {
    return this.indexWith(this.indexKeys[0]!, tenantId, email);
  }

  private async sealField(tenantId: string, userId: string, field: SealedField, value: string): Promise<SealedValue> {
    const uk = await this.keys.userKeyForWrite(tenantId, userId);
    return seal(uk.key, uk.kid, value, fieldAad(tenantId, userId, field));
  }

  /** Open a sealed field: under the user key it names, or (legacy) directly under the KEK it names. */
  private async openField(tenantId: string, userId: string, field: SealedField, sealed: SealedValue): Promise<string> {
    const aad = fieldAad(tenantId, userId, field);
    if (isUserKeyId(sealed.kid)) {
      const uk = await this.keys.userKeyForRead(tenantId, userId, sealed.kid);
      return open(uk.key, sealed, aad).toString('utf8');
    }
    return open(this.keks.get(sealed.kid), sealed, aad).toString('utf8');
  }

  /** Seal a TOTP secret (pending or active: one binding) under the user's data key. */
  sealTotp(tenantId: string, userId: string, secret: string): Promise<SealedValue> {
    return this.sealField(tenantId, userId, 'totpSecret', secret);
  }

  async openTotp(user: UserDoc, which: 'totpSecret' | 'totpPending'): Promise<string | undefined> {
    const sealed = user[which];
    return sealed ? this.openField(user.tenantId, user._id, which, sealed) : undefined;
  }

  private async toStored(u: UserDoc): Promise<StoredUser> {
    const { email, name, ...rest } = u;
    return {
      ...rest,
      emailIndex: this.emailIndex(u.tenantId, email),
      emailSealed: await this.sealField(u.tenantId, u._id, 'emailSealed', normaliseEmail(email)),
      nameSealed: await this.sealField(u.tenantId, u._id, 'nameSealed', name),
    };
  }

  /** Plain view of a stored user; null when their key was destroyed (shredded: as good as gone). */
  private async toUser(s: StoredUser | null): Promise<UserDoc | null> {
    if (!s) return null;
    const { emailIndex: _i, emailSealed, nameSealed, ...rest } = s;
    try {
      return {
        ...rest,
        email: await this.openField(s.tenantId, s._id, 'emailSealed', emailSealed),
        name: await this.openField(s.tenantId, s._id, 'nameSealed', nameSealed),
      };
    } catch (err) {
      if (err instanceof KeyDestroyedError) return null;
      throw err;
    }
  }

  async create(doc: UserDoc, events: EventEnvelope[]): Promise<void> {
    // While a KEK rotation is under way, an existing user may still carry an index under the
    // old KEK, which the unique index cannot compare with the new one: look first.
    if (this.indexKeys.length > 1 && (await this.findByEmail(doc.tenantId, doc.email))) {
      throw Object.assign(new Error('a user with that email exists'), { code: 11000 });
    }
    const stored = await this.toStored(doc);
    try {
      await this.insert(stored, events);
    } catch (err) {
      // The key was made for this new user id alone; leave no orphan behind.
      await this.keys.destroyUserKey(doc.tenantId, doc._id).catch(() => undefined);
      throw err;
    }
  }

  async get(tenantId: string, userId: string): Promise<UserDoc | null> {
    return this.toUser(await this.findDoc(tenantId, userId));
  }

  async findByEmail(tenantId: string, email: string): Promise<UserDoc | null> {
    const candidates = this.indexKeys.map((k) => this.indexWith(k, tenantId, email));
    const emailIndex = candidates.length === 1 ? candidates[0] : trusted({ $in: candidates });
    return this.toUser(await this.model.findOne(this.scope(tenantId, { emailIndex })).lean<StoredUser>());
  }

  /** A page of users; a user whose key was destroyed is left out (their fields are gone). */
  async list(tenantId: string, limit: number, after?: string): Promise<UserDoc[]> {
    const docs = await this.findPage(tenantId, { after, limit });
    const users = await Promise.all(docs.map((d) => this.toUser(d)));
    return users.filter((u): u is UserDoc => u !== null);
  }

  async countActiveAdmins(tenantId: string): Promise<number> {
    return this.model.countDocuments(this.scope(tenantId, { role: 'admin', disabled: false }));
  }

  /**
   * One single-document write: the change, its events, and an optional guard on the
   * current state (`expect`), so concurrent writers cannot both win. A document still
   * holding legacy (KEK-sealed) fields is then re-sealed under the user key.
   */
  async update(
    tenantId: string,
    userId: string,
    change: { set?: Partial<Omit<UserDoc, 'email'>>; unset?: (keyof UserDoc)[]; pull?: Partial<Record<keyof UserDoc, unknown>> },
    events: EventEnvelope[],
    expect: Record<string, unknown> = {},
  ): Promise<UserDoc | null> {
    const { name, ...plain } = change.set ?? {};
    const set: Record<string, unknown> = {
      ...plain,
      ...(name !== undefined ? { nameSealed: await this.sealField(tenantId, userId, 'nameSealed', name) } : {}),
    };
    const update: DocUpdate = { $set: { ...set, updatedAt: new Date() } };
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((k) => [k, '' as const]));
    if (change.pull) update.$pull = change.pull;
    const doc = await this.updateDoc(tenantId, userId, update, events, expect);
    return this.toUser(doc ? await this.resealLegacy(doc) : null);
  }

  /**
   * Lazy migration: fields still sealed directly under a KEK are re-sealed under the user's
   * data key, and an email index made with an older KEK is remade with the current one.
   * A compare-and-set on the old values, so a concurrent change is never overwritten (the
   * next write tries again). Returns the document as it now is.
   */
  async resealLegacy(doc: StoredUser): Promise<StoredUser> {
    const legacy = SEALED_FIELDS.filter((f) => doc[f] && !isUserKeyId(doc[f].kid));
    try {
      const email = await this.openField(doc.tenantId, doc._id, 'emailSealed', doc.emailSealed);
      const index = this.emailIndex(doc.tenantId, email);
      if (!legacy.length && index === doc.emailIndex) return doc;
      const guard: Record<string, unknown> = { emailIndex: doc.emailIndex };
      const set: Record<string, unknown> = { emailIndex: index };
      for (const f of legacy) {
        guard[`${f}.ct`] = doc[f]!.ct;
        set[f] = await this.sealField(doc.tenantId, doc._id, f, await this.openField(doc.tenantId, doc._id, f, doc[f]!));
      }
      return (await this.updateDoc(doc.tenantId, doc._id, { $set: set }, [], guard)) ?? doc;
    } catch (err) {
      // Shredded, or (during a rotation) an email index taken twice: leave the document as it is.
      if (err instanceof KeyDestroyedError || isDuplicateKeyError(err)) return doc;
      throw err;
    }
  }

  /**
   * For KEK rotation: every user (all tenants: the one cross-tenant scan, by design) with a
   * legacy field or an old email index is migrated. A user whose values no configured key
   * opens is counted as unreadable and left as it is, so one bad document does not stop the
   * rotation; the operator keeps KEK_PREVIOUS until that count is explained.
   */
  async resealAllLegacy(): Promise<{ migrated: number; unreadable: number }> {
    let migrated = 0;
    let unreadable = 0;
    for await (const doc of this.model.find({}).lean<StoredUser[]>().cursor() as unknown as AsyncIterable<StoredUser>) {
      try {
        if ((await this.resealLegacy(doc)) !== doc) migrated++;
      } catch {
        unreadable++;
      }
    }
    return { migrated, unreadable };
  }
}
