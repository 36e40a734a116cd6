// Per-patient data keys, below the tenant keys of tenant-keys.ts: KEK (config) → tenant
// key (one per practice) → data key (one or more per patient) → AES-256-GCM sealed
// values. Erasing a patient deletes their data keys, so every copy of what they sealed
// (replicas, backups, a raw copy) is unreadable: crypto-shredding (docs/platform.md,
// "Encryption at rest"). Unwrapped keys are cached briefly so a read does not unwrap
// twice; shredding evicts them. The tenant key also derives the tenant's blind-index key
// (HKDF), so a search hash is useless without it.
//
// Each service keeps its keys in its own database, in the layout it has always used: the
// storage is an interface (`PatientKeyStore`), implemented once for MongoDB by
// `MongoPatientKeyStore` (patient-key-store.ts), which a service's keys/model.ts configures
// with its layout; the logic (caching, one creation at a time, wrapping, shredding) is this
// one copy.
import { problemTypes } from '@praxis/contracts';
import { type KeyObject, hkdfSync } from 'node:crypto';
import { type SealedValue, blindIndex, cipherKey, newDataKey, open, seal, unwrapKey, wrapKey } from './crypto';
import { ProblemError, problems } from './http/problem';
import { randomId } from './ids';
import type { KekRing } from './kek';
import type { TenantKey, TenantKeyRepository } from './tenant-keys';
import { TtlCache } from './ttl-cache';

export interface PatientKey {
  kid: string;
  key: Buffer;
  /** The same key imported once for AES (crypto.ts `cipherKey`): sealing and opening use it when present. */
  cipherKey?: KeyObject;
}

/** A stored data key: its id and the key wrapped by the tenant key named in `wrapped.kid`. */
export interface StoredPatientKey {
  kid: string;
  patientId: string;
  wrapped: SealedValue;
}

/** What a service's key repository provides (every method takes the tenant id first). */
export interface PatientKeyStore extends Pick<TenantKeyRepository, 'openOrCreateTenantKey' | 'findTenantKey' | 'destroyTenantKey'> {
  /** That key of that patient, or null (never another tenant's or patient's). */
  findPatientKey(tenantId: string, patientId: string, kid: string): Promise<StoredPatientKey | null>;
  /** A key of the patient (the one, where a service keeps one per patient), or null. */
  findPatientKeyOf(tenantId: string, patientId: string): Promise<StoredPatientKey | null>;
  /** Store a new key; false when the store keeps one per patient and another writer made it first. */
  insertPatientKey(tenantId: string, key: StoredPatientKey): Promise<boolean>;
  deletePatientKeys(tenantId: string, patientId: string): Promise<number>;
  deleteAllPatientKeys(tenantId: string): Promise<number>;
}

export interface PatientKeyServiceOptions {
  /** Binds a wrapped key to its service: `<aadPrefix>:<tenant>:<patient>:<kid>`. */
  aadPrefix: string;
  /** Prefix of new key ids (`pk`, `mk`, …). */
  kidPrefix: string;
  /** What a caller is told when the data's key was shredded (a 404 detail). */
  goneDetail: string;
  /** HKDF info for the tenant's blind-index key; omit when the service does not search. */
  blindIndexInfo?: string;
}

interface TenantKeyWithBlind extends TenantKey {
  blindKey?: Buffer;
}

/**
 * The patient's data key is gone (erased). Data sealed under it is unreadable for good; to
 * a caller it is as if the data did not exist (an erasure interrupted between shredding
 * and deleting answers 404 until it is resumed, never 500).
 */
export class KeyDestroyedError extends ProblemError {
  constructor(detail = 'Not found.') {
    super(404, problemTypes.notFound, 'Not found', detail);
    this.name = 'KeyDestroyedError';
  }
}

