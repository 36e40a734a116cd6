// Message templates of a practice. Template text is written by the practice and holds
// placeholders, not patient data, so it is stored as is.
import type { EventEnvelope } from '@praxis/contracts';
import { modelOn, outboxSchemaFields, type PageRequest, randomId, TenantRepository } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';
import type { Channel } from './render';

export interface Template {
  id: string;
  name: string;
  channel: Channel;
  subject?: string;
  body: string;
  variables: string[];
  warnings: string[];
  createdBy: string;
  createdAt: string;
}

export interface TemplateDoc {
  _id: string;
  tenantId: string;
  name: string;
  channel: Channel;
  subject?: string;
  body: string;
  variables: string[];
  warnings: string[];
  createdBy: string;
  createdAt: Date;
}

const templateSchema = new Schema<TemplateDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    subject: { type: String },
    body: { type: String, required: true },
    variables: { type: [String], required: true },
    warnings: { type: [String], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    ...outboxSchemaFields,
  },
  { collection: 'templates', versionKey: false, strict: 'throw' },
);
templateSchema.index({ tenantId: 1, _id: 1 });

export function templateModel(conn: Connection): Model<TemplateDoc> {
  return modelOn(conn, 'Template', templateSchema);
}

export const newTemplateId = () => randomId('tpl');

export class TemplateRepository extends TenantRepository<TemplateDoc> {
  async create(tenantId: string, doc: Omit<TemplateDoc, 'tenantId' | 'createdAt'>, events: EventEnvelope[]): Promise<Template> {
    const full: TemplateDoc = { ...doc, tenantId, createdAt: new Date() };
    await this.insert(full, events);
    return toTemplate(full);
  }

  async findById(tenantId: string, id: string): Promise<Template | null> {
    const doc = await this.findDoc(tenantId, id);
    return doc ? toTemplate(doc) : null;
  }

  async list(tenantId: string, page: PageRequest): Promise<Template[]> {
    return (await this.findPage(tenantId, page)).map(toTemplate);
  }
}

function toTemplate(d: TemplateDoc): Template {
  return {
    id: d._id,
    name: d.name,
    channel: d.channel,
    ...(d.subject !== undefined && d.subject !== null ? { subject: d.subject } : {}),
    body: d.body,
    variables: d.variables,
    warnings: d.warnings,
    createdBy: d.createdBy,
    createdAt: new Date(d.createdAt).toISOString(),
  };
}
