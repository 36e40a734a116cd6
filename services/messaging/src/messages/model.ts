// Messages: one document per outbound email or text. The body, the subject and the
// destination are sealed (AES-256-GCM) under the patient's messaging data key, each bound
// by its AAD to tenant, message and field; ids, channel, status, provider, attempts, costs
// and times are plain. Status changes go through the serialised collection shared with the
// outbox relay (FerretDB updates are not isolated, docs/platform.md).
import type { EventEnvelope } from '@praxis/contracts';
import {
  type SealedValue,
  TenantCollection,
  TenantRepository,
  modelOn,
  outboxSchemaFields,
  randomId,
  sealedValueSchema,
} from '@praxis/platform';
import mongoose, { type Collection as MongooseCollection, type Connection, type Model, Schema } from 'mongoose';
import type { KeyService, PatientKey } from '../keys/key-service';
import type { SmsProviderName } from '../providers/sms-provider';

export type Channel = 'sms' | 'email';
export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'blocked';
/** What a message is for: a practice's message, or one leg of a direct message, or a notice. */
export type MessagePurpose = 'message' | 'dm-link' | 'dm-code' | 'privacy-notice' | 'practice-notice';

export const finalStatuses: readonly MessageStatus[] = ['sent', 'delivered', 'failed', 'blocked'];

export interface MessageContent {
  to: string;
  subject?: string;
  body: string;
}

export interface MessageDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  channel: Channel;
  purpose: MessagePurpose;
  status: MessageStatus;
  reason?: string;
  keyId: string;
  sealed: { to: SealedValue; subject?: SealedValue; body: SealedValue };
  templateId?: string;
  batchId?: string;
  directMessageId?: string;
  /** Credits reserved for this text (SMS only), refunded when it fails or is blocked. */
  credits: number;
  segments: number;
  encoding?: 'GSM-7' | 'UCS-2';
  provider?: string;
  providerMessageId?: string;
  /** Providers called for it, in order (the last one is retried first after a crash). */
  tried: string[];
  attempts: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
  deliveredAt?: Date;
  failedAt?: Date;
}

export interface Message {
  id: string;
  patientId: string;
  channel: Channel;
  status: MessageStatus;
  reason?: string;
  provider?: string;
  attempts: number;
  segments?: number;
  templateId?: string;
  batchId?: string;
  createdAt: string;
  updatedAt: string;
  sentAt?: string;
  deliveredAt?: string;
  failedAt?: string;
}

const messageSchema = new Schema<MessageDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    purpose: { type: String, required: true },
    status: { type: String, required: true },
    reason: { type: String },
    keyId: { type: String, required: true },
    sealed: {
      to: { type: sealedValueSchema, required: true },
      subject: { type: sealedValueSchema },
      body: { type: sealedValueSchema, required: true },
    },
    templateId: { type: String },
    batchId: { type: String },
    directMessageId: { type: String },
    credits: { type: Number, required: true },
    segments: { type: Number, required: true },
    encoding: { type: String },
    provider: { type: String },
    providerMessageId: { type: String },
    tried: { type: [String], required: true },
    attempts: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    sentAt: { type: Date },
    deliveredAt: { type: Date },
    failedAt: { type: Date },
    ...outboxSchemaFields,
  },
  { collection: 'messages', versionKey: false, strict: 'throw' },
);
messageSchema.index({ tenantId: 1, patientId: 1, _id: 1 });
messageSchema.index({ tenantId: 1, batchId: 1, status: 1 });

/** Provider message id → our message, for delivery receipts (found by `_id` equality). */
interface ProviderRefDoc {
  _id: string;
  tenantId: string;
  messageId: string;
}
const providerRefSchema = new Schema<ProviderRefDoc>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, messageId: { type: String, required: true } },
  { collection: 'provider_refs', versionKey: false, strict: 'throw' },
);
// An erasure deletes the patient's refs by their messages' ids (`{tenantId, messageId: {$in}}`).
providerRefSchema.index({ tenantId: 1, messageId: 1 });