export class PatientKeyService {
  private readonly tenantKeys = new TtlCache<TenantKeyWithBlind>(5 * 60_000, 10_000);
  private readonly patientKeys = new TtlCache<PatientKey & { tenantId: string; patientId: string }>(60_000, 50_000);
  /** `<tenant>|<patient>` → kid, for services with one key per patient (keyOfPatient). */
  private readonly kidOfPatient = new TtlCache<string>(60_000, 50_000);
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: PatientKeyStore,
    private readonly keks: KekRing,
    private readonly opts: PatientKeyServiceOptions,
  ) {}

  /** Whether this service has ever held data for the tenant (a key exists, live or destroyed). */
  async holdsTenant(tenantId: string): Promise<boolean> {
    return this.tenantKeys.get(tenantId) !== undefined || (await this.store.findTenantKey(tenantId)) !== null;
  }

  /** The tenant key, created on first use. A purged tenant never gets one again (404). */
  async tenantKey(tenantId: string): Promise<TenantKeyWithBlind> {
    const cached = this.tenantKeys.get(tenantId);
    if (cached) return cached;
    return this.once(`t:${tenantId}`, async () => {
      const opened = await this.store.openOrCreateTenantKey(tenantId, this.keks);
      if (opened === 'destroyed') throw problems.notFound();
      const info = this.opts.blindIndexInfo;
      const tk = info ? { ...opened, blindKey: Buffer.from(hkdfSync('sha256', opened.key, Buffer.alloc(0), info, 32)) } : opened;
      this.tenantKeys.set(tenantId, tk);
      return tk;
    });
  }

  /** A new data key for the patient, stored wrapped; returned unwrapped for sealing. */
  async newPatientKey(tenantId: string, patientId: string): Promise<PatientKey> {
    const made = await this.makeKey(tenantId, patientId);
    if (!made) throw new Error('the patient already has a key');
    return made;
  }

  /** The patient's one data key, made on first use; concurrent first uses settle on one key. */
  async keyOfPatient(tenantId: string, patientId: string): Promise<PatientKey> {
    const kid = this.kidOfPatient.get(`${tenantId}|${patientId}`);
    const cached = kid ? this.patientKeys.get(kid) : undefined;
    if (cached && cached.tenantId === tenantId && cached.patientId === patientId) return cached;
    return this.once(`p:${tenantId}|${patientId}`, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const stored = await this.store.findPatientKeyOf(tenantId, patientId);
        const key = stored ? await this.unwrap(tenantId, stored) : await this.makeKey(tenantId, patientId);
        if (key) {
          this.kidOfPatient.set(`${tenantId}|${patientId}`, key.kid);
          return key;
        }
      }
      throw new Error('could not load or create the patient key');
    });
  }

  /** The patient's data key by id; KeyDestroyedError once it was shredded. */
  async patientKey(tenantId: string, patientId: string, kid: string): Promise<PatientKey> {
    const cached = this.patientKeys.get(kid);
    if (cached && cached.tenantId === tenantId && cached.patientId === patientId) return cached;
    const stored = await this.store.findPatientKey(tenantId, patientId, kid);
    if (!stored || stored.patientId !== patientId || stored.kid !== kid) throw new KeyDestroyedError(this.opts.goneDetail);
    return this.unwrap(tenantId, stored);
  }

  sealWith(pk: PatientKey, plaintext: string | Buffer, aad: string): SealedValue {
    return seal(pk.cipherKey ?? pk.key, pk.kid, plaintext, aad);
  }

  /** Opens a value sealed under `pk`; a value under another key of the patient was shredded with it. */
  openWith(pk: PatientKey, sealed: SealedValue, aad: string): string {
    return this.openBytesWith(pk, sealed, aad).toString('utf8');
  }

  openBytesWith(pk: PatientKey, sealed: SealedValue, aad: string): Buffer {
    if (sealed.kid !== pk.kid) throw new KeyDestroyedError(this.opts.goneDetail);
    return open(pk.cipherKey ?? pk.key, sealed, aad);
  }

  /** Seal under the patient's one key (made on first use). */
  async sealFor(tenantId: string, patientId: string, plaintext: string | Buffer, aad: string): Promise<SealedValue> {
    return this.sealWith(await this.keyOfPatient(tenantId, patientId), plaintext, aad);
  }

  /** Open a value sealed under one of the patient's keys; KeyDestroyedError once shredded. */
  async openFor(tenantId: string, patientId: string, sealed: SealedValue, aad: string): Promise<Buffer> {
    return this.openBytesWith(await this.patientKey(tenantId, patientId, sealed.kid), sealed, aad);
  }

  /** Keyed, normalised (case- and accent-folded) equality hash for search. */
  async blindIndex(tenantId: string, value: string, domain: string): Promise<string> {
    const tk = await this.tenantKey(tenantId);
    if (!tk.blindKey) throw new Error('this service keeps no blind index (blindIndexInfo)');
    return blindIndex(tk.blindKey, value, domain);
  }

  /** Crypto-shred one patient: every copy of their sealed data becomes unreadable. */
  async destroyPatientKeys(tenantId: string, patientId: string): Promise<number> {
    const evict = () => {
      this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId && v.patientId === patientId);
      this.kidOfPatient.delete(`${tenantId}|${patientId}`);
    };
    evict();
    const n = await this.store.deletePatientKeys(tenantId, patientId);
    // A read that was unwrapping meanwhile may have cached it again.
    evict();
    return n;
  }

  /** Crypto-shred a whole practice: the tenant key and every patient key under it. */
  async destroyTenant(tenantId: string): Promise<void> {
    await this.store.destroyTenantKey(tenantId);
    this.tenantKeys.delete(tenantId);
    await this.store.deleteAllPatientKeys(tenantId);
    this.patientKeys.deleteWhere((_k, v) => v.tenantId === tenantId);
    this.kidOfPatient.deleteWhere((k) => k.startsWith(`${tenantId}|`));
  }

  /** Forget cached keys (tests, and after a rotation in this process). */
  clearCache(): void {
    this.tenantKeys.deleteWhere(() => true);
    this.patientKeys.deleteWhere(() => true);
    this.kidOfPatient.deleteWhere(() => true);
  }

  private aad(tenantId: string, patientId: string, kid: string): string {
    return `${this.opts.aadPrefix}:${tenantId}:${patientId}:${kid}`;
  }

  private async makeKey(tenantId: string, patientId: string): Promise<PatientKey | undefined> {
    const tk = await this.tenantKey(tenantId);
    const kid = randomId(this.opts.kidPrefix);
    const key = newDataKey();
    const wrapped = wrapKey(tk.key, tk.kid, key, this.aad(tenantId, patientId, kid));
    if (!(await this.store.insertPatientKey(tenantId, { kid, patientId, wrapped }))) return undefined;
    const pk = { kid, key, cipherKey: cipherKey(key) };
    this.patientKeys.set(kid, { ...pk, tenantId, patientId });
    return pk;
  }

  private async unwrap(tenantId: string, stored: StoredPatientKey): Promise<PatientKey> {
    const tk = await this.tenantKey(tenantId);
    if (stored.wrapped.kid !== tk.kid) throw new Error(`patient key ${stored.kid} is wrapped by an unknown tenant key`);
    const key = unwrapKey(tk.key, stored.wrapped, this.aad(tenantId, stored.patientId, stored.kid));
    const pk = { kid: stored.kid, key, cipherKey: cipherKey(key) };
    this.patientKeys.set(stored.kid, { ...pk, tenantId, patientId: stored.patientId });
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
