"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.noteRoutes = noteRoutes;
const zod_1 = require("zod");
const caller_1 = require("../common/caller");
const http_1 = require("../common/http");
const use_cases_1 = require("./use-cases");
const title = zod_1.z.string().trim().min(1).max(200);
const body = zod_1.z.string().min(1).max(100_000);
const noteResponse = zod_1.z.object({
    id: zod_1.z.string(),
    patientId: zod_1.z.string(),
    title: zod_1.z.string(),
    body: zod_1.z.string(),
    authorId: zod_1.z.string(),
    createdAt: zod_1.z.string(),
    version: zod_1.z.number().int(),
    updatedBy: zod_1.z.string(),
    updatedAt: zod_1.z.string(),
});
const versionResponse = zod_1.z.object({
    version: zod_1.z.number().int(),
    title: zod_1.z.string(),
    body: zod_1.z.string(),
    authorId: zod_1.z.string(),
    createdAt: zod_1.z.string(),
    reason: zod_1.z.string().optional(),
});
const amendment = zod_1.z.strictObject({
    title,
    body,
    reason: zod_1.z.string().trim().min(1).max(500).optional(),
    expectedVersion: zod_1.z.number().int().min(1).optional().describe('When given, 409 unless it is the latest version'),
});
function noteRoutes(api, deps) {
    const tags = ['notes'];
    const patientParams = zod_1.z.strictObject({ id: http_1.idParam });
    const noteParams = zod_1.z.strictObject({ id: http_1.idParam, noteId: http_1.idParam });
    const notFound = { 404: 'No such patient or note in this practice' };
    api.route({ method: 'post', path: '/patients/:id/notes', summary: 'Write a clinical note', tags, auth: { permission: 'note:write' }, params: patientParams, body: zod_1.z.strictObject({ title, body }), status: 201, response: noteResponse, errors: notFound }, ({ auth, params, body: b }) => (0, use_cases_1.writeNote)(deps, (0, caller_1.callerOf)(auth), params.id, b));
    api.route({
        method: 'get',
        path: '/patients/:id/notes',
        summary: "A patient's notes, each at its latest version (the read is recorded)",
        tags,
        auth: { permission: 'note:read' },
        params: patientParams,
        query: zod_1.z.strictObject(http_1.pageQuery),
        response: zod_1.z.object({ items: zod_1.z.array(noteResponse), next: zod_1.z.string().optional() }),
        errors: notFound,
    }, ({ auth, params, query }) => (0, use_cases_1.listNotes)(deps, (0, caller_1.callerOf)(auth), params.id, query));
    api.route({ method: 'get', path: '/patients/:id/notes/:noteId', summary: 'One note at its latest version (the read is recorded)', tags, auth: { permission: 'note:read' }, params: noteParams, response: noteResponse, errors: notFound }, ({ auth, params }) => (0, use_cases_1.readNote)(deps, (0, caller_1.callerOf)(auth), params.id, params.noteId));
    api.route({
        method: 'post',
        path: '/patients/:id/notes/:noteId/amendments',
        summary: 'Amend a note: appends a new version (the earlier ones stay readable in the history)',
        tags,
        auth: { permission: 'note:write' },
        params: noteParams,
        body: amendment,
        status: 201,
        response: noteResponse,
        errors: { ...notFound, 409: '`expectedVersion` is not the latest version' },
    }, ({ auth, params, body: b }) => (0, use_cases_1.amendNote)(deps, (0, caller_1.callerOf)(auth), params.id, params.noteId, b, b.expectedVersion));
    api.route({
        method: 'put',
        path: '/patients/:id/notes/:noteId',
        summary: 'Amend a note (same as POST …/amendments): a new version, never an overwrite',
        tags,
        auth: { permission: 'note:write' },
        params: noteParams,
        body: amendment,
        response: noteResponse,
        errors: { ...notFound, 409: '`expectedVersion` is not the latest version' },
    }, ({ auth, params, body: b }) => (0, use_cases_1.amendNote)(deps, (0, caller_1.callerOf)(auth), params.id, params.noteId, b, b.expectedVersion));
    api.route({
        method: 'get',
        path: '/patients/:id/notes/:noteId/versions',
        summary: 'Every version of a note, oldest first (the read is recorded)',
        tags,
        auth: { permission: 'note:read' },
        params: noteParams,
        response: zod_1.z.object({ items: zod_1.z.array(versionResponse) }),
        errors: notFound,
    }, ({ auth, params }) => (0, use_cases_1.noteHistory)(deps, (0, caller_1.callerOf)(auth), params.id, params.noteId));
}
//# sourceMappingURL=routes.js.map