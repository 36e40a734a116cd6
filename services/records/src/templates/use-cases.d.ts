import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import { type Page } from '../common/http';
import type { PatientRepository } from '../patients/model';
import { type Template, type TemplateRepository } from './model';
import { type Channel } from './render';
export interface TemplateDeps {
    patients: PatientRepository;
    templates: TemplateRepository;
    events: Events;
    /** Refuses (404) practices whose data was destroyed, so stale tokens cannot start it again. */
    assertTenantActive: (tenantId: string) => Promise<unknown>;
}
export declare function createTemplate(deps: TemplateDeps, caller: Caller, input: {
    name: string;
    channel: Channel;
    subject?: string;
    body: string;
}): Promise<Template>;
export declare function getTemplate(deps: TemplateDeps, caller: Caller, id: string): Promise<Template>;
export declare function listTemplates(deps: TemplateDeps, caller: Caller, q: {
    limit: number;
    cursor?: string;
}): Promise<Page<Template>>;
/** Variables given by the caller: appointment.* and practice.*, nested or dotted. */
export type SuppliedVariables = Record<string, string>;
export declare function renderForPatient(deps: TemplateDeps, caller: Caller, id: string, patientId: string, supplied: SuppliedVariables): Promise<{
    subject?: string;
    body: string;
}>;
//# sourceMappingURL=use-cases.d.ts.map