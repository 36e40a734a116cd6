"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.templateVariablesBody = void 0;
exports.flattenVariables = flattenVariables;
exports.templateRoutes = templateRoutes;
const zod_1 = require("zod");
const caller_1 = require("../common/caller");
const http_1 = require("../common/http");
const render_1 = require("./render");
const use_cases_1 = require("./use-cases");
const value = zod_1.z.string().max(500);
const appointment = zod_1.z.strictObject(Object.fromEntries(render_1.appointmentVariables.map((v) => [v, value.optional()])));
const practice = zod_1.z.strictObject(Object.fromEntries(render_1.practiceVariables.map((v) => [v, value.optional()])));
const dotted = Object.fromEntries([...render_1.appointmentVariables.map((v) => `appointment.${v}`), ...render_1.practiceVariables.map((v) => `practice.${v}`)].map((k) => [k, value.optional()]));
/** `{ appointment: { date }, practice: { name } }` or `{ "appointment.date": … }`; patient values come from the record only. */
exports.templateVariablesBody = zod_1.z.strictObject({ appointment: appointment.optional(), practice: practice.optional(), ...dotted });
const variables = exports.templateVariablesBody;
function flattenVariables(v) {
    const out = {};
    if (!v)
        return out;
    for (const [k, val] of Object.entries(v)) {
        if (typeof val === 'string')
            out[k] = val;
        else if (val && typeof val === 'object')
            for (const [kk, vv] of Object.entries(val))
                if (typeof vv === 'string')
                    out[`${k}.${kk}`] = vv;
    }
    return out;
}
const templateResponse = zod_1.z.object({
    id: zod_1.z.string(),
    name: zod_1.z.string(),
    channel: zod_1.z.enum(['sms', 'email']),
    subject: zod_1.z.string().optional(),
    body: zod_1.z.string(),
    variables: zod_1.z.array(zod_1.z.string()),
    warnings: zod_1.z.array(zod_1.z.string()),
    createdBy: zod_1.z.string(),
    createdAt: zod_1.z.string(),
});
function templateRoutes(api, deps) {
    const tags = ['templates'];
    api.route({
        method: 'post',
        path: '/templates',
        summary: 'Create a message template; `warnings` lists identifying variables it uses',
        tags,
        auth: { permission: 'template:manage' },
        body: zod_1.z.strictObject({
            name: zod_1.z.string().trim().min(1).max(200),
            channel: zod_1.z.enum(['sms', 'email']),
            subject: zod_1.z.string().min(1).max(300).optional(),
            body: zod_1.z.string().min(1).max(20_000),
        }),
        status: 201,
        response: templateResponse,
    }, ({ auth, body }) => (0, use_cases_1.createTemplate)(deps, (0, caller_1.callerOf)(auth), body));
    api.route({ method: 'get', path: '/templates', summary: "The practice's templates", tags, auth: { permission: 'template:render' }, query: zod_1.z.strictObject(http_1.pageQuery), response: zod_1.z.object({ items: zod_1.z.array(templateResponse), next: zod_1.z.string().optional() }) }, ({ auth, query }) => (0, use_cases_1.listTemplates)(deps, (0, caller_1.callerOf)(auth), query));
    api.route({ method: 'get', path: '/templates/:id', summary: 'One template', tags, auth: { permission: 'template:render' }, params: zod_1.z.strictObject({ id: http_1.idParam }), response: templateResponse, errors: { 404: 'No such template in this practice' } }, ({ auth, params }) => (0, use_cases_1.getTemplate)(deps, (0, caller_1.callerOf)(auth), params.id));
    api.route({
        method: 'post',
        path: '/templates/:id/render',
        summary: 'Render a template for a patient (`{{patient.ref}}` is the pseudonymous reference); values are escaped for the channel',
        tags,
        auth: { permission: 'template:render' },
        params: zod_1.z.strictObject({ id: http_1.idParam }),
        body: zod_1.z.strictObject({ patientId: http_1.idParam, variables: variables.optional() }),
        response: zod_1.z.object({ subject: zod_1.z.string().optional(), body: zod_1.z.string() }),
        errors: { 404: 'No such template or patient in this practice' },
    }, ({ auth, params, body }) => (0, use_cases_1.renderForPatient)(deps, (0, caller_1.callerOf)(auth), params.id, body.patientId, flattenVariables(body.variables)));
}
//# sourceMappingURL=routes.js.map