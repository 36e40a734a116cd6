// Users of a practice (and, under the reserved tenant id `platform`, Praxis support staff):
// role, argon2id password hash, TOTP state (secret sealed under the KEK) and hashed
// recovery codes. Every repository method takes the tenant id first.
import type { EventEnvelope } from '@praxis/contracts';
import { type SealedValue, outboxSchemaFields, outboxUpdate, withOutbox } from '@praxis/platform';
import { updateAndReturn } from '../shared/mongo';
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

const schema = new Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    email: { type: String, required: true },
    name: { type: String, required: true },
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
schema.index({ tenantId: 1, email: 1 }, { unique: true });
schema.index({ tenantId: 1, _id: 1 });

export function userModel(conn: Connection): Model<UserDoc> {
  return (conn.models.User as Model<UserDoc>) ?? conn.model<UserDoc>('User', schema);
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class UserRepo {
  constructor(readonly model: Model<UserDoc>) {}

  async create(doc: UserDoc, events: EventEnvelope[]): Promise<void> {
    await this.model.collection.insertOne(withOutbox(doc, events) as never);
  }

  async get(tenantId: string, userId: string): Promise<UserDoc | null> {
    return this.model.findOne({ tenantId, _id: userId }).lean();
  }

  async findByEmail(tenantId: string, email: string): Promise<UserDoc | null> {
    return this.model.findOne({ tenantId, email: normaliseEmail(email) }).lean();
  }

  async list(tenantId: string, limit: number, after?: string): Promise<UserDoc[]> {
    return this.model
      .find({ tenantId, ...(after ? { _id: trusted({ $gt: after }) } : {}) })
      .sort({ _id: 1 })
      .limit(limit)
      .lean();
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
    change: { set?: Partial<UserDoc>; unset?: (keyof UserDoc)[]; pull?: Partial<Record<keyof UserDoc, unknown>> },
    events: EventEnvelope[],
    expect: Record<string, unknown> = {},
  ): Promise<UserDoc | null> {
    const ob = outboxUpdate(events);
    const update: Record<string, unknown> = { $set: { ...change.set, updatedAt: new Date(), ...(events.length ? ob.$set : {}) } };
    if (events.length) update.$push = ob.$push;
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((k) => [k, '']));
    if (change.pull) update.$pull = change.pull;
    return updateAndReturn(this.model, { tenantId, _id: userId, ...expect }, update);
  }

  async removeAll(tenantId: string): Promise<number> {
    return (await this.model.deleteMany({ tenantId })).deletedCount;
  }
}
