"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.PatientRepository = exports.newPatientId = void 0;
exports.patientModel = patientModel;
const platform_1 = require("@praxis/platform");
const mongoose_1 = __importStar(require("mongoose"));
const key_service_1 = require("../keys/key-service");
const ref_1 = require("./ref");
const sealedSchema = new mongoose_1.Schema({ kid: { type: String, required: true }, ct: { type: String, required: true } }, { _id: false, strict: 'throw' });
const piiSchema = new mongoose_1.Schema({
    givenName: { type: sealedSchema, required: true },
    familyName: { type: sealedSchema, required: true },
    birthDate: { type: sealedSchema, required: true },
    email: { type: sealedSchema },
    mobile: { type: sealedSchema },
    address: { type: sealedSchema },
}, { _id: false, strict: 'throw' });
const patientSchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    ref: { type: String, required: true },
    test: { type: Boolean, required: true },
    keyId: { type: String, required: true },
    pii: { type: piiSchema, required: true },
    familyNameIdx: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    ...platform_1.outboxSchemaFields,
}, { collection: 'patients', versionKey: false, strict: 'throw' });
patientSchema.index({ tenantId: 1, ref: 1 }, { unique: true });
patientSchema.index({ tenantId: 1, familyNameIdx: 1 });
patientSchema.index({ tenantId: 1, _id: 1 });
function patientModel(conn) {
    return conn.models.Patient ?? conn.model('Patient', patientSchema);
}
const newPatientId = () => (0, platform_1.randomId)('pat');
exports.newPatientId = newPatientId;
const FAMILY_NAME_DOMAIN = 'patient.familyName';
const aad = (tenantId, patientId, field) => `patient|${tenantId}|${patientId}|${field}`;
const DEMOGRAPHIC_FIELDS = ['givenName', 'familyName', 'birthDate', 'email', 'mobile', 'address'];
class PatientRepository {
    model;
    keys;
    collection;
    constructor(model, keys, 
    /** The patients collection with per-document serialised updates (see libs/platform/src/serial.ts). */
    collection) {
        this.model = model;
        this.keys = keys;
        this.collection = collection;
    }
    /** Insert a new patient with its events; a fresh ref is drawn again on a collision. */
    async create(tenantId, id, input, events) {
        const pk = await this.keys.createPatientKey(tenantId, id);
        const now = new Date();
        const base = {
            _id: id,
            tenantId,
            test: input.test,
            keyId: pk.kid,
            pii: this.sealAll(tenantId, id, pk, input),
            familyNameIdx: await this.keys.blindIndex(tenantId, input.familyName, FAMILY_NAME_DOMAIN),
            createdAt: now,
            updatedAt: now,
        };
        for (let attempt = 0;; attempt++) {
            const ref = (0, ref_1.newPatientRef)();
            try {
                await this.model.create((0, platform_1.withOutbox)({ ...base, ref }, events));
                return this.toPatient(tenantId, { ...base, ref }, pk);
            }
            catch (err) {
                if (!(0, platform_1.isDuplicateKeyError)(err) || attempt >= 5 || !/ref/.test(String(err.message)))
                    throw err;
            }
        }
    }
    async findById(tenantId, id, vis) {
        const doc = await this.model.findOne(this.filter(tenantId, vis, { _id: id })).lean().exec();
        return doc ? this.toPatient(tenantId, doc) : null;
    }
    async exists(tenantId, id, vis) {
        return (await this.model.exists(this.filter(tenantId, vis, { _id: id }))) !== null;
    }
    /** The patient's ref and key id, without decrypting anything (null: no such patient for this caller). */
    async locate(tenantId, id, vis) {
        const doc = await this.model.findOne(this.filter(tenantId, vis, { _id: id }), { ref: 1, keyId: 1 }).lean().exec();
        return doc ? { ref: doc.ref, keyId: doc.keyId } : null;
    }
    async search(tenantId, by, vis, page) {
        const filter = this.filter(tenantId, vis);
        if (by.ref !== undefined)
            filter.ref = by.ref;
        if (by.familyName !== undefined)
            filter.familyNameIdx = await this.keys.blindIndex(tenantId, by.familyName, FAMILY_NAME_DOMAIN);
        if (page.after !== undefined)
            filter._id = mongoose_1.default.trusted({ $gt: page.after });
        const docs = await this.model.find(filter).sort({ _id: 1 }).limit(page.limit).lean().exec();
        // A patient whose key is already shredded (an erasure in progress) is left out, not an error.
        const patients = await Promise.all(docs.map((d) => this.toPatient(tenantId, d).catch((err) => (err instanceof key_service_1.KeyDestroyedError ? null : Promise.reject(err)))));
        return patients.filter((p) => p !== null);
    }
    /** Apply a change and its events in one single-document write. */
    async update(tenantId, id, vis, change, events) {
        const current = await this.model.findOne(this.filter(tenantId, vis, { _id: id }), { keyId: 1 }).lean().exec();
        if (!current)
            return null;
        const pk = await this.keys.patientKey(tenantId, id, current.keyId);
        const $set = { updatedAt: new Date() };
        const $unset = {};
        for (const field of DEMOGRAPHIC_FIELDS) {
            const value = change[field];
            if (value === undefined)
                continue;
            if (value === null)
                $unset[`pii.${field}`] = 1;
            else
                $set[`pii.${field}`] = this.sealField(tenantId, id, pk, field, value);
        }
        if (typeof change.familyName === 'string')
            $set.familyNameIdx = await this.keys.blindIndex(tenantId, change.familyName, FAMILY_NAME_DOMAIN);
        if (change.test !== undefined)
            $set.test = change.test;
        const outbox = (0, platform_1.outboxUpdate)(events);
        const update = { $set: { ...$set, ...outbox.$set }, $push: outbox.$push };
        if (Object.keys($unset).length)
            update.$unset = $unset;
        // No projection: FerretDB's findAndModify does not take one.
        const doc = await this.collection.findOneAndUpdate(this.filter(tenantId, vis, { _id: id }), update, { returnDocument: 'after' });
        return doc ? this.toPatient(tenantId, doc, pk) : null;
    }
    /** The raw stored document (ciphertext and all), for export of what is held and for tests. */
    rawDocument(tenantId, id) {
        return this.model.collection.findOne({ _id: id, tenantId });
    }
    /** Events still waiting in the document's outbox (so erasure can carry them over). */
    async pendingEvents(tenantId, id) {
        const doc = await this.model.collection.findOne({ _id: id, tenantId }, { projection: { [platform_1.OUTBOX]: 1 } });
        return (doc?.[platform_1.OUTBOX] ?? []).slice();
    }
    async delete(tenantId, id) {
        return (await this.model.deleteOne({ _id: id, tenantId })).deletedCount;
    }
    async countForTenant(tenantId) {
        return this.model.countDocuments({ tenantId });
    }
    async pendingEventsForTenant(tenantId) {
        const docs = await this.model.collection.find({ tenantId, _outboxPending: true }, { projection: { [platform_1.OUTBOX]: 1 } }).toArray();
        return docs.flatMap((d) => d[platform_1.OUTBOX] ?? []);
    }
    async deleteAllForTenant(tenantId) {
        return (await this.model.deleteMany({ tenantId })).deletedCount;
    }
    filter(tenantId, vis, extra = {}) {
        return { ...extra, tenantId, ...(vis.testOnly ? { test: true } : {}) };
    }
    sealField(tenantId, id, pk, field, value) {
        const plain = field === 'address' ? JSON.stringify(value) : value;
        return this.keys.sealWith(pk, plain, aad(tenantId, id, field));
    }
    sealAll(tenantId, id, pk, d) {
        const out = {};
        for (const field of DEMOGRAPHIC_FIELDS) {
            const value = d[field];
            if (value !== undefined && value !== null)
                out[field] = this.sealField(tenantId, id, pk, field, value);
        }
        return out;
    }
    async toPatient(tenantId, doc, pk) {
        const key = pk ?? (await this.keys.patientKey(tenantId, doc._id, doc.keyId));
        const read = (field) => {
            const sealed = doc.pii[field];
            return sealed ? this.keys.openWith(key, sealed, aad(tenantId, doc._id, field)) : undefined;
        };
        const email = read('email');
        const mobile = read('mobile');
        const address = read('address');
        return {
            id: doc._id,
            ref: doc.ref,
            givenName: read('givenName'),
            familyName: read('familyName'),
            birthDate: read('birthDate'),
            ...(email !== undefined ? { email } : {}),
            ...(mobile !== undefined ? { mobile } : {}),
            ...(address !== undefined ? { address: JSON.parse(address) } : {}),
            test: doc.test,
            createdAt: new Date(doc.createdAt).toISOString(),
            updatedAt: new Date(doc.updatedAt).toISOString(),
        };
    }
}
exports.PatientRepository = PatientRepository;
//# sourceMappingURL=model.js.map