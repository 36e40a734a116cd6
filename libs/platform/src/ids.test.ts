import { envelopeSchema } from '@praxis/contracts';
import { stableUuid, uuidv7 } from './ids';
import { makeEvent } from './outbox';

describe('stableUuid', () => {
  it('gives the same UUID (version 8) for the same parts and another for other parts', () => {
    const a = stableUuid('consent.erasure-request.completed', 't1', 'e1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('consent.erasure-request.completed', 't1', 'e1')).toBe(a);
    expect(stableUuid('consent.erasure-request.completed', 't1', 'e2')).not.toBe(a);
    // Parts are separated, so moving a character between them changes the id.
    expect(stableUuid('ab', 'c')).not.toBe(stableUuid('a', 'bc'));
  });

  it('is an event id two replicas agree on, and a valid envelope id', () => {
    const make = () =>
      makeEvent({
        id: stableUuid('consent.erasure-request.completed', 't1', 'era_1'),
        type: 'consent.erasure-request.completed',
        tenantId: 't1',
        actor: { kind: 'system', id: 'consent' },
        data: { erasureId: 'era_1', patientId: 'pat_1', counts: {} },
      });
    const [one, two] = [make(), make()];
    expect(one.id).toBe(two.id);
    expect(envelopeSchema.safeParse(one).success).toBe(true);
    expect(uuidv7()).not.toBe(uuidv7());
  });
});
