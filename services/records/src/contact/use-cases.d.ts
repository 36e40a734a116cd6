import type { Caller } from '../common/caller';
import type { SuppliedVariables, TemplateDeps } from '../templates/use-cases';
export type ContactDeps = TemplateDeps;
export declare function patientContact(deps: ContactDeps, caller: Caller, id: string): Promise<{
    patientId: string;
    ref: string;
    email?: string;
    mobile?: string;
    test: boolean;
}>;
export declare function renderForService(deps: ContactDeps, caller: Caller, templateId: string, patientId: string, supplied: SuppliedVariables): Promise<{
    channel: 'sms' | 'email';
    subject?: string;
    body: string;
}>;
//# sourceMappingURL=use-cases.d.ts.map