"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.patientContact = patientContact;
exports.renderForService = renderForService;
// What messaging needs from a record: where to reach the patient, and a template filled
// in for them. Both are accesses: recorded before the answer.
const platform_1 = require("@praxis/platform");
const use_cases_1 = require("../templates/use-cases");
async function patientContact(deps, caller, id) {
    const p = await deps.patients.findById(caller.tenantId, id, caller);
    if (!p)
        throw platform_1.problems.notFound('No such patient.');
    await deps.events.recordAccess([deps.events.make(caller, 'records.patient.viewed', { patientId: id }, id)]);
    return { patientId: p.id, ref: p.ref, ...(p.email ? { email: p.email } : {}), ...(p.mobile ? { mobile: p.mobile } : {}), test: p.test };
}
async function renderForService(deps, caller, templateId, patientId, supplied) {
    const template = await (0, use_cases_1.getTemplate)(deps, caller, templateId);
    const rendered = await (0, use_cases_1.renderForPatient)(deps, caller, templateId, patientId, supplied);
    return { channel: template.channel, ...rendered };
}
//# sourceMappingURL=use-cases.js.map