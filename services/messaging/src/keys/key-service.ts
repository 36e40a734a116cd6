// Messaging's key hierarchy (docs/messaging.md, "Encryption"): KEK (config) → tenant key
// (libs/platform tenant-keys, one per practice) → patient data key (one per patient, in
// messaging's own `patient_keys`) → AES-256-GCM sealed message bodies, subjects and
// destinations. Erasing a patient deletes their data key: every copy of what was sealed
// under it becomes unreadable. Unwrapped keys are cached briefly in memory.
import { problemTypes } from '@praxis/contracts';
import {
  type KekRing,
  ProblemError,
  type SealedValue,
  TtlCache,
  type TenantKeyRepository,
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

const patientAad = (tenantId: string, patientId: string, kid: string) => `msg-patient:${tenantId}:${patientId}:${kid}`;

export class KeyService {
  private readonly tenantKeys = new TtlCache<TenantKey>(5 * 60_000, 10_000);
  private readonly patientKeys = new TtlCache<PatientKey & { tenantId: string; patientId: string }>(60_000, 50_000);
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repo: KeyRepository,
    private readonly keks: KekRing,
  ) {}

  async holdsTenant(tenantId: string): Promise<boolean> {
    return this.tenantKeys.get(tenantId) !== undefined || (await this.repo.findTenantKey(tenantId)) !== null;
  }

  async tenantKey(tenantId: string): Promise<TenantKey> {
    const cached = this.tenantKeys.get(tenantId);
    if (cached) return cached;
    return this.once(`t:${tenantId}`, async () => {
      const opened = await this.repo.openOrCreateTenantKey(tenantId, this.keks);
      if (opened === 'destroyed') throw problems.notFound();
      this.tenantKeys.set(tenantId, opened);
      return opened;
    });
  }

  /**
   * The patient's data key, made on first use. One key per patient: a unique index on
   * (tenant, patient) lets concurrent first uses settle on one key.
   */
  async patientKey(tenantId: string, patientId: string): Promise<PatientKey> {
    const cached = this.patientKeys.get(`${tenantId}|${patientId}`);
    if (cached) return cached;
    return this.once(`p:${tenantId}|${patientId}`, async () => {
      const tk = await this.tenantKey(tenantId);
      for (let attempt = 0; attempt < 3; attempt++) {
        const doc = await this.repo.findPatientKey(tenantId, patientId);
        if (doc) {
          if (doc.wrapped.kid !== tk.kid) throw new Error(`patient key ${doc.kid} is wrapped by an unknown tenant key`);
          const key = unwrapKey(tk.key, doc.wrapped, patientAad(tenantId, patientId, doc.kid));
          return this.remember(tenantId, patientId, { kid: doc.kid, key });
        }
        const kid = randomId('mk');
        const key = newDataKey();
        if (
          await this.repo.insertPatientKey(tenantId, patientId, kid, wrapKey(tk.key, tk.kid, key, patientAad(tenantId, patientId, kid)))
        ) {
          return this.remember(tenantId, patientId, { kid, key });
        }
      }
      throw new Error('could not load or create the patient key');
    });
  }

  /** The key a value was sealed with, or a 404-shaped error once it was shredded. */
  async existingPatientKey(tenantId: string, patientId: string, kid: string): Promise<PatientKey> {
    const cached = this.patientKeys.get(`${tenantId}|${patientId}`);
    if (cached && cached.kid === kid) return cached;
    const doc = await this.repo.findPatientKey(tenantId, patientId);
    if (!doc || doc.kid !== kid) throw new KeyDestroyedError();
    return this.patientKey(tenantId, patientId);
  }

  seal(pk: PatientKey, plaintext: string, aad: string): SealedValue {
    return seal(pk.key, pk.kid, plaintext, aad);
  }

  open(pk: PatientKey, sealed: SealedValue, aad: string): string {
    if (sealed.kid !== pk.kid) throw new KeyDestroyedError();
    return open(pk.key, sealed, aad).toString('utf8');
  }

  /** Crypto-shred one patient's messaging data. */
  async destroyPatientKey(tenantId: string, patientId: string): Promise<number> {
    this.patientKeys.delete(`${tenantId}|${patientId}`);
    const n = await this.repo.deletePatientKey(tenantId, patientId);
    this.patientKeys.delete(`${tenantId}|${patientId}`);
    return n;
  }

  async destroyTenant(tenantId: string): Promise<void> {
    await this.repo.destroyTenantKey(tenantId);
    this.tenantKeys.delete(tenantId);
    await this.repo.deleteAllPatientKeys(tenantId);
    this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId);
  }

  clearCache(): void {
    this.tenantKeys.deleteWhere(() => true);
    this.patientKeys.deleteWhere(() => true);
  }

  private remember(tenantId: string, patientId: string, pk: PatientKey): PatientKey {
    this.patientKeys.set(`${tenantId}|${patientId}`, { ...pk, tenantId, patientId });
    return pk;
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.pending.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make().finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }
}

/** The patient's key is gone (erased): to callers the data does not exist. */
export class KeyDestroyedError extends ProblemError {
  constructor() {
    super(404, problemTypes.notFound, 'Not found', 'No such message.');
    this.name = 'KeyDestroyedError';
  }
}

export type { TenantKeyRepository };
