// Bus consumers: erasure requests from consent, and practice purges from auth. Both are
// idempotent (event id store + tombstones keyed on the erasure / tenant id), so a
// redelivery finishes or repeats the work harmlessly. A tenant records has never held
// data for (no tenant key, live or destroyed) is none of its business: the event is
// acknowledged and nothing is published, so another deployment sharing the broker
// (a test run, a staging copy) never answers for data it does not hold.
import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type SubjectDataDeps, erasePatient, purgeTenant } from './use-cases';

export const consumerNames = (prefix = '') => ({ erasures: `${prefix}erasure-requests`, purges: `${prefix}tenant-purges` });

export async function startSubjectDataConsumers(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  deps: SubjectDataDeps,
  prefix = '',
): Promise<void> {
  const names = consumerNames(prefix);
  await bus.consume(names.erasures, {
    bindings: ['consent.erasure-request.created'],
    idempotency,
    handler: async (event) => {
      if (!(await deps.keys.holdsTenant(event.tenantId))) return;
      await erasePatient(deps, event.tenantId, event.actor, event.data.patientId, event.data.erasureId, { requireKnown: false });
    },
  });
  await bus.consume(names.purges, {
    bindings: ['auth.tenant.purged'],
    idempotency,
    handler: async (event) => {
      if (!(await deps.keys.holdsTenant(event.data.tenantId))) return;
      await purgeTenant(deps, event.data.tenantId);
    },
  });
}
