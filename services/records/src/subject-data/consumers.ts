// Bus consumers: erasure requests from consent, and practice purges from auth. Both are
// idempotent (event id store + tombstones keyed on the erasure / tenant id), so a
// redelivery finishes or repeats the work harmlessly.
import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type SubjectDataDeps, erasePatient, purgeTenant } from './use-cases';

export const consumerNames = (prefix = '') => ({ erasures: `${prefix}erasure-requests`, purges: `${prefix}tenant-purges` });

export async function startSubjectDataConsumers(bus: Pick<Bus, 'consume'>, idempotency: IdempotencyStore, deps: SubjectDataDeps, prefix = ''): Promise<void> {
  const names = consumerNames(prefix);
  await bus.consume(names.erasures, {
    bindings: ['consent.erasure-request.created'],
    idempotency,
    handler: async (event) => {
      const data = event.data as { erasureId: string; patientId: string };
      await erasePatient(deps, event.tenantId, event.actor, data.patientId, data.erasureId, { requireKnown: false });
    },
  });
  await bus.consume(names.purges, {
    bindings: ['auth.tenant.purged'],
    idempotency,
    handler: async (event) => {
      const data = event.data as { tenantId: string };
      await purgeTenant(deps, data.tenantId);
    },
  });
}
