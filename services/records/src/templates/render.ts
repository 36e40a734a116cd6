// Message templates: `{{ group.name }}` placeholders over a fixed set of variables,
// rendered with values escaped for their channel (HTML for email bodies; no line breaks
// or control characters in SMS text and email subjects). Using a variable that identifies
// the patient (name, birth date, contacts, address) is allowed but warned about: the
// pseudonymous `{{patient.ref}}` is what belongs in messages.

export type Channel = 'sms' | 'email';

export const patientVariables = ['ref', 'givenName', 'familyName', 'birthDate', 'address', 'email', 'mobile'] as const;
export const appointmentVariables = ['date', 'time', 'clinician', 'location'] as const;
export const practiceVariables = ['name', 'phone', 'email', 'address', 'website'] as const;

const identifying: Record<string, string> = {
  'patient.givenName': 'given name',
  'patient.familyName': 'family name',
  'patient.birthDate': 'date of birth',
  'patient.address': 'address',
  'patient.email': 'email address',
  'patient.mobile': 'mobile number',
};

export const knownVariables = new Set<string>([
  ...patientVariables.map((v) => `patient.${v}`),
  ...appointmentVariables.map((v) => `appointment.${v}`),
  ...practiceVariables.map((v) => `practice.${v}`),
]);

const PLACEHOLDER = /\{\{\s*([A-Za-z]+\.[A-Za-z]+)\s*\}\}/g;

export interface TemplateText {
  channel: Channel;
  subject?: string;
  body: string;
}

export class TemplateSyntaxError extends Error {
  constructor(
    readonly field: 'subject' | 'body',
    message: string,
  ) {
    super(message);
  }
}

/** Variables a text uses; throws on unknown variables and on malformed braces. */
export function variablesOf(text: string, field: 'subject' | 'body'): string[] {
  const used: string[] = [];
  const stripped = text.replace(PLACEHOLDER, (_m, name: string) => {
    if (!knownVariables.has(name)) throw new TemplateSyntaxError(field, `unknown variable {{${name}}}`);
    used.push(name);
    return '';
  });
  if (stripped.includes('{{') || stripped.includes('}}'))
    throw new TemplateSyntaxError(field, 'malformed placeholder: use {{group.name}}, e.g. {{patient.ref}}');
  return used;
}

/** Check a template and list its warnings (identifying variables). */
export function analyseTemplate(t: TemplateText): { variables: string[]; warnings: string[] } {
  const variables = [...new Set([...(t.subject ? variablesOf(t.subject, 'subject') : []), ...variablesOf(t.body, 'body')])];
  const warnings = variables
    .filter((v) => identifying[v])
    .map((v) => `{{${v}}} puts the patient's ${identifying[v]} into the message; prefer {{patient.ref}}, the pseudonymous reference.`);
  return { variables, warnings };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One line of plain text: control characters (CR/LF included) become spaces. */
export function plainLine(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}

export function renderText(text: string, values: Record<string, string>, escape: (s: string) => string): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => escape(Object.hasOwn(values, name) ? values[name]! : ''));
}

/** Render a checked template with values; escaping follows the channel and field. */
export function renderTemplate(t: TemplateText, values: Record<string, string>): { subject?: string; body: string } {
  const bodyEscape = t.channel === 'email' ? escapeHtml : plainLine;
  return {
    ...(t.subject !== undefined ? { subject: renderText(t.subject, values, plainLine) } : {}),
    body: renderText(t.body, values, bodyEscape),
  };
}
