// Events published by the consent service. Ids and codes only: never notice text, a code's
// display text, an erasure reason or anything from a subject access export.
import { z } from 'zod';
import { code, count, defineEvent, id } from './envelope';

const service = z.string().regex(/^[a-z][a-z-]{1,40}$/);

/** Why a subject access participant's part could not be had (consent.access-request.failed@2). */
export const sarFailureReasons = ['unreachable', 'timeout', 'status', 'broke-off', 'wrong-service', 'error'] as const;
export type SarFailureReason = (typeof sarFailureReasons)[number];

export const consentEvents = [
  defineEvent(
    'consent.notice.acknowledged',
    1,
    z.strictObject({ patientId: id, noticeVersion: code, method: z.enum(['in_person', 'email']) }),
    'A patient acknowledged a privacy notice (Art. 13).',
  ),
  defineEvent(
    'consent.notice-version.created',
    1,
    z.strictObject({ noticeVersion: code }),
    'A practice published a new privacy-notice version.',
  ),
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
  defineEvent(
    'consent.preference.changed',
    1,
    z.strictObject({ patientId: id, sms: z.boolean(), email: z.boolean(), version: count }),
    'A patient’s contact preferences changed (version 1, 2, 3… per patient).',
  ),
  defineEvent(
    'consent.code.recorded',
    1,
    z.strictObject({ patientId: id, kind: z.enum(['consent', 'dissent']), system: z.string().max(200), code }),
    'A consent or dissent code was recorded.',
  ),
  defineEvent(
    'consent.access-request.created',
    1,
    z.strictObject({ requestId: id, patientId: id, dueAt: z.iso.datetime() }),
    'A subject access request was opened.',
  ),
  defineEvent(
    'consent.access-request.completed',
    1,
    z.strictObject({ requestId: id, patientId: id }),
    'A subject access request was fulfilled.',
  ),
  defineEvent(
    'consent.access-request.failed',
    1,
    z.strictObject({ requestId: id, patientId: id, participant: service }),
    'A subject access request could not be collated: a participant did not answer (before version 2 carried the reason).',
  ),
  defineEvent(
    'consent.access-request.failed',
    2,
    z.strictObject({
      requestId: id,
      patientId: id,
      participant: service,
      reason: z.enum(sarFailureReasons),
      /** The participant's HTTP status, when `reason` is `status`. */
      status: z.number().int().min(100).max(599).optional(),
      /** Collations tried before the request failed. */
      attempts: count.min(1),
    }),
    'A subject access request could not be collated: which participant, why (a code: unreachable, timeout, status with the HTTP status, broke-off mid-answer, wrong-service answer, or an error in consent itself) and after how many attempts.',
  ),
  defineEvent(
    'consent.access-request.downloaded',
    1,
    z.strictObject({ requestId: id, patientId: id, format: z.enum(['json', 'fhir']) }),
    'An admin downloaded a subject access export.',
  ),
  defineEvent(
    'consent.access-request.expired',
    1,
    z.strictObject({ requestId: id, patientId: id }),
    'A subject access export reached its expiry and was deleted.',
  ),
  defineEvent(
    'consent.erasure-request.created',
    1,
    z.strictObject({ erasureId: id, patientId: id }),
    'An erasure request was opened (or re-sent to participants that have not answered); services erase their part.',
  ),
  defineEvent(
    'consent.erasure-request.completed',
    1,
    z.strictObject({ erasureId: id, patientId: id, counts: z.record(service, z.record(z.string().regex(/^[a-zA-Z]{1,40}$/), count)) }),
    'Every service erased its part of a patient: the non-identifying tombstone (ids, actor, counts, time).',
  ),
  defineEvent(
    'consent.erasure-request.failed',
    1,
    z.strictObject({ erasureId: id, patientId: id, missing: z.array(service) }),
    'An erasure passed its deadline with participants that never answered.',
  ),
  defineEvent(
    'consent.patient.erased',
    1,
    z.strictObject({ erasureId: id, patientId: id, preferences: count, codes: count, notices: count, exports: count }),
    'Consent erased its own part of a patient (crypto-shredded and deleted); counts only.',
  ),
] as const;
