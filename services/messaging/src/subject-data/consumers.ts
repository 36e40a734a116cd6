// Consumers of consent's requests: erasures (`messaging.erasure-requests`) and privacy-notice
// emails (`messaging.notice-requests`). Every erasure is answered, with zero counts when
// messaging holds nothing for the practice: consent's saga waits for an answer from every
// erasing participant (docs/consent.md), and a practice that never sent a message is the
// common case. Notice requests of practices messaging has never held a key for are left
// alone, so another deployment sharing a broker does not try to email their patients.
import type { Actor } from '@praxis/contracts';
import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type SubjectDataDeps, erasePatient, sendPrivacyNotice } from './use-cases';

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
      await erasePatient(deps, event.tenantId, event.actor, event.data.patientId, event.data.erasureId);
    },
  });
  await bus.consume(`${prefix}notice-requests`, {
    bindings: ['consent.notice.requested'],
    idempotency,
    handler: async (event) => {
      if (!(await deps.keys.holdsTenant(event.tenantId))) return;
      const actor: Actor = event.actor;
      await sendPrivacyNotice(deps, { tenantId: event.tenantId, actor }, event.data);
    },
  });
}
