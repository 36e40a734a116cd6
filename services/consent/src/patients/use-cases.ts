// The one rule every patient route shares: a patient this practice does not have (never
// known, another practice's, or erased) is 404.
import { problems } from '@praxis/platform';
import type { KnownPatientRepository } from './model';

export async function requirePatient(patients: KnownPatientRepository, tenantId: string, patientId: string): Promise<void> {
  if (!(await patients.exists(tenantId, patientId))) throw problems.notFound('No such patient.');
}
