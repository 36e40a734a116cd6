// Records' key hierarchy: the platform's per-patient key service
// (libs/platform/src/patient-keys.ts) over records' own key store (model.ts). KEK →
// tenant key → one data key per patient record → sealed names, contact details, notes; the
// tenant key also derives the blind-index key that family-name search uses.
import { type KekRing, PatientKeyService, rewrapTenantKeys } from '@praxis/platform';
import type { KeyRepository } from './model';

export { KeyDestroyedError, type PatientKey } from '@praxis/platform';

export class KeyService extends PatientKeyService {
  constructor(repo: KeyRepository, keks: KekRing) {
    super(repo, keks, {
      aadPrefix: 'patient',
      kidPrefix: 'pk',
      goneDetail: 'No such patient.',
      blindIndexInfo: 'praxis:records:blind-index:v1',
    });
  }
}

/** `rotate-kek`: re-wrap every tenant key under the current KEK (patient keys sit below). */
export const rotateKek = rewrapTenantKeys;
