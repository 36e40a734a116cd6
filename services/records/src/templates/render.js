"use strict";
// Message templates: `{{ group.name }}` placeholders over a fixed set of variables,
// rendered with values escaped for their channel (HTML for email bodies; no line breaks
// or control characters in SMS text and email subjects). Using a variable that identifies
// the patient (name, birth date, contacts, address) is allowed but warned about: the
// pseudonymous `{{patient.ref}}` is what belongs in messages.
Object.defineProperty(exports, "__esModule", { value: true });
exports.TemplateSyntaxError = exports.knownVariables = exports.practiceVariables = exports.appointmentVariables = exports.patientVariables = void 0;
exports.variablesOf = variablesOf;
exports.analyseTemplate = analyseTemplate;
exports.escapeHtml = escapeHtml;
exports.plainLine = plainLine;
exports.renderText = renderText;
exports.renderTemplate = renderTemplate;
exports.patientVariables = ['ref', 'givenName', 'familyName', 'birthDate', 'address', 'email', 'mobile'];
exports.appointmentVariables = ['date', 'time', 'clinician', 'location'];
exports.practiceVariables = ['name', 'phone', 'email', 'address', 'website'];
const identifying = {
    'patient.givenName': 'given name',
    'patient.familyName': 'family name',
    'patient.birthDate': 'date of birth',
    'patient.address': 'address',
    'patient.email': 'email address',
    'patient.mobile': 'mobile number',
};
exports.knownVariables = new Set([
    ...exports.patientVariables.map((v) => `patient.${v}`),
    ...exports.appointmentVariables.map((v) => `appointment.${v}`),
    ...exports.practiceVariables.map((v) => `practice.${v}`),
]);
const PLACEHOLDER = /\{\{\s*([A-Za-z]+\.[A-Za-z]+)\s*\}\}/g;
class TemplateSyntaxError extends Error {
    field;
    constructor(field, message) {
        super(message);
        this.field = field;
    }
}
exports.TemplateSyntaxError = TemplateSyntaxError;
/** Variables a text uses; throws on unknown variables and on malformed braces. */
function variablesOf(text, field) {
    const used = [];
    const stripped = text.replace(PLACEHOLDER, (_m, name) => {
        if (!exports.knownVariables.has(name))
            throw new TemplateSyntaxError(field, `unknown variable {{${name}}}`);
        used.push(name);
        return '';
    });
    if (stripped.includes('{{') || stripped.includes('}}'))
        throw new TemplateSyntaxError(field, 'malformed placeholder: use {{group.name}}, e.g. {{patient.ref}}');
    return used;
}
/** Check a template and list its warnings (identifying variables). */
function analyseTemplate(t) {
    const variables = [...new Set([...(t.subject ? variablesOf(t.subject, 'subject') : []), ...variablesOf(t.body, 'body')])];
    const warnings = variables
        .filter((v) => identifying[v])
        .map((v) => `{{${v}}} puts the patient's ${identifying[v]} into the message; prefer {{patient.ref}}, the pseudonymous reference.`);
    return { variables, warnings };
}
function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
/** One line of plain text: control characters (CR/LF included) become spaces. */
function plainLine(s) {
    return s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}
function renderText(text, values, escape) {
    return text.replace(PLACEHOLDER, (_m, name) => escape(Object.hasOwn(values, name) ? values[name] : ''));
}
/** Render a checked template with values; escaping follows the channel and field. */
function renderTemplate(t, values) {
    const bodyEscape = t.channel === 'email' ? escapeHtml : plainLine;
    return {
        ...(t.subject !== undefined ? { subject: renderText(t.subject, values, plainLine) } : {}),
        body: renderText(t.body, values, bodyEscape),
    };
}
//# sourceMappingURL=render.js.map