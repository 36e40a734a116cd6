// Bus consumer keeping the projection of patients (records.patient.created / .erased) and
// of practices: slugs (auth.tenant.created), and the stored display name dropped when auth
// says the name changed (auth.tenant.updated naming `name`). Idempotent: learning twice
// changes nothing, and an erased patient is never learnt again.
import type { Bus, IdempotencyStore } from '@praxis/platform';
import type { KnownPatientRepository } from './model';

export const patientConsumerName = (prefix = '') => `${prefix}patients`;

export async function startPatientConsumer(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  patients: KnownPatientRepository,
  prefix = '',
): Promise<void> {
  await bus.consume(patientConsumerName(prefix), {
    bindings: ['records.patient.created', 'records.patient.erased', 'auth.tenant.created', 'auth.tenant.updated'],
    idempotency,
    handler: async (event) => {
      if (event.type === 'records.patient.created') await patients.learn(event.tenantId, event.data.patientId, event.data.test);
      else if (event.type === 'records.patient.erased') await patients.forget(event.tenantId, event.data.patientId, { remember: false });
      else if (event.type === 'auth.tenant.created') await patients.learnPractice(event.tenantId, event.data.slug);
      else if (event.data.fields.includes('name')) await patients.forgetPracticeName(event.tenantId);
    },
  });
}
