// Channel preferences and consent/dissent codes, kept as history: every change is a new
// document (never an update), numbered per patient for preferences (1, 2, 3…; a unique
// index lets exactly one writer take each number). A code's display text is sealed under
// the patient's key; the code itself and its system are plain (they travel in events).
import type { EventEnvelope } from '@praxis/contracts';
import {
  type SealedValue,
  TenantCollection,
  modelOn,
  outboxSchemaFields,
  pendingEventsIn,
  sealedValueSchema,
  withoutOutbox,
} from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface PreferenceDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  version: number;
  sms: boolean;
  email: boolean;
  changedBy: string;
  changedAt: Date;
}

export interface CodeDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  kind: 'consent' | 'dissent';
  system: string;
  code: string;
  display: SealedValue;
  recordedBy: string;
  recordedAt: Date;
}

const preferenceSchema = new Schema<PreferenceDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    version: { type: Number, required: true },
    sms: { type: Boolean, required: true },
    email: { type: Boolean, required: true },
    changedBy: { type: String, required: true },
    changedAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'preferences', versionKey: false, strict: 'throw' },
);
preferenceSchema.index({ tenantId: 1, patientId: 1, version: 1 }, { unique: true });

const codeSchema = new Schema<CodeDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    kind: { type: String, enum: ['consent', 'dissent'], required: true },
    system: { type: String, required: true },
    code: { type: String, required: true },
    display: { type: sealedValueSchema, required: true },
    recordedBy: { type: String, required: true },
    recordedAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'consent_codes', versionKey: false, strict: 'throw' },
);
codeSchema.index({ tenantId: 1, patientId: 1, recordedAt: 1 });

export interface PreferenceModels {
  Preference: Model<PreferenceDoc>;
  Code: Model<CodeDoc>;
}

export function preferenceModels(conn: Connection): PreferenceModels {
  return {
    Preference: modelOn(conn, 'Preference', preferenceSchema),
    Code: modelOn(conn, 'ConsentCode', codeSchema),
  };
}

export class PreferenceRepository {
  private readonly preferences: TenantCollection<PreferenceDoc>;
  private readonly codeDocs: TenantCollection<CodeDoc>;

  constructor(readonly m: PreferenceModels) {
    this.preferences = new TenantCollection(m.Preference);
    this.codeDocs = new TenantCollection(m.Code);
  }

  latest(tenantId: string, patientId: string): Promise<PreferenceDoc | null> {
    return this.m.Preference.findOne(this.preferences.scope(tenantId, { patientId }), withoutOutbox)
      .sort({ version: -1 })
      .lean<PreferenceDoc>()
      .exec();
  }

  history(tenantId: string, patientId: string): Promise<PreferenceDoc[]> {
    return this.preferences.findMany(tenantId, { patientId }, { sort: { version: 1 }, projection: withoutOutbox });
  }

  /** Append the next version; false when another change took that number first. */
  append(doc: PreferenceDoc, events: EventEnvelope[]): Promise<boolean> {
    return this.preferences.insertIfNew(doc, events);
  }

  addCode(doc: CodeDoc, events: EventEnvelope[]): Promise<void> {
    return this.codeDocs.insert(doc, events);
  }

  codes(tenantId: string, patientId: string): Promise<CodeDoc[]> {
    return this.codeDocs.findMany(tenantId, { patientId }, { sort: { recordedAt: 1 }, projection: withoutOutbox });
  }

  /** Events still in the outboxes of the patient's preferences and codes (an erasure carries them over). */
  pendingEventsOf(tenantId: string, patientId: string): Promise<EventEnvelope[]> {
    return pendingEventsIn([this.preferences, this.codeDocs], tenantId, { patientId });
  }

  async deleteForPatient(tenantId: string, patientId: string): Promise<{ preferences: number; codes: number }> {
    const preferences = await this.preferences.deleteWhere(tenantId, { patientId });
    const codes = await this.codeDocs.deleteWhere(tenantId, { patientId });
    return { preferences, codes };
  }
}
