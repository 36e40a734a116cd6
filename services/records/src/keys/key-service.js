"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.rotateKek = exports.KeyDestroyedError = exports.KeyService = void 0;
// The key hierarchy in use: KEK (config) → tenant key (one per practice) → patient data
// key (one per patient) → AES-256-GCM sealed fields. Unwrapped keys are cached in memory
// for a short while so a read does not unwrap twice; erasure evicts them. The tenant key
// also derives the tenant's blind-index key (HKDF), so a search hash is useless without it.
const platform_1 = require("@praxis/platform");
const node_crypto_1 = require("node:crypto");
const platform_2 = require("@praxis/platform");
const contracts_1 = require("@praxis/contracts");
const patientAad = (tenantId, patientId, kid) => `patient:${tenantId}:${patientId}:${kid}`;
class KeyService {
    repo;
    keks;
    tenantKeys = new platform_1.TtlCache(5 * 60_000, 10_000);
    patientKeys = new platform_1.TtlCache(60_000, 50_000);
    creating = new Map();
    constructor(repo, keks) {
        this.repo = repo;
        this.keks = keks;
    }
    /** Whether records has ever held data for this tenant (a key exists, live or destroyed). */
    async holdsTenant(tenantId) {
        return this.tenantKeys.get(tenantId) !== undefined || (await this.repo.findTenantKey(tenantId)) !== null;
    }
    /** The tenant key, created on first use. A purged tenant never gets one again. */
    async tenantKey(tenantId) {
        const cached = this.tenantKeys.get(tenantId);
        if (cached)
            return cached;
        let pending = this.creating.get(tenantId);
        if (!pending) {
            pending = this.loadOrCreateTenantKey(tenantId).finally(() => this.creating.delete(tenantId));
            this.creating.set(tenantId, pending);
        }
        return pending;
    }
    async loadOrCreateTenantKey(tenantId) {
        const opened = await this.repo.openOrCreateTenantKey(tenantId, this.keks);
        if (opened === 'destroyed')
            throw platform_2.problems.notFound();
        const tk = { ...opened, blindKey: deriveBlindKey(opened.key) };
        this.tenantKeys.set(tenantId, tk);
        return tk;
    }
    /** A new data key for a new patient, stored wrapped; returns it unwrapped for sealing. */
    async createPatientKey(tenantId, patientId) {
        const tk = await this.tenantKey(tenantId);
        const kid = (0, platform_1.randomId)('pk');
        const key = (0, platform_1.newDataKey)();
        await this.repo.insertPatientKey(tenantId, { _id: kid, patientId, wrapped: (0, platform_1.wrapKey)(tk.key, tk.kid, key, patientAad(tenantId, patientId, kid)), createdAt: new Date() });
        this.patientKeys.set(kid, { kid, key, tenantId, patientId });
        return { kid, key };
    }
    /** The patient's data key by id; throws when it was destroyed (crypto-shredded). */
    async patientKey(tenantId, patientId, kid) {
        const cached = this.patientKeys.get(kid);
        if (cached && cached.tenantId === tenantId && cached.patientId === patientId)
            return cached;
        const doc = await this.repo.findPatientKey(tenantId, kid);
        if (!doc || doc.patientId !== patientId)
            throw new KeyDestroyedError();
        const tk = await this.tenantKey(tenantId);
        if (doc.wrapped.kid !== tk.kid)
            throw new Error(`patient key ${kid} is wrapped by an unknown tenant key`);
        const key = (0, platform_1.unwrapKey)(tk.key, doc.wrapped, patientAad(tenantId, patientId, kid));
        this.patientKeys.set(kid, { kid, key, tenantId, patientId });
        return { kid, key };
    }
    sealWith(pk, plaintext, aad) {
        return (0, platform_1.seal)(pk.key, pk.kid, plaintext, aad);
    }
    openWith(pk, sealed, aad) {
        if (sealed.kid !== pk.kid)
            throw new Error('value sealed under another key');
        return (0, platform_1.open)(pk.key, sealed, aad).toString('utf8');
    }
    /** Keyed, normalised (case- and accent-folded) equality hash for search. */
    async blindIndex(tenantId, value, domain) {
        const tk = await this.tenantKey(tenantId);
        return (0, platform_1.blindIndex)(tk.blindKey, value, domain);
    }
    /** Crypto-shred one patient: every copy of their sealed data becomes unreadable. */
    async destroyPatientKeys(tenantId, patientId) {
        const n = await this.repo.deletePatientKeys(tenantId, patientId);
        this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId && v.patientId === patientId);
        return n;
    }
    /** Crypto-shred a whole practice: the tenant key and every patient key under it. */
    async destroyTenant(tenantId) {
        await this.repo.destroyTenantKey(tenantId);
        this.tenantKeys.delete(tenantId);
        await this.repo.deleteAllPatientKeys(tenantId);
        this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId);
    }
    /** Forget cached keys (tests, and after a rotation in this process). */
    clearCache() {
        this.tenantKeys.deleteWhere(() => true);
        this.patientKeys.deleteWhere(() => true);
    }
}
exports.KeyService = KeyService;
/**
 * The patient's data key is gone (erased). Data sealed under it is unreadable for good; to
 * a caller it is as if the patient did not exist (an erasure interrupted between shredding
 * and deleting answers 404 until it is resumed, never 500).
 */
class KeyDestroyedError extends platform_2.ProblemError {
    constructor() {
        super(404, contracts_1.problemTypes.notFound, 'Not found', 'No such patient.');
        this.name = 'KeyDestroyedError';
    }
}
exports.KeyDestroyedError = KeyDestroyedError;
function deriveBlindKey(tenantKey) {
    return Buffer.from((0, node_crypto_1.hkdfSync)('sha256', tenantKey, Buffer.alloc(0), 'praxis:records:blind-index:v1', 32));
}
/** `rotate-kek`: re-wrap every tenant key under the current KEK (patient keys sit below). */
exports.rotateKek = platform_1.rewrapTenantKeys;
//# sourceMappingURL=key-service.js.map