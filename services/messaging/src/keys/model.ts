// Storage of messaging's key hierarchy: the platform's MongoDB key store
// (libs/platform/src/patient-key-store.ts) in layout `patient`: one tenant key per practice
// in `tenant_keys`, one data key per patient in `patient_keys` with `_id` =
// `<tenant>|<patient>` (found by `_id` equality alone) and the key id in `kid`. Kept apart
// from the data they protect, so deleting a key document crypto-shreds every copy of that
// patient's messages.
import { MongoPatientKeyStore } from '@praxis/platform';
import type { Connection } from 'mongoose';

export class KeyRepository extends MongoPatientKeyStore {
  constructor(conn: Connection) {
    super(conn, 'patient');
  }
}
