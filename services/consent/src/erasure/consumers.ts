// Bus consumer of the participants' answers (`<service>.patient.erased` for every erasing
// participant of the registry). Idempotent on the event id, and a repeated answer finds
// the participant already erased and changes nothing.
import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type ErasureDeps, recordErasureAnswer } from './use-cases';

export const answerConsumerName = (prefix = '') => `${prefix}erasure-answers`;

export async function startErasureAnswerConsumer(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  deps: ErasureDeps,
  prefix = '',
): Promise<void> {
  const erasing = deps.participants.filter((p) => p.erases).map((p) => p.service);
  await bus.consume(answerConsumerName(prefix), {
    bindings: erasing.map((s) => `${s}.patient.erased`),
    idempotency,
    handler: async (event) => {
      const service = event.type.split('.')[0]!;
      if (!erasing.includes(service)) return;
      await recordErasureAnswer(deps, event.tenantId, service, event.data);
    },
  });
}
