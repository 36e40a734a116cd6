"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.subjectDataRoutes = subjectDataRoutes;
const zod_1 = require("zod");
const http_1 = require("../common/http");
const use_cases_1 = require("./use-cases");
function subjectDataRoutes(api, deps) {
    const tags = ['subject-data'];
    const params = zod_1.z.strictObject({ id: http_1.idParam });
    api.route({
        method: 'get',
        path: '/internal/patients/:id/export',
        summary: 'Everything records holds about one patient: demographics and every note with its full history (Art. 15)',
        tags,
        internal: true,
        auth: { permission: 'internal:subject-data' },
        params,
        query: zod_1.z.strictObject({ requestId: http_1.idParam.optional() }),
        errors: { 404: 'No such patient in this practice' },
    }, ({ auth, params: p, query }) => (0, use_cases_1.exportPatient)(deps, auth.tenantId, auth.actor, p.id, query.requestId));
    api.route({
        method: 'post',
        path: '/internal/patients/:id/erasure',
        summary: "Erase a patient (Art. 17): destroy the patient's data key, delete the documents, publish `records.patient.erased` (counts only). Idempotent on `erasureId`.",
        tags,
        internal: true,
        auth: { permission: 'internal:subject-data' },
        params,
        body: zod_1.z.strictObject({ erasureId: http_1.idParam.optional() }),
        response: zod_1.z.object({ erasureId: zod_1.z.string(), patientId: zod_1.z.string(), status: zod_1.z.literal('completed'), notes: zod_1.z.number(), documents: zod_1.z.number() }),
        errors: { 404: 'No such patient in this practice', 409: 'The erasure id was used for another patient' },
    }, ({ auth, params: p, body }) => (0, use_cases_1.erasePatient)(deps, auth.tenantId, auth.actor, p.id, body.erasureId ?? (0, use_cases_1.newErasureId)(), { requireKnown: true }));
}
//# sourceMappingURL=routes.js.map