import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import { type Page } from '../common/http';
import { type Demographics, type DemographicsChange, type Patient, type PatientRepository } from './model';
export interface PatientDeps {
    patients: PatientRepository;
    events: Events;
}
export declare function createPatient(deps: PatientDeps, caller: Caller, input: Demographics & {
    test?: boolean;
}): Promise<Patient>;
export declare function viewPatient(deps: PatientDeps, caller: Caller, id: string): Promise<Patient>;
export interface PatientQuery {
    ref?: string;
    familyName?: string;
    limit: number;
    cursor?: string;
}
export declare function searchPatients(deps: PatientDeps, caller: Caller, q: PatientQuery): Promise<Page<Patient>>;
export declare function changePatient(deps: PatientDeps, caller: Caller, id: string, change: DemographicsChange & {
    test?: boolean;
}): Promise<Patient>;
//# sourceMappingURL=use-cases.d.ts.map