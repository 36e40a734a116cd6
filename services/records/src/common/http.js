"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.pageQuery = exports.idParam = void 0;
exports.encodeCursor = encodeCursor;
exports.decodeCursor = decodeCursor;
exports.pageOf = pageOf;
exports.patientScope = patientScope;
exports.canWriteRealPatients = canWriteRealPatients;
// Shapes shared by the records routes: opaque ids in paths, list paging, and what the
// caller may see (test-only patients for support with scope `settings`).
const platform_1 = require("@praxis/platform");
const zod_1 = require("zod");
/** An opaque id in a path. Anything else that is not found answers 404, not 400. */
exports.idParam = zod_1.z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
exports.pageQuery = {
    limit: zod_1.z.coerce.number().int().min(1).max(200).default(50),
    cursor: zod_1.z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/).optional(),
};
/** An opaque cursor: the id of the last item of the page, base64url-encoded. */
function encodeCursor(lastId) {
    return Buffer.from(`c1:${lastId}`, 'utf8').toString('base64url');
}
function decodeCursor(cursor) {
    if (cursor === undefined)
        return undefined;
    const s = Buffer.from(cursor, 'base64url').toString('utf8');
    const m = /^c1:([A-Za-z0-9_-]{1,64})$/.exec(s);
    if (!m)
        throw platform_1.problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this list' }]);
    return m[1];
}
function pageOf(rows, limit) {
    const items = rows.slice(0, limit);
    return rows.length > limit ? { items, next: encodeCursor(items[items.length - 1].id) } : { items };
}
/**
 * Which patients the caller may see. Support with scope `settings` holds only the
 * `*-test` permissions: real patients do not exist for it (404), it sees test ones only.
 */
function patientScope(auth) {
    return { testOnly: !auth.can('patient:read') };
}
function canWriteRealPatients(auth) {
    return auth.can('patient:write');
}
//# sourceMappingURL=http.js.map