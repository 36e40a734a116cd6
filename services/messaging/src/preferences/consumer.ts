// Keeps the preference projection current from consent.preference.changed. The queue has
// a single active consumer, so one process applies changes, in order per queue; the
// version check makes a late or repeated event harmless.
import type { Bus, IdempotencyStore } from '@praxis/platform';
import type { PreferenceRepository } from './model';

export async function startPreferenceConsumer(
  bus: Pick<Bus, 'consume'>,
  idempotency: IdempotencyStore,
  preferences: PreferenceRepository,
  prefix = '',
): Promise<void> {
  await bus.consume(`${prefix}preferences`, {
    bindings: ['consent.preference.changed'],
    idempotency,
    singleActiveConsumer: true,
    prefetch: 1,
    handler: async (event) => {
      const d = event.data;
      await preferences.apply(event.tenantId, d.patientId, { sms: d.sms, email: d.email, version: d.version });
    },
  });
}
