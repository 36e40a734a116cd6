// Consent's key hierarchy, the same as records' (docs/records.md): KEK (config) → tenant
// key (libs/platform tenant-keys) → one data key per patient → AES-256-GCM sealed values
// (a code's display text, an erasure reason, a subject access export). Erasing a patient
// deletes their key first, so every copy of what it sealed is unreadable (crypto-shredding).
import { problemTypes } from '@praxis/contracts';
import {
  type KekRing,
  ProblemError,
  type SealedValue,
  TtlCache,
  newDataKey,
  open,
  problems,
  randomId,
  seal,
  unwrapKey,
  wrapKey,
} from '@praxis/platform';
import type { KeyRepository } from './model';

interface TenantKey {
  kid: string;
  key: Buffer;
}

export interface PatientKey {
  kid: string;
  key: Buffer;
}

const patientAad = (tenantId: string, patientId: string, kid: string) => `consent-patient:${tenantId}:${patientId}:${kid}`;

export class KeyService {
  private readonly tenantKeys = new TtlCache<TenantKey>(5 * 60_000, 10_000);
  private readonly patientKeys = new TtlCache<PatientKey & { tenantId: string; patientId: string }>(60_000, 50_000);
  private readonly creating = new Map<string, Promise<PatientKey>>();

  constructor(
    private readonly repo: KeyRepository,
    private readonly keks: KekRing,
  ) {}

  async tenantKey(tenantId: string): Promise<TenantKey> {
    const cached = this.tenantKeys.get(tenantId);
    if (cached) return cached;
    const opened = await this.repo.openOrCreateTenantKey(tenantId, this.keks);
    if (opened === 'destroyed') throw problems.notFound();
    this.tenantKeys.set(tenantId, opened);
    return opened;
  }

  /** The patient's current data key, made on first use (one per patient). */
  async keyFor(tenantId: string, patientId: string): Promise<PatientKey> {
    const cacheKey = `${tenantId}:${patientId}`;
    let pending = this.creating.get(cacheKey);
    if (!pending) {
      pending = this.loadOrCreate(tenantId, patientId).finally(() => this.creating.delete(cacheKey));
      this.creating.set(cacheKey, pending);
    }
    return pending;
  }

  private async loadOrCreate(tenantId: string, patientId: string): Promise<PatientKey> {
    const existing = await this.repo.findKeyOfPatient(tenantId, patientId);
    if (existing) return this.patientKey(tenantId, patientId, existing._id);
    const tk = await this.tenantKey(tenantId);
    const kid = randomId('pk');
    const key = newDataKey();
    const made = await this.repo.insertPatientKeyOnce(tenantId, {
      _id: kid,
      patientId,
      wrapped: wrapKey(tk.key, tk.kid, key, patientAad(tenantId, patientId, kid)),
      createdAt: new Date(),
    });
    if (!made) return this.patientKey(tenantId, patientId, (await this.repo.findKeyOfPatient(tenantId, patientId))!._id);
    this.patientKeys.set(kid, { kid, key, tenantId, patientId });
    return { kid, key };
  }

  /** The patient's data key by id; throws KeyDestroyedError once it is shredded. */
  async patientKey(tenantId: string, patientId: string, kid: string): Promise<PatientKey> {
    const cached = this.patientKeys.get(kid);
    if (cached && cached.tenantId === tenantId && cached.patientId === patientId) return cached;
    const doc = await this.repo.findPatientKey(tenantId, kid);
    if (!doc || doc.patientId !== patientId) throw new KeyDestroyedError();
    const tk = await this.tenantKey(tenantId);
    if (doc.wrapped.kid !== tk.kid) throw new Error(`patient key ${kid} is wrapped by an unknown tenant key`);
    const key = unwrapKey(tk.key, doc.wrapped, patientAad(tenantId, patientId, kid));
    this.patientKeys.set(kid, { kid, key, tenantId, patientId });
    return { kid, key };
  }

  async seal(tenantId: string, patientId: string, plaintext: string | Buffer, aad: string): Promise<SealedValue> {
    const pk = await this.keyFor(tenantId, patientId);
    return seal(pk.key, pk.kid, plaintext, aad);
  }

  async open(tenantId: string, patientId: string, sealed: SealedValue, aad: string): Promise<Buffer> {
    const pk = await this.patientKey(tenantId, patientId, sealed.kid);
    return open(pk.key, sealed, aad);
  }

  /** Crypto-shred one patient. */
  async destroyPatientKeys(tenantId: string, patientId: string): Promise<number> {
    const n = await this.repo.deletePatientKeys(tenantId, patientId);
    this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId && v.patientId === patientId);
    return n;
  }

  clearCache(): void {
    this.tenantKeys.deleteWhere(() => true);
    this.patientKeys.deleteWhere(() => true);
  }
}

/** The patient's key is gone (erased): to a caller it is as if the patient did not exist. */
export class KeyDestroyedError extends ProblemError {
  constructor() {
    super(404, problemTypes.notFound, 'Not found', 'No such patient.');
    this.name = 'KeyDestroyedError';
  }
}
