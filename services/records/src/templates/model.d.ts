import type { EventEnvelope } from '@praxis/contracts';
import { type Connection, type Model } from 'mongoose';
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
export declare function templateModel(conn: Connection): Model<TemplateDoc>;
export declare const newTemplateId: () => string;
export declare class TemplateRepository {
    private readonly model;
    constructor(model: Model<TemplateDoc>);
    create(tenantId: string, doc: Omit<TemplateDoc, 'tenantId' | 'createdAt'>, events: EventEnvelope[]): Promise<Template>;
    findById(tenantId: string, id: string): Promise<Template | null>;
    list(tenantId: string, page: {
        after?: string;
        limit: number;
    }): Promise<Template[]>;
    deleteAllForTenant(tenantId: string): Promise<number>;
}
//# sourceMappingURL=model.d.ts.map