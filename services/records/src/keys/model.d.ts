import { type SealedValue, type TenantKeyDoc, TenantKeyRepository } from '@praxis/platform';
import { type Connection, type Model } from 'mongoose';
export interface PatientKeyDoc {
    /** The key id, carried by every value sealed with it. */
    _id: string;
    tenantId: string;
    patientId: string;
    /** The data key wrapped by the tenant key named in `wrapped.kid`. */
    wrapped: SealedValue;
    createdAt: Date;
}
export interface KeyModels {
    TenantKey: Model<TenantKeyDoc>;
    PatientKey: Model<PatientKeyDoc>;
}
export declare function keyModels(conn: Connection): KeyModels;
/** Tenant keys (the shared store in libs/platform) and patient keys; every method takes the tenant id first. */
export declare class KeyRepository extends TenantKeyRepository {
    private readonly m;
    constructor(m: KeyModels);
    findPatientKey(tenantId: string, kid: string): Promise<PatientKeyDoc | null>;
    insertPatientKey(tenantId: string, doc: Omit<PatientKeyDoc, 'tenantId'>): Promise<void>;
    deletePatientKeys(tenantId: string, patientId: string): Promise<number>;
    deleteAllPatientKeys(tenantId: string): Promise<number>;
}
//# sourceMappingURL=model.d.ts.map