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
exports.TemplateRepository = exports.newTemplateId = void 0;
exports.templateModel = templateModel;
const platform_1 = require("@praxis/platform");
const mongoose_1 = __importStar(require("mongoose"));
const templateSchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    subject: { type: String },
    body: { type: String, required: true },
    variables: { type: [String], required: true },
    warnings: { type: [String], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    ...platform_1.outboxSchemaFields,
}, { collection: 'templates', versionKey: false, strict: 'throw' });
templateSchema.index({ tenantId: 1, _id: 1 });
function templateModel(conn) {
    return conn.models.Template ?? conn.model('Template', templateSchema);
}
const newTemplateId = () => (0, platform_1.randomId)('tpl');
exports.newTemplateId = newTemplateId;
class TemplateRepository {
    model;
    constructor(model) {
        this.model = model;
    }
    async create(tenantId, doc, events) {
        const full = { ...doc, tenantId, createdAt: new Date() };
        await this.model.create((0, platform_1.withOutbox)(full, events));
        return toTemplate(full);
    }
    async findById(tenantId, id) {
        const doc = await this.model.findOne({ _id: id, tenantId }).lean().exec();
        return doc ? toTemplate(doc) : null;
    }
    async list(tenantId, page) {
        const filter = { tenantId };
        if (page.after !== undefined)
            filter._id = mongoose_1.default.trusted({ $gt: page.after });
        const docs = await this.model.find(filter).sort({ _id: 1 }).limit(page.limit).lean().exec();
        return docs.map(toTemplate);
    }
    async deleteAllForTenant(tenantId) {
        return (await this.model.deleteMany({ tenantId })).deletedCount;
    }
}
exports.TemplateRepository = TemplateRepository;
function toTemplate(d) {
    return {
        id: d._id,
        name: d.name,
        channel: d.channel,
        ...(d.subject !== undefined && d.subject !== null ? { subject: d.subject } : {}),
        body: d.body,
        variables: d.variables,
        warnings: d.warnings,
        createdBy: d.createdBy,
        createdAt: new Date(d.createdAt).toISOString(),
    };
}
//# sourceMappingURL=model.js.map