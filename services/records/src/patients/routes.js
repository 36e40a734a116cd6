"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.patientRoutes = patientRoutes;
const zod_1 = require("zod");
const caller_1 = require("../common/caller");
const http_1 = require("../common/http");
const schemas_1 = require("./schemas");
const use_cases_1 = require("./use-cases");
function patientRoutes(api, deps) {
    const tags = ['patients'];
    const params = zod_1.z.strictObject({ id: http_1.idParam });
    api.route({
        method: 'post',
        path: '/patients',
        summary: 'Create a patient (support with scope `settings`: test patients only; `test: false` is 403)',
        tags,
        auth: { permission: 'patient:write-test' },
        body: schemas_1.patientCreateBody,
        status: 201,
        response: schemas_1.patientResponse,
    }, ({ auth, body }) => (0, use_cases_1.createPatient)(deps, (0, caller_1.callerOf)(auth), body));
    api.route({
        method: 'get',
        path: '/patients',
        summary: 'List or search patients by `ref` (check character validated: a wrong one is 400) or `familyName` (exact, case- and accent-insensitive)',
        tags,
        auth: { permission: 'patient:read-test' },
        query: zod_1.z.strictObject({
            ref: zod_1.z.string().min(1).max(40).optional(),
            familyName: zod_1.z.string().trim().min(1).max(100).optional(),
            ...http_1.pageQuery,
        }),
        response: zod_1.z.object({ items: zod_1.z.array(schemas_1.patientResponse), next: zod_1.z.string().optional() }),
    }, ({ auth, query }) => (0, use_cases_1.searchPatients)(deps, (0, caller_1.callerOf)(auth), query));
    api.route({
        method: 'get',
        path: '/patients/:id',
        summary: 'Read a patient (the view is recorded as `records.patient.viewed` before the answer)',
        tags,
        auth: { permission: 'patient:read-test' },
        params,
        response: schemas_1.patientResponse,
        errors: { 404: 'No such patient in this practice' },
    }, ({ auth, params: p }) => (0, use_cases_1.viewPatient)(deps, (0, caller_1.callerOf)(auth), p.id));
    api.route({
        method: 'patch',
        path: '/patients/:id',
        summary: 'Change demographics (null removes email, mobile or address)',
        tags,
        auth: { permission: 'patient:write-test' },
        params,
        body: schemas_1.patientPatchBody,
        response: schemas_1.patientResponse,
        errors: { 404: 'No such patient in this practice' },
    }, ({ auth, params: p, body }) => (0, use_cases_1.changePatient)(deps, (0, caller_1.callerOf)(auth), p.id, body));
}
//# sourceMappingURL=routes.js.map