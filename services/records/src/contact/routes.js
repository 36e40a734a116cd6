"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.contactRoutes = contactRoutes;
const zod_1 = require("zod");
const http_1 = require("../common/http");
const routes_1 = require("../templates/routes");
const use_cases_1 = require("./use-cases");
/** A service acts on every patient of the practice (real and test), never as an author. */
function serviceCaller(auth) {
    return { tenantId: auth.tenantId, actor: auth.actor, testOnly: false, writesReal: false, authorId: auth.actor.id };
}
function contactRoutes(api, deps) {
    const tags = ['internal'];
    api.route({
        method: 'get',
        path: '/internal/patients/:id/contact',
        summary: "A patient's contact details and pseudonymous ref, for messaging (recorded as `records.patient.viewed`)",
        tags,
        internal: true,
        auth: { permission: 'internal:patient-contact' },
        params: zod_1.z.strictObject({ id: http_1.idParam }),
        response: zod_1.z.object({ patientId: zod_1.z.string(), ref: zod_1.z.string(), email: zod_1.z.string().optional(), mobile: zod_1.z.string().optional(), test: zod_1.z.boolean() }),
        errors: { 404: 'No such patient in this practice' },
    }, ({ auth, params }) => (0, use_cases_1.patientContact)(deps, serviceCaller(auth), params.id));
    api.route({
        method: 'post',
        path: '/internal/templates/:id/render',
        summary: 'Render a template for a patient, for messaging: `{ channel, subject?, body }`, values escaped for the channel',
        tags,
        internal: true,
        auth: { permission: 'internal:patient-contact' },
        params: zod_1.z.strictObject({ id: http_1.idParam }),
        body: zod_1.z.strictObject({ patientId: http_1.idParam, variables: routes_1.templateVariablesBody.optional() }),
        response: zod_1.z.object({ channel: zod_1.z.enum(['sms', 'email']), subject: zod_1.z.string().optional(), body: zod_1.z.string() }),
        errors: { 404: 'No such template or patient in this practice' },
    }, ({ auth, params, body }) => (0, use_cases_1.renderForService)(deps, serviceCaller(auth), params.id, body.patientId, (0, routes_1.flattenVariables)(body.variables)));
}
//# sourceMappingURL=routes.js.map