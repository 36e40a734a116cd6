// Messaging's key hierarchy (docs/messaging.md, "Encryption"): the platform's per-patient
// key service (libs/platform/src/patient-keys.ts) over messaging's own `patient_keys`
// (model.ts). KEK → tenant key → one data key per patient → AES-256-GCM sealed message
// bodies, subjects and destinations. Erasing a patient deletes their data key: every copy
// of what was sealed under it becomes unreadable.
import { type KekRing, PatientKeyService } from '@praxis/platform';
import type { KeyRepository } from './model';

export { KeyDestroyedError, type PatientKey } from '@praxis/platform';

export class KeyService extends PatientKeyService {
  constructor(repo: KeyRepository, keks: KekRing) {
    super(repo, keks, { aadPrefix: 'msg-patient', kidPrefix: 'mk', goneDetail: 'No such message.' });
  }
}
