// Events published by the consent service.
import { z } from 'zod';
import { code, count, defineEvent, id } from './envelope';

export const consentEvents = [
  defineEvent('consent.notice.acknowledged', 1, z.strictObject({ patientId: id, noticeVersion: code, method: z.enum(['in_person', 'email']) }), 'A patient acknowledged a privacy notice (Art. 13).'),
  defineEvent('consent.preference.changed', 1, z.strictObject({ patientId: id, sms: z.boolean(), email: z.boolean(), version: count }), 'A patient’s contact preferences changed (version 1, 2, 3… per patient).'),
  defineEvent(
    'consent.notice.requested',
    1,
    z.strictObject({
      noticeRequestId: id,
      patientId: id,
      noticeVersion: code,
      ackPath: z.string().regex(/^\/privacy-notices\/ack\/[A-Za-z0-9_-]{20,100}$/),
    }),
    'Staff asked for a privacy notice to be emailed to a patient; messaging sends the link.',
  ),
  defineEvent('consent.code.recorded', 1, z.strictObject({ patientId: id, kind: z.enum(['consent', 'dissent']), system: z.string().max(200), code }), 'A consent or dissent code was recorded.'),
  defineEvent('consent.access-request.created', 1, z.strictObject({ requestId: id, patientId: id, dueAt: z.iso.datetime() }), 'A subject access request was opened.'),
  defineEvent('consent.access-request.completed', 1, z.strictObject({ requestId: id, patientId: id }), 'A subject access request was fulfilled.'),
  defineEvent('consent.erasure-request.created', 1, z.strictObject({ erasureId: id, patientId: id }), 'An erasure request was opened; services erase their part.'),
  defineEvent('consent.erasure-request.completed', 1, z.strictObject({ erasureId: id }), 'Every service erased its part of a patient.'),
] as const;
