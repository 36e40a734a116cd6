// Storage of consent's key hierarchy, the same as records': the platform's MongoDB key store
// (libs/platform/src/patient-key-store.ts) in layout `kid`: one tenant key per practice in
// `tenant_keys`, exactly one data key per patient in `patient_keys` with `_id` = the key id.
// Kept apart from the data they protect, so deleting a key document makes every copy of the
// data (replicas, backups, a raw copy) unreadable: that is crypto-shredding.
import { MongoPatientKeyStore } from '@praxis/platform';
import type { Connection } from 'mongoose';

export class KeyRepository extends MongoPatientKeyStore {
  constructor(conn: Connection) {
    super(conn, 'kid');
  }
}
