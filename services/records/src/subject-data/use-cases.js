"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.newErasureId = void 0;
exports.exportPatient = exportPatient;
exports.erasePatient = erasePatient;
exports.purgeTenant = purgeTenant;
const platform_1 = require("@praxis/platform");
const everyone = { testOnly: false };
async function exportPatient(deps, tenantId, actor, patientId, requestId) {
    const patient = await deps.patients.findById(tenantId, patientId, everyone);
    if (!patient)
        throw platform_1.problems.notFound('No such patient.');
    const notes = await deps.notes.allWithHistory(tenantId, patientId);
    await deps.events.recordAccess([
        (0, platform_1.makeEvent)({ type: 'records.patient.exported', tenantId, actor, subject: { patientId }, data: { patientId, ...(requestId ? { requestId } : {}) } }),
    ]);
    return { service: 'records', patient, notes, generatedAt: new Date().toISOString() };
}
/**
 * Erase one patient. Idempotent on the erasure id (a redelivered request finishes or
 * repeats the same answer). `requireKnown`: answer 404 for a patient this tenant never
 * had (the HTTP route); the bus consumer instead records an empty erasure so the
 * orchestrator hears back.
 */
async function erasePatient(deps, tenantId, actor, patientId, erasureId, opts) {
    let tomb = await deps.tombstones.findErasure(tenantId, erasureId);
    if (tomb && tomb.patientId !== patientId)
        throw platform_1.problems.conflict('This erasure id was used for another patient.');
    if (!tomb) {
        const exists = await deps.patients.exists(tenantId, patientId, everyone);
        if (!exists && opts.requireKnown) {
            const earlier = await deps.tombstones.findErasureOfPatient(tenantId, patientId);
            if (earlier)
                return resultOf(earlier);
            throw platform_1.problems.notFound('No such patient.');
        }
        const held = exists ? await deps.notes.countForPatient(tenantId, patientId) : { notes: 0, documents: 0 };
        // Events not yet relayed from the documents about to go move to the tombstone first.
        const carried = exists ? [...(await deps.patients.pendingEvents(tenantId, patientId)), ...(await deps.notes.pendingEventsForPatient(tenantId, patientId))] : [];
        tomb = await deps.tombstones.beginErasure(tenantId, { erasureId, patientId, actor, counts: { notes: held.notes, documents: exists ? held.documents + 1 : 0 } }, carried);
    }
    if (tomb.status !== 'completed') {
        await deps.keys.destroyPatientKeys(tenantId, patientId); // crypto-shred: first, so a crash after it leaves only unreadable data
        await deps.notes.deleteForPatient(tenantId, patientId);
        await deps.patients.delete(tenantId, patientId);
        const erased = (0, platform_1.makeEvent)({
            type: 'records.patient.erased',
            tenantId,
            actor,
            subject: { patientId },
            data: { erasureId, patientId, notes: tomb.counts.notes, documents: tomb.counts.documents },
        });
        await deps.tombstones.completeErasure(tenantId, erasureId, [erased]);
        deps.events.written();
        deps.logger.info({ erasureId, noteCount: tomb.counts.notes, documentCount: tomb.counts.documents }, 'patient erased');
    }
    return { erasureId, patientId, status: 'completed', notes: tomb.counts.notes, documents: tomb.counts.documents };
}
function resultOf(t) {
    return { erasureId: t.erasureId, patientId: t.patientId, status: 'completed', notes: t.counts.notes, documents: t.counts.documents };
}
const newErasureId = () => (0, platform_1.uuidv7)();
exports.newErasureId = newErasureId;
/** The practice was purged (auth.tenant.purged): destroy its tenant key, then all its data. */
async function purgeTenant(deps, tenantId) {
    let tomb = await deps.tombstones.findPurge(tenantId);
    if (tomb?.status === 'completed')
        return { patients: tomb.patients };
    if (!tomb) {
        const patients = await deps.patients.countForTenant(tenantId);
        const carried = [...(await deps.patients.pendingEventsForTenant(tenantId)), ...(await deps.notes.pendingEventsForTenant(tenantId))];
        tomb = await deps.tombstones.beginPurge(tenantId, patients, carried);
    }
    await deps.keys.destroyTenant(tenantId);
    await deps.notes.deleteAllForTenant(tenantId);
    await deps.patients.deleteAllForTenant(tenantId);
    await deps.templates.deleteAllForTenant(tenantId);
    const destroyed = (0, platform_1.makeEvent)({ type: 'records.tenant.destroyed', tenantId, actor: { kind: 'service', id: 'records' }, data: { patients: tomb.patients } });
    await deps.tombstones.completePurge(tenantId, [destroyed]);
    deps.events.written();
    deps.logger.info({ patientCount: tomb.patients }, 'practice data destroyed');
    return { patients: tomb.patients };
}
//# sourceMappingURL=use-cases.js.map