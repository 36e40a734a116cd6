// Storage of records' key hierarchy: the platform's MongoDB key store
// (libs/platform/src/patient-key-store.ts) in layout `kid`: one tenant key per practice in
// `tenant_keys`, one data key per patient record in `patient_keys` with `_id` = the key id
// carried by every value sealed with it. Kept apart from the data they protect, so deleting
// a key document makes every copy of the data (replicas, backups, a raw copy) unreadable:
// that is crypto-shredding.
import { MongoPatientKeyStore } from '@praxis/platform';
import type { Connection } from 'mongoose';

export class KeyRepository extends MongoPatientKeyStore {
  constructor(conn: Connection) {
    super(conn, 'kid');
  }
}
