import { type KekRing, type SealedValue, rewrapTenantKeys } from '@praxis/platform';
import { ProblemError } from '@praxis/platform';
import type { KeyRepository } from './model';
interface TenantKey {
    kid: string;
    key: Buffer;
    blindKey: Buffer;
}
export interface PatientKey {
    kid: string;
    key: Buffer;
}
export declare class KeyService {
    private readonly repo;
    private readonly keks;
    private readonly tenantKeys;
    private readonly patientKeys;
    private readonly creating;
    constructor(repo: KeyRepository, keks: KekRing);
    /** Whether records has ever held data for this tenant (a key exists, live or destroyed). */
    holdsTenant(tenantId: string): Promise<boolean>;
    /** The tenant key, created on first use. A purged tenant never gets one again. */
    tenantKey(tenantId: string): Promise<TenantKey>;
    private loadOrCreateTenantKey;
    /** A new data key for a new patient, stored wrapped; returns it unwrapped for sealing. */
    createPatientKey(tenantId: string, patientId: string): Promise<PatientKey>;
    /** The patient's data key by id; throws when it was destroyed (crypto-shredded). */
    patientKey(tenantId: string, patientId: string, kid: string): Promise<PatientKey>;
    sealWith(pk: PatientKey, plaintext: string, aad: string): SealedValue;
    openWith(pk: PatientKey, sealed: SealedValue, aad: string): string;
    /** Keyed, normalised (case- and accent-folded) equality hash for search. */
    blindIndex(tenantId: string, value: string, domain: string): Promise<string>;
    /** Crypto-shred one patient: every copy of their sealed data becomes unreadable. */
    destroyPatientKeys(tenantId: string, patientId: string): Promise<number>;
    /** Crypto-shred a whole practice: the tenant key and every patient key under it. */
    destroyTenant(tenantId: string): Promise<void>;
    /** Forget cached keys (tests, and after a rotation in this process). */
    clearCache(): void;
}
/**
 * The patient's data key is gone (erased). Data sealed under it is unreadable for good; to
 * a caller it is as if the patient did not exist (an erasure interrupted between shredding
 * and deleting answers 404 until it is resumed, never 500).
 */
export declare class KeyDestroyedError extends ProblemError {
    constructor();
}
/** `rotate-kek`: re-wrap every tenant key under the current KEK (patient keys sit below). */
export declare const rotateKek: typeof rewrapTenantKeys;
export {};
//# sourceMappingURL=key-service.d.ts.map