// Privacy notices (Art. 13): the practice's notice versions (its own text, stored as is),
// the acknowledgements patients gave (in person, or through an emailed link), and the
// emailed links themselves — of which only a SHA-256 of the token is stored, so the
// database never holds a usable link. Every document is written once, with its events.
import type { EventEnvelope } from '@praxis/contracts';
import { TenantCollection, modelOn, outboxSchemaFields, pendingEventsIn, withoutOutbox } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface NoticeVersionDoc {
  _id: string;
  tenantId: string;
  version: string;
  text: string;
  createdBy: string;
  createdAt: Date;
}

export interface NoticeRequestDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  noticeVersion: string;
  tokenHash: string;
  requestedBy: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface NoticeAckDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  noticeVersion: string;
  method: 'in_person' | 'email';
  /** The emailed link it came through: the ack's _id is derived from it, so a link acknowledges once. */
  requestId?: string;
  /** Staff who recorded it (in person); absent when the patient acknowledged through the link. */
  recordedBy?: string;
  acknowledgedAt: Date;
}

const versionSchema = new Schema<NoticeVersionDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    version: { type: String, required: true },
    text: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'notice_versions', versionKey: false, strict: 'throw' },
);
versionSchema.index({ tenantId: 1, version: 1 }, { unique: true });
versionSchema.index({ tenantId: 1, createdAt: -1 });

const requestSchema = new Schema<NoticeRequestDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    noticeVersion: { type: String, required: true },
    tokenHash: { type: String, required: true },
    requestedBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'notice_requests', versionKey: false, strict: 'throw' },
);
requestSchema.index({ tokenHash: 1 }, { unique: true });
requestSchema.index({ tenantId: 1, patientId: 1, createdAt: 1 });

const ackSchema = new Schema<NoticeAckDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    noticeVersion: { type: String, required: true },
    method: { type: String, enum: ['in_person', 'email'], required: true },
    requestId: { type: String },
    recordedBy: { type: String },
    acknowledgedAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'notice_acks', versionKey: false, strict: 'throw' },
);
ackSchema.index({ tenantId: 1, patientId: 1, acknowledgedAt: 1 });

export interface NoticeModels {
  Version: Model<NoticeVersionDoc>;
  Request: Model<NoticeRequestDoc>;
  Ack: Model<NoticeAckDoc>;
}

export function noticeModels(conn: Connection): NoticeModels {
  return {
    Version: modelOn(conn, 'NoticeVersion', versionSchema),
    Request: modelOn(conn, 'NoticeRequest', requestSchema),
    Ack: modelOn(conn, 'NoticeAck', ackSchema),
  };
}

export const ackIdOfRequest = (requestId: string) => `req:${requestId}`;

export class NoticeRepository {
  private readonly versions: TenantCollection<NoticeVersionDoc>;
  private readonly requests: TenantCollection<NoticeRequestDoc>;
  private readonly acks: TenantCollection<NoticeAckDoc>;

  constructor(readonly m: NoticeModels) {
    this.versions = new TenantCollection(m.Version);
    this.requests = new TenantCollection(m.Request);
    this.acks = new TenantCollection(m.Ack);
  }

  /** False when the version already exists in this practice. */
  createVersion(doc: NoticeVersionDoc, events: EventEnvelope[]): Promise<boolean> {
    return this.versions.insertIfNew(doc, events);
  }

  listVersions(tenantId: string): Promise<NoticeVersionDoc[]> {
    return this.versions.findMany(tenantId, {}, { sort: { createdAt: -1 }, limit: 500, projection: withoutOutbox });
  }

  findVersion(tenantId: string, version: string): Promise<NoticeVersionDoc | null> {
    return this.m.Version.findOne(this.versions.scope(tenantId, { version }), withoutOutbox).lean<NoticeVersionDoc>().exec();
  }

  createRequest(doc: NoticeRequestDoc, events: EventEnvelope[]): Promise<void> {
    return this.requests.insert(doc, events);
  }

  /** The link a token belongs to (any practice: the token is the credential, so this read has no tenant scope). */
  findRequestByTokenHash(tokenHash: string): Promise<NoticeRequestDoc | null> {
    return this.m.Request.findOne({ tokenHash }, withoutOutbox).lean<NoticeRequestDoc>().exec();
  }

  /** Record an acknowledgement; false when it exists already (a link used twice). */
  acknowledge(doc: NoticeAckDoc, events: EventEnvelope[]): Promise<boolean> {
    return this.acks.insertIfNew(doc, events);
  }

  ackOfRequest(tenantId: string, requestId: string): Promise<NoticeAckDoc | null> {
    return this.acks.findDoc(tenantId, ackIdOfRequest(requestId));
  }

  acksOf(tenantId: string, patientId: string): Promise<NoticeAckDoc[]> {
    return this.acks.findMany(tenantId, { patientId }, { sort: { acknowledgedAt: 1 }, projection: withoutOutbox });
  }

  requestsOf(tenantId: string, patientId: string): Promise<NoticeRequestDoc[]> {
    return this.requests.findMany(tenantId, { patientId }, { sort: { createdAt: 1 }, projection: withoutOutbox });
  }

  /** Events still in the outboxes of the patient's acknowledgements and links (an erasure carries them over). */
  pendingEventsOf(tenantId: string, patientId: string): Promise<EventEnvelope[]> {
    return pendingEventsIn([this.acks, this.requests], tenantId, { patientId });
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    const acks = await this.acks.deleteWhere(tenantId, { patientId });
    const requests = await this.requests.deleteWhere(tenantId, { patientId });
    return acks + requests;
  }
}
