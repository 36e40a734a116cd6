"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createPatient = createPatient;
exports.viewPatient = viewPatient;
exports.searchPatients = searchPatients;
exports.changePatient = changePatient;
// Patient use-cases: create, read (audited), search (audited), change. Encryption is the
// repository's business; here are the rules about who may do what.
const platform_1 = require("@praxis/platform");
const http_1 = require("../common/http");
const model_1 = require("./model");
const ref_1 = require("./ref");
async function createPatient(deps, caller, input) {
    // Support with scope `settings` creates test patients only: omitted means test, an
    // explicit `test: false` is refused rather than silently changed.
    const test = input.test ?? !caller.writesReal;
    if (!test && !caller.writesReal)
        throw platform_1.problems.forbidden('Only test patients may be created in this session.');
    const id = (0, model_1.newPatientId)();
    const created = deps.events.make(caller, 'records.patient.created', { patientId: id, test }, id);
    const patient = await deps.patients.create(caller.tenantId, id, { ...input, test }, [created]);
    deps.events.written();
    return patient;
}
async function viewPatient(deps, caller, id) {
    const patient = await deps.patients.findById(caller.tenantId, id, caller);
    if (!patient)
        throw platform_1.problems.notFound('No such patient.');
    await deps.events.recordAccess([deps.events.make(caller, 'records.patient.viewed', { patientId: id }, id)]);
    return patient;
}
async function searchPatients(deps, caller, q) {
    if (q.ref !== undefined && q.familyName !== undefined)
        throw platform_1.problems.badRequest('Search by ref or by familyName, not both.');
    let ref;
    if (q.ref !== undefined) {
        const parsed = (0, ref_1.parsePatientRef)(q.ref);
        if (!parsed.ok) {
            throw platform_1.problems.badRequest(parsed.reason === 'check' ? 'The ref has a wrong check character (a typo?).' : 'Not a patient ref (PX-XXXX-XXXX).', [
                { path: 'query.ref', message: parsed.reason === 'check' ? 'check character does not match' : 'not a patient ref' },
            ]);
        }
        ref = parsed.ref;
    }
    const after = (0, http_1.decodeCursor)(q.cursor);
    const rows = await deps.patients.search(caller.tenantId, { ...(ref ? { ref } : {}), ...(q.familyName !== undefined ? { familyName: q.familyName } : {}) }, caller, {
        ...(after ? { after } : {}),
        limit: q.limit + 1,
    });
    const page = (0, http_1.pageOf)(rows, q.limit);
    const by = ref ? 'ref' : q.familyName !== undefined ? 'familyName' : 'all';
    // A result list shows demographics: each patient shown is a view, besides the search itself.
    await deps.events.recordAccess([
        deps.events.make(caller, 'records.patient.searched', { by, results: page.items.length }),
        ...page.items.map((p) => deps.events.make(caller, 'records.patient.viewed', { patientId: p.id }, p.id)),
    ]);
    return page;
}
async function changePatient(deps, caller, id, change) {
    const fields = Object.keys(change).filter((k) => change[k] !== undefined);
    if (!fields.length)
        throw platform_1.problems.badRequest('Nothing to change.');
    if (!caller.writesReal) {
        if (change.test === false)
            throw platform_1.problems.forbidden('Only test patients may be handled in this session.');
    }
    const event = deps.events.make(caller, 'records.patient.updated', { patientId: id, fields }, id);
    // Writers limited to test patients cannot reach real ones: those answer 404.
    const patient = await deps.patients.update(caller.tenantId, id, { testOnly: !caller.writesReal || caller.testOnly }, change, [event]);
    if (!patient)
        throw platform_1.problems.notFound('No such patient.');
    deps.events.written();
    return patient;
}
//# sourceMappingURL=use-cases.js.map