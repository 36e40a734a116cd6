import type { Actor, EventEnvelope } from '@praxis/contracts';
import { type Connection, type Model, type Collection as MongooseCollection } from 'mongoose';
export interface ErasureCounts {
    notes: number;
    documents: number;
}
export interface ErasureDoc {
    _id: string;
    tenantId: string;
    erasureId: string;
    patientId: string;
    actor: Actor;
    status: 'pending' | 'completed';
    counts: ErasureCounts;
    startedAt: Date;
    completedAt?: Date;
}
export interface TenantPurgeDoc {
    _id: string;
    tenantId: string;
    status: 'pending' | 'completed';
    patients: number;
    startedAt: Date;
    completedAt?: Date;
}
export interface TombstoneModels {
    Erasure: Model<ErasureDoc>;
    TenantPurge: Model<TenantPurgeDoc>;
}
export declare function tombstoneModels(conn: Connection): TombstoneModels;
export declare class TombstoneRepository {
    private readonly m;
    /** The collections with per-document serialised updates (see libs/platform/src/serial.ts). */
    private readonly cols;
    constructor(m: TombstoneModels, 
    /** The collections with per-document serialised updates (see libs/platform/src/serial.ts). */
    cols: {
        erasures: MongooseCollection;
        purges: MongooseCollection;
    });
    findErasure(tenantId: string, erasureId: string): Promise<ErasureDoc | null>;
    findErasureOfPatient(tenantId: string, patientId: string): Promise<ErasureDoc | null>;
    /** Start (or find) an erasure; carried-over events ride in the tombstone's outbox. */
    beginErasure(tenantId: string, doc: Omit<ErasureDoc, '_id' | 'tenantId' | 'status' | 'startedAt'>, carried: EventEnvelope[]): Promise<ErasureDoc>;
    completeErasure(tenantId: string, erasureId: string, events: EventEnvelope[]): Promise<void>;
    findPurge(tenantId: string): Promise<TenantPurgeDoc | null>;
    beginPurge(tenantId: string, patients: number, carried: EventEnvelope[]): Promise<TenantPurgeDoc>;
    completePurge(tenantId: string, events: EventEnvelope[]): Promise<void>;
}
//# sourceMappingURL=model.d.ts.map