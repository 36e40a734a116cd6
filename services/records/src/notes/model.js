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
exports.NoteRepository = exports.newNoteId = void 0;
exports.noteModel = noteModel;
const platform_1 = require("@praxis/platform");
const mongoose_1 = __importStar(require("mongoose"));
const sealedSchema = new mongoose_1.Schema({ kid: { type: String, required: true }, ct: { type: String, required: true } }, { _id: false, strict: 'throw' });
const noteVersionSchema = new mongoose_1.Schema({
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    noteId: { type: String, required: true },
    version: { type: Number, required: true },
    keyId: { type: String, required: true },
    title: { type: sealedSchema, required: true },
    body: { type: sealedSchema, required: true },
    reason: { type: sealedSchema },
    authorId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    noteAuthorId: { type: String, required: true },
    noteCreatedAt: { type: Date, required: true },
    ...platform_1.outboxSchemaFields,
}, { collection: 'note_versions', versionKey: false, strict: 'throw' });
noteVersionSchema.index({ tenantId: 1, noteId: 1, version: 1 }, { unique: true });
noteVersionSchema.index({ tenantId: 1, patientId: 1, noteId: 1, version: -1 });
function noteModel(conn) {
    return conn.models.NoteVersion ?? conn.model('NoteVersion', noteVersionSchema);
}
const newNoteId = () => (0, platform_1.randomId)('note');
exports.newNoteId = newNoteId;
const versionKey = (noteId, version) => `${noteId}:${version}`;
const aad = (tenantId, patientId, noteId, version, field) => `note|${tenantId}|${patientId}|${noteId}|${version}|${field}`;
class NoteRepository {
    model;
    keys;
    constructor(model, keys) {
        this.model = model;
        this.keys = keys;
    }
    get collection() {
        return this.model.collection;
    }
    async create(tenantId, patientId, patientKeyId, id, authorId, content, events) {
        const pk = await this.keys.patientKey(tenantId, patientId, patientKeyId);
        const now = new Date();
        const doc = this.sealVersion(tenantId, patientId, id, pk, 1, authorId, now, { noteAuthorId: authorId, noteCreatedAt: now }, content);
        await this.model.create((0, platform_1.withOutbox)(doc, events));
        return this.toNote(tenantId, doc, pk);
    }
    /**
     * Append a new version. `expectedVersion` (when given) must be the latest, else
     * `conflict`; without it the amendment goes on top of whatever is latest (retrying if
     * another amendment takes the next number first).
     */
    async amend(tenantId, patientId, id, authorId, content, expectedVersion, makeEvents) {
        for (let attempt = 0; attempt < 10; attempt++) {
            const latest = await this.latestDoc(tenantId, patientId, id);
            if (!latest)
                return { notFound: true };
            if (expectedVersion !== undefined && expectedVersion !== latest.version)
                return { conflict: latest.version };
            const pk = await this.keys.patientKey(tenantId, patientId, latest.keyId);
            const version = latest.version + 1;
            const doc = this.sealVersion(tenantId, patientId, id, pk, version, authorId, new Date(), latest, content);
            try {
                await this.model.create((0, platform_1.withOutbox)(doc, makeEvents(version)));
                return { note: this.toNote(tenantId, doc, pk) };
            }
            catch (err) {
                if (!(0, platform_1.isDuplicateKeyError)(err))
                    throw err;
                if (expectedVersion !== undefined)
                    return { conflict: version };
                // Someone else took this version number: go again on top of theirs.
            }
        }
        throw new Error('note amendment kept conflicting');
    }
    async findById(tenantId, patientId, id) {
        const doc = await this.latestDoc(tenantId, patientId, id);
        return doc ? this.toNote(tenantId, doc) : null;
    }
    /** Notes of a patient at their latest version, ordered by note id, paged by note id. */
    async list(tenantId, patientId, page) {
        const filter = { tenantId, patientId };
        if (page.after !== undefined)
            filter.noteId = mongoose_1.default.trusted({ $gt: page.after });
        const latest = [];
        const cursor = this.model.find(filter).sort({ noteId: 1, version: -1 }).lean().cursor();
        try {
            for await (const doc of cursor) {
                if (latest.length && latest[latest.length - 1].noteId === doc.noteId)
                    continue;
                if (latest.length === page.limit)
                    break;
                latest.push(doc);
            }
        }
        finally {
            await cursor.close();
        }
        return Promise.all(latest.map((d) => this.toNote(tenantId, d)));
    }
    async versions(tenantId, patientId, id) {
        const docs = await this.model.find({ tenantId, patientId, noteId: id }).sort({ version: 1 }).lean().exec();
        if (!docs.length)
            return null;
        const pk = await this.keys.patientKey(tenantId, patientId, docs[0].keyId);
        return docs.map((v) => this.openVersion(tenantId, patientId, pk, v));
    }
    /** Every note of a patient with its full history (subject access export). */
    async allWithHistory(tenantId, patientId) {
        const docs = await this.model.find({ tenantId, patientId }).sort({ noteId: 1, version: 1 }).lean().exec();
        const byNote = new Map();
        for (const d of docs)
            (byNote.get(d.noteId) ?? byNote.set(d.noteId, []).get(d.noteId)).push(d);
        return Promise.all([...byNote.values()].map(async (versions) => {
            const last = versions[versions.length - 1];
            const pk = await this.keys.patientKey(tenantId, patientId, last.keyId);
            return { ...this.toNote(tenantId, last, pk), versions: versions.map((v) => this.openVersion(tenantId, patientId, pk, v)) };
        }));
    }
    /** How many notes, and how many stored versions (documents), a patient has. */
    async countForPatient(tenantId, patientId) {
        const notes = (await this.model.distinct('noteId', { tenantId, patientId })).length;
        const documents = await this.model.countDocuments({ tenantId, patientId });
        return { notes, documents };
    }
    async pendingEventsForPatient(tenantId, patientId) {
        const docs = await this.model.collection.find({ tenantId, patientId, _outboxPending: true }, { projection: { [platform_1.OUTBOX]: 1 } }).toArray();
        return docs.flatMap((d) => d[platform_1.OUTBOX] ?? []);
    }
    async deleteForPatient(tenantId, patientId) {
        return (await this.model.deleteMany({ tenantId, patientId })).deletedCount;
    }
    async pendingEventsForTenant(tenantId) {
        const docs = await this.model.collection.find({ tenantId, _outboxPending: true }, { projection: { [platform_1.OUTBOX]: 1 } }).toArray();
        return docs.flatMap((d) => d[platform_1.OUTBOX] ?? []);
    }
    async deleteAllForTenant(tenantId) {
        return (await this.model.deleteMany({ tenantId })).deletedCount;
    }
    latestDoc(tenantId, patientId, id) {
        return this.model.findOne({ tenantId, patientId, noteId: id }).sort({ version: -1 }).lean().exec();
    }
    sealVersion(tenantId, patientId, id, pk, version, authorId, at, note, c) {
        return {
            _id: versionKey(id, version),
            tenantId,
            patientId,
            noteId: id,
            version,
            keyId: pk.kid,
            title: this.keys.sealWith(pk, c.title, aad(tenantId, patientId, id, version, 'title')),
            body: this.keys.sealWith(pk, c.body, aad(tenantId, patientId, id, version, 'body')),
            ...(c.reason !== undefined ? { reason: this.keys.sealWith(pk, c.reason, aad(tenantId, patientId, id, version, 'reason')) } : {}),
            authorId,
            createdAt: at,
            noteAuthorId: note.noteAuthorId,
            noteCreatedAt: note.noteCreatedAt,
        };
    }
    openVersion(tenantId, patientId, pk, v) {
        return {
            version: v.version,
            title: this.keys.openWith(pk, v.title, aad(tenantId, patientId, v.noteId, v.version, 'title')),
            body: this.keys.openWith(pk, v.body, aad(tenantId, patientId, v.noteId, v.version, 'body')),
            ...(v.reason ? { reason: this.keys.openWith(pk, v.reason, aad(tenantId, patientId, v.noteId, v.version, 'reason')) } : {}),
            authorId: v.authorId,
            createdAt: new Date(v.createdAt).toISOString(),
        };
    }
    toNote(tenantId, doc, pk) {
        const build = (key) => {
            const latest = this.openVersion(tenantId, doc.patientId, key, doc);
            return {
                id: doc.noteId,
                patientId: doc.patientId,
                title: latest.title,
                body: latest.body,
                authorId: doc.noteAuthorId,
                createdAt: new Date(doc.noteCreatedAt).toISOString(),
                version: doc.version,
                updatedBy: latest.authorId,
                updatedAt: latest.createdAt,
            };
        };
        if (pk)
            return build(pk);
        return this.keys.patientKey(tenantId, doc.patientId, doc.keyId).then(build);
    }
}
exports.NoteRepository = NoteRepository;
//# sourceMappingURL=model.js.map