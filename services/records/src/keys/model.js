"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.KeyRepository = void 0;
exports.keyModels = keyModels;
// Storage of the key hierarchy: one tenant key per practice (wrapped by a KEK) and one
// data key per patient (wrapped by the tenant key). Kept apart from the data they protect,
// so deleting a key document makes every copy of the data (replicas, backups, a raw copy)
// unreadable: that is crypto-shredding.
const platform_1 = require("@praxis/platform");
const mongoose_1 = require("mongoose");
const patientKeySchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    wrapped: { type: platform_1.sealedValueSchema, required: true },
    createdAt: { type: Date, required: true },
}, { collection: 'patient_keys', versionKey: false, strict: 'throw' });
patientKeySchema.index({ tenantId: 1, patientId: 1 });
function keyModels(conn) {
    return {
        TenantKey: (0, platform_1.tenantKeyModel)(conn),
        PatientKey: conn.models.PatientKey ?? conn.model('PatientKey', patientKeySchema),
    };
}
/** Tenant keys (the shared store in libs/platform) and patient keys; every method takes the tenant id first. */
class KeyRepository extends platform_1.TenantKeyRepository {
    m;
    constructor(m) {
        super(m.TenantKey);
        this.m = m;
    }
    findPatientKey(tenantId, kid) {
        return this.m.PatientKey.findOne({ _id: kid, tenantId }).lean().exec();
    }
    async insertPatientKey(tenantId, doc) {
        await this.m.PatientKey.create({ ...doc, tenantId });
    }
    async deletePatientKeys(tenantId, patientId) {
        return (await this.m.PatientKey.deleteMany({ tenantId, patientId })).deletedCount;
    }
    async deleteAllPatientKeys(tenantId) {
        return (await this.m.PatientKey.deleteMany({ tenantId })).deletedCount;
    }
}
exports.KeyRepository = KeyRepository;
//# sourceMappingURL=model.js.map