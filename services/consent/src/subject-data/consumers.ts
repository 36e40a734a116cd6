// Consent erases its own part on its own erasure requests, like every participant. Only
// requests this deployment opened are acted on (another deployment sharing the broker, a
// test run, never gets an answer from this one).
import type { Bus, IdempotencyStore } from '@praxis/platform';
import type { ErasureRepository } from '../erasure/model';
import { type OwnPartDeps, eraseOwnPart } from './use-cases';

export const ownErasureConsumerName = (prefix = '') => `${prefix}erasures`;

export async function startOwnErasureConsumer(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  erasures: Pick<ErasureRepository, 'find'>,
  deps: OwnPartDeps,
  prefix = '',
): Promise<void> {
  await bus.consume(ownErasureConsumerName(prefix), {
    bindings: ['consent.erasure-request.created'],
    idempotency,
    handler: async (event) => {
      const data = event.data;
      const saga = await erasures.find(event.tenantId, data.erasureId);
      if (!saga || saga.patientId !== data.patientId) return;
      await eraseOwnPart(deps, event.tenantId, event.actor, data.patientId, data.erasureId);
    },
  });
}
