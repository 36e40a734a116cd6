import type { EventEnvelope } from '@praxis/contracts';
import { type SealedValue } from '@praxis/platform';
import { type Connection, type Model, type Collection as MongooseCollection } from 'mongoose';
import { type KeyService } from '../keys/key-service';
export interface Address {
    line1: string;
    line2?: string;
    city: string;
    postcode: string;
}
export interface Demographics {
    givenName: string;
    familyName: string;
    birthDate: string;
    email?: string;
    mobile?: string;
    address?: Address;
}
export interface Patient extends Demographics {
    id: string;
    ref: string;
    test: boolean;
    createdAt: string;
    updatedAt: string;
}
/** A PATCH: a value sets a field; null removes an optional one. */
export type DemographicsChange = {
    [K in keyof Demographics]?: Demographics[K] | null;
};
type SealedFields = {
    [K in keyof Demographics]?: SealedValue;
};
export interface PatientDoc {
    _id: string;
    tenantId: string;
    ref: string;
    test: boolean;
    /** Id of the patient data key every sealed field was sealed with (also inside each value). */
    keyId: string;
    pii: SealedFields;
    /** Blind index of the family name (HMAC under the tenant's blind-index key). */
    familyNameIdx: string;
    createdAt: Date;
    updatedAt: Date;
}
export declare function patientModel(conn: Connection): Model<PatientDoc>;
export declare const newPatientId: () => string;
export interface Visibility {
    /** Only test patients exist for this caller. */
    testOnly: boolean;
}
export declare class PatientRepository {
    private readonly model;
    private readonly keys;
    /** The patients collection with per-document serialised updates (see libs/platform/src/serial.ts). */
    readonly collection: MongooseCollection;
    constructor(model: Model<PatientDoc>, keys: KeyService, 
    /** The patients collection with per-document serialised updates (see libs/platform/src/serial.ts). */
    collection: MongooseCollection);
    /** Insert a new patient with its events; a fresh ref is drawn again on a collision. */
    create(tenantId: string, id: string, input: Demographics & {
        test: boolean;
    }, events: EventEnvelope[]): Promise<Patient>;
    findById(tenantId: string, id: string, vis: Visibility): Promise<Patient | null>;
    exists(tenantId: string, id: string, vis: Visibility): Promise<boolean>;
    /** The patient's ref and key id, without decrypting anything (null: no such patient for this caller). */
    locate(tenantId: string, id: string, vis: Visibility): Promise<{
        ref: string;
        keyId: string;
    } | null>;
    search(tenantId: string, by: {
        ref?: string;
        familyName?: string;
    }, vis: Visibility, page: {
        after?: string;
        limit: number;
    }): Promise<Patient[]>;
    /** Apply a change and its events in one single-document write. */
    update(tenantId: string, id: string, vis: Visibility, change: DemographicsChange & {
        test?: boolean;
    }, events: EventEnvelope[]): Promise<Patient | null>;
    /** The raw stored document (ciphertext and all), for export of what is held and for tests. */
    rawDocument(tenantId: string, id: string): Promise<Record<string, unknown> | null>;
    /** Events still waiting in the document's outbox (so erasure can carry them over). */
    pendingEvents(tenantId: string, id: string): Promise<EventEnvelope[]>;
    delete(tenantId: string, id: string): Promise<number>;
    countForTenant(tenantId: string): Promise<number>;
    pendingEventsForTenant(tenantId: string): Promise<EventEnvelope[]>;
    deleteAllForTenant(tenantId: string): Promise<number>;
    private filter;
    private sealField;
    private sealAll;
    private toPatient;
}
export {};
//# sourceMappingURL=model.d.ts.map