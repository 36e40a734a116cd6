// Consent's key hierarchy, the same as records' (docs/records.md): the platform's
// per-patient key service (libs/platform/src/patient-keys.ts) over consent's own key store
// (model.ts). KEK → tenant key → one data key per patient → sealed values (a code's display
// text, an erasure reason, a subject access export). Erasing a patient deletes their key
// first, so every copy of what it sealed is unreadable (crypto-shredding).
import { type KekRing, PatientKeyService } from '@praxis/platform';
import type { KeyRepository } from './model';

export { KeyDestroyedError, type PatientKey } from '@praxis/platform';

export class KeyService extends PatientKeyService {
  constructor(repo: KeyRepository, keks: KekRing) {
    super(repo, keks, { aadPrefix: 'consent-patient', kidPrefix: 'pk', goneDetail: 'No such patient.' });
  }
}
