import type { Actor } from '@praxis/contracts';
import { type Logger } from '@praxis/platform';
import type { Events } from '../common/events';
import type { KeyService } from '../keys/key-service';
import type { NoteRepository, Note, NoteVersion } from '../notes/model';
import type { Patient, PatientRepository } from '../patients/model';
import type { TemplateRepository } from '../templates/model';
import type { TombstoneRepository } from './model';
export interface SubjectDataDeps {
    patients: PatientRepository;
    notes: NoteRepository;
    templates: TemplateRepository;
    keys: KeyService;
    tombstones: TombstoneRepository;
    events: Events;
    logger: Logger;
}
export interface PatientExport {
    service: 'records';
    patient: Patient;
    notes: (Note & {
        versions: NoteVersion[];
    })[];
    generatedAt: string;
}
export declare function exportPatient(deps: SubjectDataDeps, tenantId: string, actor: Actor, patientId: string, requestId?: string): Promise<PatientExport>;
export interface ErasureResult {
    erasureId: string;
    patientId: string;
    status: 'completed';
    notes: number;
    documents: number;
}
/**
 * Erase one patient. Idempotent on the erasure id (a redelivered request finishes or
 * repeats the same answer). `requireKnown`: answer 404 for a patient this tenant never
 * had (the HTTP route); the bus consumer instead records an empty erasure so the
 * orchestrator hears back.
 */
export declare function erasePatient(deps: SubjectDataDeps, tenantId: string, actor: Actor, patientId: string, erasureId: string, opts: {
    requireKnown: boolean;
}): Promise<ErasureResult>;
export declare const newErasureId: () => string;
/** The practice was purged (auth.tenant.purged): destroy its tenant key, then all its data. */
export declare function purgeTenant(deps: SubjectDataDeps, tenantId: string): Promise<{
    patients: number;
}>;
//# sourceMappingURL=use-cases.d.ts.map