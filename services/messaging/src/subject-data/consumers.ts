// Consumers of consent's requests: erasures (`messaging.erasure-requests`) and privacy-notice
// emails (`messaging.notice-requests`). Only requests of this deployment's practices are
// handled (holdsPractice: a tenant key here, or a practice this deployment's auth knows); a
// stranger's request is acknowledged and nothing is published, so on a shared broker no
// messaging answers for a practice it does not serve. One of ours that never sent a message
// is answered with zero counts: consent's saga waits for every erasing participant.
import type { Actor } from '@praxis/contracts';
import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type SubjectDataDeps, erasePatient, holdsPractice, sendPrivacyNotice } from './use-cases';

export async function startSubjectDataConsumers(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  deps: SubjectDataDeps,
  prefix = '',
): Promise<void> {
  await bus.consume(`${prefix}erasure-requests`, {
    bindings: ['consent.erasure-request.created'],
    idempotency,
    handler: async (event) => {
      if (!(await holdsPractice(deps, event.tenantId))) return;
      await erasePatient(deps, event.tenantId, event.actor, event.data.patientId, event.data.erasureId);
    },
  });
  await bus.consume(`${prefix}notice-requests`, {
    bindings: ['consent.notice.requested'],
    idempotency,
    handler: async (event) => {
      if (!(await holdsPractice(deps, event.tenantId))) return;
      const actor: Actor = event.actor;
      await sendPrivacyNotice(deps, { tenantId: event.tenantId, actor }, event.data);
    },
  });
}
