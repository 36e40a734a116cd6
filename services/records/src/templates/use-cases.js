"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createTemplate = createTemplate;
exports.getTemplate = getTemplate;
exports.listTemplates = listTemplates;
exports.renderForPatient = renderForPatient;
// Template use-cases: create (checked, with warnings) and render for a patient. A render
// that reads the patient's record is an access: recorded before the text is returned.
const platform_1 = require("@praxis/platform");
const http_1 = require("../common/http");
const model_1 = require("./model");
const render_1 = require("./render");
async function createTemplate(deps, caller, input) {
    if (input.channel === 'sms' && input.subject !== undefined)
        throw platform_1.problems.badRequest('SMS templates have no subject.', [{ path: 'body.subject', message: 'not allowed for sms' }]);
    let analysis;
    try {
        analysis = (0, render_1.analyseTemplate)(input);
    }
    catch (err) {
        if (err instanceof render_1.TemplateSyntaxError)
            throw platform_1.problems.badRequest('The template is not valid.', [{ path: `body.${err.field}`, message: err.message }]);
        throw err;
    }
    await deps.assertTenantActive(caller.tenantId);
    const id = (0, model_1.newTemplateId)();
    const template = await deps.templates.create(caller.tenantId, { _id: id, name: input.name, channel: input.channel, ...(input.subject !== undefined ? { subject: input.subject } : {}), body: input.body, variables: analysis.variables, warnings: analysis.warnings, createdBy: caller.actor.id }, [deps.events.make(caller, 'records.template.created', { templateId: id })]);
    deps.events.written();
    return template;
}
async function getTemplate(deps, caller, id) {
    const t = await deps.templates.findById(caller.tenantId, id);
    if (!t)
        throw platform_1.problems.notFound('No such template.');
    return t;
}
async function listTemplates(deps, caller, q) {
    const after = (0, http_1.decodeCursor)(q.cursor);
    return (0, http_1.pageOf)(await deps.templates.list(caller.tenantId, { ...(after ? { after } : {}), limit: q.limit + 1 }), q.limit);
}
async function renderForPatient(deps, caller, id, patientId, supplied) {
    const template = await getTemplate(deps, caller, id);
    const needsRecord = template.variables.some((v) => v.startsWith('patient.') && v !== 'patient.ref');
    const values = { ...supplied };
    if (needsRecord) {
        const p = await deps.patients.findById(caller.tenantId, patientId, caller);
        if (!p)
            throw platform_1.problems.notFound('No such patient.');
        Object.assign(values, {
            'patient.ref': p.ref,
            'patient.givenName': p.givenName,
            'patient.familyName': p.familyName,
            'patient.birthDate': p.birthDate,
            'patient.email': p.email ?? '',
            'patient.mobile': p.mobile ?? '',
            'patient.address': p.address ? [p.address.line1, p.address.line2, p.address.city, p.address.postcode].filter(Boolean).join(', ') : '',
        });
    }
    else {
        const located = await deps.patients.locate(caller.tenantId, patientId, caller);
        if (!located)
            throw platform_1.problems.notFound('No such patient.');
        values['patient.ref'] = located.ref;
    }
    const missing = template.variables.filter((v) => !v.startsWith('patient.') && values[v] === undefined);
    if (missing.length)
        throw platform_1.problems.badRequest('Values are missing for variables the template uses.', missing.map((v) => ({ path: `body.variables.${v}`, message: 'required by the template' })));
    const rendered = (0, render_1.renderTemplate)(template, values);
    await deps.events.recordAccess([deps.events.make(caller, 'records.template.rendered', { templateId: id, patientId }, patientId)]);
    return rendered;
}
//# sourceMappingURL=use-cases.js.map