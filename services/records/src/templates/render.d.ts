export type Channel = 'sms' | 'email';
export declare const patientVariables: readonly ["ref", "givenName", "familyName", "birthDate", "address", "email", "mobile"];
export declare const appointmentVariables: readonly ["date", "time", "clinician", "location"];
export declare const practiceVariables: readonly ["name", "phone", "email", "address", "website"];
export declare const knownVariables: Set<string>;
export interface TemplateText {
    channel: Channel;
    subject?: string;
    body: string;
}
export declare class TemplateSyntaxError extends Error {
    readonly field: 'subject' | 'body';
    constructor(field: 'subject' | 'body', message: string);
}
/** Variables a text uses; throws on unknown variables and on malformed braces. */
export declare function variablesOf(text: string, field: 'subject' | 'body'): string[];
/** Check a template and list its warnings (identifying variables). */
export declare function analyseTemplate(t: TemplateText): {
    variables: string[];
    warnings: string[];
};
export declare function escapeHtml(s: string): string;
/** One line of plain text: control characters (CR/LF included) become spaces. */
export declare function plainLine(s: string): string;
export declare function renderText(text: string, values: Record<string, string>, escape: (s: string) => string): string;
/** Render a checked template with values; escaping follows the channel and field. */
export declare function renderTemplate(t: TemplateText, values: Record<string, string>): {
    subject?: string;
    body: string;
};
//# sourceMappingURL=render.d.ts.map