// Direct messages (secure messages): the subject, the body and the access code are sealed
// under the patient's messaging data key; the link token is stored only as its SHA-256.
// Wrong codes are counted by inserting `<dm>|1` … `<dm>|5` into `dm_failures`: an insert
// with a unique `_id` is atomic even on FerretDB, so no race lets a sixth guess through.
import type { EventEnvelope } from '@praxis/contracts';
import {
  type SealedValue,
  TenantRepository,
  isDuplicateKeyError,
  modelOn,
  outboxSchemaFields,
  randomId,
  sealedValueSchema,
} from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';
import type { KeyService } from '../keys/key-service';

export const MAX_WRONG_CODES = 5;

export interface DirectMessageDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  tokenHash: string;
  practice: string;
  keyId: string;
  sealed: { subject: SealedValue; body: SealedValue; code: SealedValue };
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
}

const dmSchema = new Schema<DirectMessageDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    tokenHash: { type: String, required: true },
    practice: { type: String, required: true },
    keyId: { type: String, required: true },
    sealed: {
      subject: { type: sealedValueSchema, required: true },
      body: { type: sealedValueSchema, required: true },
      code: { type: sealedValueSchema, required: true },
    },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'direct_messages', versionKey: false, strict: 'throw' },
);
dmSchema.index({ tokenHash: 1 }, { unique: true });
dmSchema.index({ tenantId: 1, patientId: 1 });

interface FailureDoc {
  _id: string;
  dmId: string;
  at: Date;
}
const failureSchema = new Schema<FailureDoc>(
  { _id: { type: String, required: true }, dmId: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'dm_failures', versionKey: false, strict: 'throw' },
);
failureSchema.index({ dmId: 1 });

export function dmModels(conn: Connection): { DirectMessage: Model<DirectMessageDoc>; Failure: Model<FailureDoc> } {
  return {
    DirectMessage: modelOn(conn, 'DirectMessage', dmSchema),
    Failure: modelOn(conn, 'DmFailure', failureSchema),
  };
}

export const newDirectMessageId = () => randomId('dm');
const aad = (tenantId: string, id: string, field: 'subject' | 'body' | 'code') => `dm|${tenantId}|${id}|${field}`;

export interface OpenedDirectMessage {
  id: string;
  tenantId: string;
  patientId: string;
  practice: string;
  subject: string;
  body: string;
  code: string;
  expiresAt: Date;
  createdAt: Date;
}

export class DirectMessageRepository extends TenantRepository<DirectMessageDoc> {
  constructor(
    private readonly m: ReturnType<typeof dmModels>,
    private readonly keys: KeyService,
  ) {
    super(m.DirectMessage);
  }

  async create(
    tenantId: string,
    input: {
      id: string;
      patientId: string;
      tokenHash: string;
      practice: string;
      subject: string;
      body: string;
      code: string;
      createdBy: string;
      expiresAt: Date;
    },
    events: EventEnvelope[],
  ): Promise<void> {
    const pk = await this.keys.keyOfPatient(tenantId, input.patientId);
    const seal = (f: 'subject' | 'body' | 'code', v: string) => this.keys.sealWith(pk, v, aad(tenantId, input.id, f));
    const doc: DirectMessageDoc = {
      _id: input.id,
      tenantId,
      patientId: input.patientId,
      tokenHash: input.tokenHash,
      practice: input.practice,
      keyId: pk.kid,
      sealed: { subject: seal('subject', input.subject), body: seal('body', input.body), code: seal('code', input.code) },
      createdBy: input.createdBy,
      createdAt: new Date(),
      expiresAt: input.expiresAt,
    };
    await this.insert(doc, events);
  }

  /**
   * The message a link opens. Not scoped by a tenant id: the link is all the patient holds,
   * and its hash is unique across tenants; the document names its tenant.
   */
  async byTokenHash(tokenHash: string): Promise<DirectMessageDoc | null> {
    return this.model.findOne({ tokenHash }).lean<DirectMessageDoc>().exec();
  }

  async open(doc: DirectMessageDoc): Promise<OpenedDirectMessage> {
    const pk = await this.keys.patientKey(doc.tenantId, doc.patientId, doc.keyId);
    const read = (f: 'subject' | 'body' | 'code') => this.keys.openWith(pk, doc.sealed[f], aad(doc.tenantId, doc._id, f));
    return {
      id: doc._id,
      tenantId: doc.tenantId,
      patientId: doc.patientId,
      practice: doc.practice,
      subject: read('subject'),
      body: read('body'),
      code: read('code'),
      expiresAt: doc.expiresAt,
      createdAt: doc.createdAt,
    };
  }

  async failures(dmId: string): Promise<number> {
    let n = 0;
    while (n < MAX_WRONG_CODES && (await this.m.Failure.exists({ _id: `${dmId}|${n + 1}` }))) n++;
    return n;
  }

  /** Count one wrong code; returns the count after it (never more than MAX_WRONG_CODES). */
  async recordFailure(dmId: string): Promise<number> {
    for (;;) {
      const n = await this.failures(dmId);
      if (n >= MAX_WRONG_CODES) return n;
      try {
        await this.m.Failure.create({ _id: `${dmId}|${n + 1}`, dmId, at: new Date() });
        return n + 1;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
  }

  allForPatient(tenantId: string, patientId: string): Promise<DirectMessageDoc[]> {
    return this.findMany(tenantId, { patientId }, { sort: { createdAt: 1 } });
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    const docs = await this.allForPatient(tenantId, patientId);
    // `dm_failures` has no tenant id: its rows are found by the direct message's id.
    for (const d of docs) await this.m.Failure.deleteMany({ dmId: d._id });
    return this.deleteWhere(tenantId, { patientId });
  }
}
