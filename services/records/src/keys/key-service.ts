// The key hierarchy in use: KEK (config) → tenant key (one per practice) → patient data
// key (one per patient) → AES-256-GCM sealed fields. Unwrapped keys are cached in memory
// for a short while so a read does not unwrap twice; erasure evicts them. The tenant key
// also derives the tenant's blind-index key (HKDF), so a search hash is useless without it.
import {
  type KekRing,
  type SealedValue,
  TtlCache,
  blindIndex,
  newDataKey,
  open,
  randomId,
  rewrapTenantKeys,
  seal,
  unwrapKey,
  wrapKey,
} from '@praxis/platform';
import { hkdfSync } from 'node:crypto';
import { ProblemError, problems } from '@praxis/platform';
import { problemTypes } from '@praxis/contracts';
import type { KeyRepository } from './model';

interface TenantKey {
  kid: string;
  key: Buffer;
  blindKey: Buffer;
}

export interface PatientKey {
  kid: string;
  key: Buffer;
}

const patientAad = (tenantId: string, patientId: string, kid: string) => `patient:${tenantId}:${patientId}:${kid}`;

export class KeyService {
  private readonly tenantKeys = new TtlCache<TenantKey>(5 * 60_000, 10_000);
  private readonly patientKeys = new TtlCache<PatientKey & { tenantId: string; patientId: string }>(60_000, 50_000);
  private readonly creating = new Map<string, Promise<TenantKey>>();

  constructor(
    private readonly repo: KeyRepository,
    private readonly keks: KekRing,
  ) {}

  /** Whether records has ever held data for this tenant (a key exists, live or destroyed). */
  async holdsTenant(tenantId: string): Promise<boolean> {
    return this.tenantKeys.get(tenantId) !== undefined || (await this.repo.findTenantKey(tenantId)) !== null;
  }

  /** The tenant key, created on first use. A purged tenant never gets one again. */
  async tenantKey(tenantId: string): Promise<TenantKey> {
    const cached = this.tenantKeys.get(tenantId);
    if (cached) return cached;
    let pending = this.creating.get(tenantId);
    if (!pending) {
      pending = this.loadOrCreateTenantKey(tenantId).finally(() => this.creating.delete(tenantId));
      this.creating.set(tenantId, pending);
    }
    return pending;
  }

  private async loadOrCreateTenantKey(tenantId: string): Promise<TenantKey> {
    const opened = await this.repo.openOrCreateTenantKey(tenantId, this.keks);
    if (opened === 'destroyed') throw problems.notFound();
    const tk = { ...opened, blindKey: deriveBlindKey(opened.key) };
    this.tenantKeys.set(tenantId, tk);
    return tk;
  }

  /** A new data key for a new patient, stored wrapped; returns it unwrapped for sealing. */
  async createPatientKey(tenantId: string, patientId: string): Promise<PatientKey> {
    const tk = await this.tenantKey(tenantId);
    const kid = randomId('pk');
    const key = newDataKey();
    await this.repo.insertPatientKey(tenantId, {
      _id: kid,
      patientId,
      wrapped: wrapKey(tk.key, tk.kid, key, patientAad(tenantId, patientId, kid)),
      createdAt: new Date(),
    });
    this.patientKeys.set(kid, { kid, key, tenantId, patientId });
    return { kid, key };
  }

  /** The patient's data key by id; throws when it was destroyed (crypto-shredded). */
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

  sealWith(pk: PatientKey, plaintext: string, aad: string): SealedValue {
    return seal(pk.key, pk.kid, plaintext, aad);
  }

  openWith(pk: PatientKey, sealed: SealedValue, aad: string): string {
    if (sealed.kid !== pk.kid) throw new Error('value sealed under another key');
    return open(pk.key, sealed, aad).toString('utf8');
  }

  /** Keyed, normalised (case- and accent-folded) equality hash for search. */
  async blindIndex(tenantId: string, value: string, domain: string): Promise<string> {
    const tk = await this.tenantKey(tenantId);
    return blindIndex(tk.blindKey, value, domain);
  }

  /** Crypto-shred one patient: every copy of their sealed data becomes unreadable. */
  async destroyPatientKeys(tenantId: string, patientId: string): Promise<number> {
    const n = await this.repo.deletePatientKeys(tenantId, patientId);
    this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId && v.patientId === patientId);
    return n;
  }

  /** Crypto-shred a whole practice: the tenant key and every patient key under it. */
  async destroyTenant(tenantId: string): Promise<void> {
    await this.repo.destroyTenantKey(tenantId);
    this.tenantKeys.delete(tenantId);
    await this.repo.deleteAllPatientKeys(tenantId);
    this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId);
  }

  /** Forget cached keys (tests, and after a rotation in this process). */
  clearCache(): void {
    this.tenantKeys.deleteWhere(() => true);
    this.patientKeys.deleteWhere(() => true);
  }
}

/**
 * The patient's data key is gone (erased). Data sealed under it is unreadable for good; to
 * a caller it is as if the patient did not exist (an erasure interrupted between shredding
 * and deleting answers 404 until it is resumed, never 500).
 */
export class KeyDestroyedError extends ProblemError {
  constructor() {
    super(404, problemTypes.notFound, 'Not found', 'No such patient.');
    this.name = 'KeyDestroyedError';
  }
}

function deriveBlindKey(tenantKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', tenantKey, Buffer.alloc(0), 'praxis:records:blind-index:v1', 32));
}

/** `rotate-kek`: re-wrap every tenant key under the current KEK (patient keys sit below). */
export const rotateKek = rewrapTenantKeys;
