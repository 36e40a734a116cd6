// Users of a practice (and, under the reserved tenant id `platform`, Praxis support staff):
// role, argon2id password hash, TOTP state (secret sealed under the KEK) and hashed
// recovery codes. Email and name are identifying: the repository stores them sealed
// (AES-256-GCM under the KEK, bound to tenant, user and field) and finds a user by email
// through a keyed blind index. Nothing outside this file sees ciphertext. Every repository
// method takes the tenant id first.
import type { EventEnvelope } from '@praxis/contracts';
import { type SealedValue, blindIndex, openString, outboxSchemaFields, outboxUpdate, seal, withOutbox } from '@praxis/platform';
import { createHmac } from 'node:crypto';
import { type DocStore, updateAndReturn } from '../shared/mongo';
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
  return (conn.models.User as Model<StoredUser>) ?? conn.model<StoredUser>('User', schema);
}

export interface FieldKeys {
  kek: Buffer;
  kekId: string;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class UserRepo {
  private readonly indexKey: Buffer;

  constructor(
    readonly model: Model<StoredUser>,
    private readonly store: DocStore,
    private readonly keys: FieldKeys,
  ) {
    // A key for the blind index derived from the KEK, so the index is useless without it.
    this.indexKey = createHmac('sha256', keys.kek).update('praxis-auth|user-email-index').digest();
  }

  private aad(tenantId: string, userId: string, field: 'email' | 'name'): string {
    return `user|${tenantId}|${userId}|${field}`;
  }

  emailIndex(tenantId: string, email: string): string {
    return blindIndex(this.indexKey, normaliseEmail(email), `user-email|${tenantId}`);
  }

  private sealField(tenantId: string, userId: string, field: 'email' | 'name', value: string): SealedValue {
    return seal(this.keys.kek, this.keys.kekId, value, this.aad(tenantId, userId, field));
  }

  private toStored(u: UserDoc): StoredUser {
    const { email, name, ...rest } = u;
    return {
      ...rest,
      emailIndex: this.emailIndex(u.tenantId, email),
      emailSealed: this.sealField(u.tenantId, u._id, 'email', normaliseEmail(email)),
      nameSealed: this.sealField(u.tenantId, u._id, 'name', name),
    };
  }

  private toUser(s: StoredUser | null): UserDoc | null {
    if (!s) return null;
    const { emailIndex: _i, emailSealed, nameSealed, ...rest } = s;
    return {
      ...rest,
      email: openString(this.keys.kek, emailSealed, this.aad(s.tenantId, s._id, 'email')),
      name: openString(this.keys.kek, nameSealed, this.aad(s.tenantId, s._id, 'name')),
    };
  }

  async create(doc: UserDoc, events: EventEnvelope[]): Promise<void> {
    await this.store.col.insertOne(withOutbox(this.toStored(doc), events) as never);
    if (events.length) this.store.notify();
  }

  async get(tenantId: string, userId: string): Promise<UserDoc | null> {
    return this.toUser(await this.model.findOne({ tenantId, _id: userId }).lean<StoredUser>());
  }

  async findByEmail(tenantId: string, email: string): Promise<UserDoc | null> {
    return this.toUser(await this.model.findOne({ tenantId, emailIndex: this.emailIndex(tenantId, email) }).lean<StoredUser>());
  }

  async list(tenantId: string, limit: number, after?: string): Promise<UserDoc[]> {
    const docs = await this.model
      .find({ tenantId, ...(after ? { _id: trusted({ $gt: after }) } : {}) })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<StoredUser[]>();
    return docs.map((d) => this.toUser(d)!);
  }

  async countActiveAdmins(tenantId: string): Promise<number> {
    return this.model.countDocuments({ tenantId, role: 'admin', disabled: false });
  }

  /**
   * One single-document write: the change, its events, and an optional guard on the
   * current state (`expect`), so concurrent writers cannot both win.
   */
  async update(
    tenantId: string,
    userId: string,
    change: { set?: Partial<Omit<UserDoc, 'email'>>; unset?: (keyof UserDoc)[]; pull?: Partial<Record<keyof UserDoc, unknown>> },
    events: EventEnvelope[],
    expect: Record<string, unknown> = {},
  ): Promise<UserDoc | null> {
    const ob = outboxUpdate(events);
    const { name, ...plain } = change.set ?? {};
    const set: Record<string, unknown> = { ...plain, ...(name !== undefined ? { nameSealed: this.sealField(tenantId, userId, 'name', name) } : {}) };
    const update: Record<string, unknown> = { $set: { ...set, updatedAt: new Date(), ...(events.length ? ob.$set : {}) } };
    if (events.length) update.$push = ob.$push;
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((k) => [k, '']));
    if (change.pull) update.$pull = change.pull;
    const doc = await updateAndReturn<StoredUser>(this.store.col, { tenantId, _id: userId, ...expect }, update);
    if (doc && events.length) this.store.notify();
    return this.toUser(doc);
  }

  async removeAll(tenantId: string): Promise<number> {
    return (await this.model.deleteMany({ tenantId })).deletedCount;
  }
}
