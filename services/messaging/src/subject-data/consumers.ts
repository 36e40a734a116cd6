// Consumers of consent's requests: erasures (`messaging.erasure-requests`) and privacy-notice
// emails (`messaging.notice-requests`). Both ignore practices messaging has never held a key
// for, so another deployment sharing the broker never answers for data it does not hold.
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
      const data = event.data as { erasureId: string; patientId: string };
      if (!(await deps.keys.holdsTenant(event.tenantId))) return;
      await erasePatient(deps, event.tenantId, event.actor, data.patientId, data.erasureId);
    },
  });
  await bus.consume(`${prefix}notice-requests`, {
    bindings: ['consent.notice.requested'],
    idempotency,
    handler: async (event) => {
      const data = event.data as { noticeRequestId: string; patientId: string; noticeVersion: string; ackPath: string };
      if (!(await deps.keys.holdsTenant(event.tenantId))) return;
      const actor: Actor = event.actor;
      await sendPrivacyNotice(deps, { tenantId: event.tenantId, actor }, data);
    },
  });
}
