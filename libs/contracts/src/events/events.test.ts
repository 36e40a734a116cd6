import { eventDefinitions, eventTypePattern, parseEvent } from './index';

const base = {
  id: '0190f5b8-7c1a-7e3b-9a2c-1234567890ab',
  type: 'records.patient.viewed',
  version: 1,
  occurredAt: '2026-11-23T10:00:00.000Z',
  tenantId: 'ten_1',
  actor: { kind: 'user', id: 'usr_1' },
  subject: { patientId: 'pat_1' },
  correlationId: 'req-1',
  data: { patientId: 'pat_1' },
};

describe('event registry', () => {
  it('names every type <service>.<entity>.<verb>', () => {
    for (const def of eventDefinitions()) expect(def.type).toMatch(eventTypePattern);
  });

  it('accepts a well-formed event', () => {
    const r = parseEvent(base);
    expect(r.ok).toBe(true);
  });

  it('refuses an unknown type, a wrong version, extra data fields and a bad envelope', () => {
    expect(parseEvent({ ...base, type: 'records.patient.exploded' })).toMatchObject({ ok: false });
    expect(parseEvent({ ...base, version: 9 })).toMatchObject({ ok: false });
    // Extra fields would let names or text slip into events: refused.
    expect(parseEvent({ ...base, data: { patientId: 'p', familyName: 'Smith' } })).toMatchObject({ ok: false });
    expect(parseEvent({ ...base, id: 'not-a-uuid' })).toMatchObject({ ok: false });
    expect(parseEvent({ ...base, actor: { kind: 'robot', id: 'x' } })).toMatchObject({ ok: false });
    expect(parseEvent('nonsense')).toMatchObject({ ok: false });
  });
});
