"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.writeNote = writeNote;
exports.amendNote = amendNote;
exports.readNote = readNote;
exports.listNotes = listNotes;
exports.noteHistory = noteHistory;
// Note use-cases. Reading notes is clinical access: every read (one note, the list, the
// history) is recorded before the answer. Amending appends a version; nothing is replaced.
const platform_1 = require("@praxis/platform");
const http_1 = require("../common/http");
const model_1 = require("./model");
async function patientOrNotFound(deps, caller, patientId) {
    const located = await deps.patients.locate(caller.tenantId, patientId, caller);
    if (!located)
        throw platform_1.problems.notFound('No such patient.');
    return located;
}
async function writeNote(deps, caller, patientId, content) {
    const { keyId } = await patientOrNotFound(deps, caller, patientId);
    const id = (0, model_1.newNoteId)();
    const event = deps.events.make(caller, 'records.note.created', { patientId, noteId: id, version: 1 }, patientId);
    const note = await deps.notes.create(caller.tenantId, patientId, keyId, id, caller.authorId, content, [event]);
    deps.events.written();
    return note;
}
async function amendNote(deps, caller, patientId, noteId, content, expectedVersion) {
    await patientOrNotFound(deps, caller, patientId);
    const result = await deps.notes.amend(caller.tenantId, patientId, noteId, caller.authorId, content, expectedVersion, (version) => [
        deps.events.make(caller, 'records.note.amended', { patientId, noteId, version }, patientId),
    ]);
    if ('notFound' in result)
        throw platform_1.problems.notFound('No such note.');
    if ('conflict' in result)
        throw platform_1.problems.conflict(`The note is at version ${result.conflict}; amend the latest version.`);
    deps.events.written();
    return result.note;
}
async function readNote(deps, caller, patientId, noteId) {
    await patientOrNotFound(deps, caller, patientId);
    const note = await deps.notes.findById(caller.tenantId, patientId, noteId);
    if (!note)
        throw platform_1.problems.notFound('No such note.');
    await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId, noteId }, patientId)]);
    return note;
}
async function listNotes(deps, caller, patientId, q) {
    await patientOrNotFound(deps, caller, patientId);
    const after = (0, http_1.decodeCursor)(q.cursor);
    const rows = await deps.notes.list(caller.tenantId, patientId, { ...(after ? { after } : {}), limit: q.limit + 1 });
    const page = (0, http_1.pageOf)(rows, q.limit);
    await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId }, patientId)]);
    return page;
}
async function noteHistory(deps, caller, patientId, noteId) {
    await patientOrNotFound(deps, caller, patientId);
    const versions = await deps.notes.versions(caller.tenantId, patientId, noteId);
    if (!versions)
        throw platform_1.problems.notFound('No such note.');
    await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId, noteId }, patientId)]);
    return { items: versions };
}
//# sourceMappingURL=use-cases.js.map