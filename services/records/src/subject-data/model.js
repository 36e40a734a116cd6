"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.TombstoneRepository = void 0;
exports.tombstoneModels = tombstoneModels;
const platform_1 = require("@praxis/platform");
const mongoose_1 = require("mongoose");
const erasureSchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    erasureId: { type: String, required: true },
    patientId: { type: String, required: true },
    actor: { type: mongoose_1.Schema.Types.Mixed, required: true },
    status: { type: String, enum: ['pending', 'completed'], required: true },
    counts: { notes: { type: Number, required: true }, documents: { type: Number, required: true } },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...platform_1.outboxSchemaFields,
}, { collection: 'erasures', versionKey: false, strict: 'throw' });
erasureSchema.index({ tenantId: 1, erasureId: 1 }, { unique: true });
erasureSchema.index({ tenantId: 1, patientId: 1 });
const tenantPurgeSchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    status: { type: String, enum: ['pending', 'completed'], required: true },
    patients: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    completedAt: { type: Date },
    ...platform_1.outboxSchemaFields,
}, { collection: 'tenant_purges', versionKey: false, strict: 'throw' });
function tombstoneModels(conn) {
    return {
        Erasure: conn.models.Erasure ?? conn.model('Erasure', erasureSchema),
        TenantPurge: conn.models.TenantPurge ?? conn.model('TenantPurge', tenantPurgeSchema),
    };
}
const erasureKey = (tenantId, erasureId) => `${tenantId}:${erasureId}`;
class TombstoneRepository {
    m;
    cols;
    constructor(m, 
    /** The collections with per-document serialised updates (see libs/platform/src/serial.ts). */
    cols) {
        this.m = m;
        this.cols = cols;
    }
    findErasure(tenantId, erasureId) {
        return this.m.Erasure.findOne({ _id: erasureKey(tenantId, erasureId), tenantId }).lean().exec();
    }
    findErasureOfPatient(tenantId, patientId) {
        return this.m.Erasure.findOne({ tenantId, patientId, status: 'completed' }).lean().exec();
    }
    /** Start (or find) an erasure; carried-over events ride in the tombstone's outbox. */
    async beginErasure(tenantId, doc, carried) {
        const full = { ...doc, _id: erasureKey(tenantId, doc.erasureId), tenantId, status: 'pending', startedAt: new Date() };
        try {
            await this.m.Erasure.create(carried.length ? (0, platform_1.withOutbox)(full, carried) : full);
            return full;
        }
        catch (err) {
            if (!(0, platform_1.isDuplicateKeyError)(err))
                throw err;
            return (await this.findErasure(tenantId, doc.erasureId));
        }
    }
    async completeErasure(tenantId, erasureId, events) {
        const outbox = (0, platform_1.outboxUpdate)(events);
        await this.cols.erasures.updateOne({ _id: erasureKey(tenantId, erasureId), tenantId, status: 'pending' }, { $set: { status: 'completed', completedAt: new Date(), ...outbox.$set }, $push: outbox.$push });
    }
    findPurge(tenantId) {
        return this.m.TenantPurge.findOne({ _id: tenantId, tenantId }).lean().exec();
    }
    async beginPurge(tenantId, patients, carried) {
        const full = { _id: tenantId, tenantId, status: 'pending', patients, startedAt: new Date() };
        try {
            await this.m.TenantPurge.create(carried.length ? (0, platform_1.withOutbox)(full, carried) : full);
            return full;
        }
        catch (err) {
            if (!(0, platform_1.isDuplicateKeyError)(err))
                throw err;
            return (await this.findPurge(tenantId));
        }
    }
    async completePurge(tenantId, events) {
        const outbox = (0, platform_1.outboxUpdate)(events);
        await this.cols.purges.updateOne({ _id: tenantId, tenantId, status: 'pending' }, { $set: { status: 'completed', completedAt: new Date(), ...outbox.$set }, $push: outbox.$push });
    }
}
exports.TombstoneRepository = TombstoneRepository;
//# sourceMappingURL=model.js.map