export function messageModels(conn: Connection): { Message: Model<MessageDoc>; ProviderRef: Model<ProviderRefDoc> } {
  return {
    Message: modelOn(conn, 'Message', messageSchema),
    ProviderRef: modelOn(conn, 'ProviderRef', providerRefSchema),
  };
}

export const newMessageId = () => randomId('msg');
const aad = (tenantId: string, id: string, field: keyof MessageContent) => `message|${tenantId}|${id}|${field}`;

export type NewMessage = Omit<
  MessageDoc,
  '_id' | 'tenantId' | 'keyId' | 'sealed' | 'status' | 'tried' | 'attempts' | 'createdAt' | 'updatedAt'
> & { status?: MessageStatus; reason?: string };

/** Messages on the tenant base; the provider references, a second collection, a `TenantCollection`. */
export class MessageRepository extends TenantRepository<MessageDoc> {
  private readonly providerRefs: TenantCollection<ProviderRefDoc>;

  constructor(
    private readonly models: ReturnType<typeof messageModels>,
    private readonly keys: KeyService,
    /** The messages collection with per-document serialised updates. */
    collection: MongooseCollection,
  ) {
    super(models.Message, { collection });
    this.providerRefs = new TenantCollection(models.ProviderRef);
  }

  /** Insert a message with its events. False when a message with this id already exists (a batch resumed). */
  async create(tenantId: string, id: string, input: NewMessage, content: MessageContent, events: EventEnvelope[]): Promise<boolean> {
    const pk = await this.keys.keyOfPatient(tenantId, input.patientId);
    const now = new Date();
    const doc: MessageDoc = {
      ...input,
      _id: id,
      tenantId,
      status: input.status ?? 'queued',
      keyId: pk.kid,
      sealed: this.sealContent(tenantId, id, pk, content),
      tried: [],
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    return this.insertIfNew(doc, events);
  }

  find(tenantId: string, id: string): Promise<MessageDoc | null> {
    return this.findDoc(tenantId, id);
  }

  /**
   * The message by id alone (the delivery worker: the event names the tenant, the document
   * proves it; the one read here not scoped by a tenant id).
   */
  async findForDelivery(id: string): Promise<MessageDoc | null> {
    return this.model.findOne({ _id: id }).lean<MessageDoc>().exec();
  }

  async content(doc: MessageDoc): Promise<MessageContent> {
    const pk = await this.keys.patientKey(doc.tenantId, doc.patientId, doc.keyId);
    const read = (f: keyof MessageContent) =>
      doc.sealed[f] ? this.keys.openWith(pk, doc.sealed[f], aad(doc.tenantId, doc._id, f)) : undefined;
    const subject = read('subject');
    return { to: read('to')!, body: read('body')!, ...(subject !== undefined ? { subject } : {}) };
  }

  /** One page of the patient's messages, by descending id, below the id `after`. */
  listForPatient(tenantId: string, patientId: string, page: { after?: string; limit: number }): Promise<MessageDoc[]> {
    const before = page.after !== undefined ? { _id: mongoose.trusted({ $lt: page.after }) } : {};
    return this.findMany(tenantId, { patientId, purpose: 'message', ...before }, { sort: { _id: -1 }, limit: page.limit });
  }

  allForPatient(tenantId: string, patientId: string): Promise<MessageDoc[]> {
    return this.findMany(tenantId, { patientId }, { sort: { createdAt: 1 } });
  }

  async countByStatus(tenantId: string, batchId: string): Promise<Record<MessageStatus, number>> {
    const rows = await this.model.aggregate<{ _id: MessageStatus; n: number }>([
      { $match: this.scope(tenantId, { batchId }) },
      { $group: { _id: '$status', n: { $sum: 1 } } },
    ]);
    const out = { queued: 0, sending: 0, sent: 0, delivered: 0, failed: 0, blocked: 0 } as Record<MessageStatus, number>;
    for (const r of rows) out[r._id] = r.n;
    return out;
  }

  /** Compare-and-set a status change with its events; false when the message was not in one of `from`. */
  transition(
    tenantId: string,
    id: string,
    from: readonly MessageStatus[],
    set: Partial<MessageDoc>,
    events: EventEnvelope[] = [],
    push?: { tried: string },
  ): Promise<boolean> {
    return this.updateIf(
      tenantId,
      id,
      {
        $set: { ...set, updatedAt: new Date() },
        ...(push ? { $push: { tried: push.tried } } : {}),
        ...(set.attempts === undefined && push ? { $inc: { attempts: 1 } } : {}),
      },
      events,
      { status: { $in: [...from] } },
    );
  }

  /** Remember which message a provider's id names (idempotent: a retried send records it again). */
  async recordProviderRef(
    tenantId: string,
    provider: SmsProviderName | 'smtp',
    providerMessageId: string,
    messageId: string,
  ): Promise<void> {
    await this.providerRefs.insertIfNew({ _id: `${provider}|${providerMessageId}`, tenantId, messageId }, []);
  }

  /**
   * The message a delivery receipt names. Not scoped by a tenant id: the provider's id is
   * all the receipt carries (unique across tenants); the reference names its tenant.
   */
  async byProviderRef(provider: SmsProviderName, providerMessageId: string): Promise<{ tenantId: string; messageId: string } | null> {
    return this.models.ProviderRef.findOne({ _id: `${provider}|${providerMessageId}` })
      .lean<ProviderRefDoc>()
      .exec();
  }

  pendingEvents(tenantId: string, patientId: string): Promise<EventEnvelope[]> {
    return this.pendingEventsWhere(tenantId, { patientId });
  }

  /** Which of these message ids are stored (any practice; the ids are unique platform-wide). */
  async existing(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.model
      .find({ _id: mongoose.trusted({ $in: ids }) }, { _id: 1 })
      .lean<{ _id: string }[]>()
      .exec();
    return new Set(rows.map((r) => r._id));
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    const ids = (await this.findMany<{ _id: string }>(tenantId, { patientId }, { projection: { _id: 1 } })).map((d) => d._id);
    await this.providerRefs.deleteWhere(tenantId, { messageId: mongoose.trusted({ $in: ids }) });
    return this.deleteWhere(tenantId, { patientId });
  }

  private sealContent(tenantId: string, id: string, pk: PatientKey, c: MessageContent): MessageDoc['sealed'] {
    return {
      to: this.keys.sealWith(pk, c.to, aad(tenantId, id, 'to')),
      body: this.keys.sealWith(pk, c.body, aad(tenantId, id, 'body')),
      ...(c.subject !== undefined ? { subject: this.keys.sealWith(pk, c.subject, aad(tenantId, id, 'subject')) } : {}),
    };
  }
}

export function toMessage(d: MessageDoc): Message {
  const iso = (x?: Date) => (x ? new Date(x).toISOString() : undefined);
  return {
    id: d._id,
    patientId: d.patientId,
    channel: d.channel,
    // `sending` is internal (a provider call in flight): to callers it is still queued.
    status: d.status === 'sending' ? 'queued' : d.status,
    ...(d.reason ? { reason: d.reason } : {}),
    ...(d.provider ? { provider: d.provider } : {}),
    attempts: d.attempts,
    ...(d.channel === 'sms' ? { segments: d.segments } : {}),
    ...(d.templateId ? { templateId: d.templateId } : {}),
    ...(d.batchId ? { batchId: d.batchId } : {}),
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
    ...(d.sentAt ? { sentAt: iso(d.sentAt) } : {}),
    ...(d.deliveredAt ? { deliveredAt: iso(d.deliveredAt) } : {}),
    ...(d.failedAt ? { failedAt: iso(d.failedAt) } : {}),
  };
}
