// Sessions: one per login (or support session). The refresh token is `<sessionId>.<secret>`;
// only the SHA-256 of the secret is stored, and every secret ever used stays listed so a
// replay of an old one is recognised and ends the session.
import type { EventEnvelope, SupportScope } from '@praxis/contracts';
import { modelOn, outboxSchemaFields, TenantRepository } from '@praxis/platform';
import type { DocStore } from '../common/mongo';
import { type Connection, type Model, Schema, trusted } from 'mongoose';
import type { UserRole } from '../users/model';

/**
 * Used refresh secrets remembered per session, so that replaying one revokes the session.
 * A session lasts at most SESSION_MAX_S (12 h) and an access token ACCESS_TOKEN_TTL_S
 * (10 min), so a client that refreshes when its token expires uses about 72; an older
 * secret replayed after more rotations than this is refused as unknown, without revoking.
 */
export const USED_REFRESH_HASHES_KEPT = 100;

/** The list of used secrets a rotation writes: the last USED_REFRESH_HASHES_KEPT, `oldHash` last. */
export function usedHashesAfter(used: readonly string[], oldHash: string): string[] {
  return [...used.slice(-(USED_REFRESH_HASHES_KEPT - 1)), oldHash];
}

export type SessionKind = 'user' | 'platform' | 'support';

export type RevokeReason =
  'logout' | 'admin' | 'refresh-reuse' | 'password-change' | 'grant-revoked' | 'user-disabled' | 'others-ended' | 'tenant-deletion';

export interface SessionDoc {
  _id: string;
  tenantId: string;
  userId: string;
  kind: SessionKind;
  role: UserRole;
  amr: ('pwd' | 'otp' | 'rec')[];
  scope?: SupportScope;
  grantId?: string;
  /** Support sessions: the platform support user (also `userId`). */
  supportUserId?: string;
  refreshHash: string;
  usedRefreshHashes: string[];
  createdAt: Date;
  lastUsedAt: Date;
  /** Absolute end: 12 h after login, or the support grant's end if sooner. */
  expiresAt: Date;
  revokedAt?: Date;
  revokedReason?: RevokeReason;
}

const schema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    kind: { type: String, required: true, enum: ['user', 'platform', 'support'] },
    role: { type: String, required: true },
    amr: { type: [String], required: true },
    scope: { type: String },
    grantId: { type: String },
    supportUserId: { type: String },
    refreshHash: { type: String, required: true },
    usedRefreshHashes: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date },
    revokedReason: { type: String },
    ...outboxSchemaFields,
  },
  { collection: 'sessions', versionKey: false, strict: 'throw' },
);
schema.index({ tenantId: 1, userId: 1 });
schema.index({ tenantId: 1, kind: 1, createdAt: -1 });
schema.index({ tenantId: 1, grantId: 1 });

export function sessionModel(conn: Connection): Model<SessionDoc> {
  return modelOn(conn, 'Session', schema);
}

export class SessionRepo extends TenantRepository<SessionDoc> {
  constructor(model: Model<SessionDoc>, store: DocStore) {
    super(model, { collection: store.col, notify: store.notify });
  }

  async create(doc: SessionDoc, events: EventEnvelope[]): Promise<void> {
    await this.insert(doc, events);
  }

  async get(tenantId: string, sessionId: string): Promise<SessionDoc | null> {
    return this.findDoc(tenantId, sessionId);
  }

  /**
   * The refresh token names its session but not its tenant: look it up by id, and every
   * later write is scoped by the tenant found here.
   */
  async getForRefresh(sessionId: string): Promise<SessionDoc | null> {
    return this.model.findOne({ _id: sessionId }).lean();
  }

  /**
   * Rotate the refresh secret only if `oldHash` is still the current one (single winner).
   * The list of used secrets is written whole, the last USED_REFRESH_HASHES_KEPT of them:
   * a session refreshed in a loop must not grow its document (and the cost of every later
   * write) without bound. Writing the list whole is safe because only a rotation changes
   * it and the compare-and-set on `refreshHash` lets one rotation win. (FerretDB ignores
   * `$push`'s `$slice`, so the list cannot be trimmed by the update itself.)
   */
  async rotate(
    s: Pick<SessionDoc, 'tenantId' | '_id' | 'usedRefreshHashes'>,
    oldHash: string,
    newHash: string,
    now: Date,
  ): Promise<SessionDoc | null> {
    const usedRefreshHashes = usedHashesAfter(s.usedRefreshHashes, oldHash);
    return this.updateDoc(s.tenantId, s._id, { $set: { refreshHash: newHash, lastUsedAt: now, usedRefreshHashes } }, [], {
      refreshHash: oldHash,
      revokedAt: trusted({ $exists: false }),
    });
  }

  async markRevoked(tenantId: string, sessionId: string, reason: RevokeReason, events: EventEnvelope[]): Promise<boolean> {
    const doc = await this.updateDoc(tenantId, sessionId, { $set: { revokedAt: new Date(), revokedReason: reason } }, events, {
      revokedAt: trusted({ $exists: false }),
    });
    return doc !== null;
  }

  /**
   * Housekeeping across tenants: sessions revoked at or after `since`, for putting their
   * Redis marks back after Redis lost data (see reassertRevocations). A scan on FerretDB;
   * it runs only when auth (re)connects to Redis.
   */
  async revokedSince(since: Date): Promise<Pick<SessionDoc, '_id' | 'expiresAt' | 'revokedReason'>[]> {
    return this.model.find({ revokedAt: trusted({ $gte: since }) }, { _id: 1, expiresAt: 1, revokedReason: 1 }).lean();
  }

  /** Sessions still open (not revoked, not past their end). */
  async openFor(tenantId: string, filter: { userId?: string; grantId?: string; kind?: SessionDoc['kind'] }): Promise<SessionDoc[]> {
    return this.model
      .find(this.scope(tenantId, { ...filter, revokedAt: trusted({ $exists: false }), expiresAt: trusted({ $gt: new Date() }) }))
      .lean();
  }

  async listSupport(tenantId: string, limit: number, before?: Date): Promise<SessionDoc[]> {
    return this.model
      .find(this.scope(tenantId, { kind: 'support', ...(before ? { createdAt: trusted({ $lt: before }) } : {}) }))
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean();
  }

  /**
   * Housekeeping across tenants (the scheduler): forget practice-user sessions that ended
   * before `cutoff`. Support sessions are kept: the practice can list every support login.
   */
  async removeEndedBefore(cutoff: Date): Promise<number> {
    return (await this.model.deleteMany({ kind: trusted({ $ne: 'support' }), expiresAt: trusted({ $lt: cutoff }) })).deletedCount;
  }
}
