// Queueing a message (the API, batches, direct messages and notices all come through
// here): consent from the local projection (422 opted-out), the patient's contact and the
// rendered template from records, validation of the destination (E.164 by
// libphonenumber-js, emails) and of the SMS length, the credit reservation (402), and the
// insert with its `messaging.message.queued` event in one write. Sending happens later, in
// the delivery worker (messages/delivery.ts), never in the request.
import { problemTypes } from '@praxis/contracts';
import { type Page, ProblemError, decodeCursor, makeEvent, pageOf, problems } from '@praxis/platform';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { Credits } from '../credits/use-cases';
import type { PreferenceRepository } from '../preferences/model';
import type { RecordsClient } from '../records-client/records-client';
import { type Channel, type Message, type MessagePurpose, type MessageRepository, newMessageId, toMessage } from './model';
import { MAX_SMS_SEGMENTS, smsLimits, smsSize } from './segments';

export interface MessageDeps {
  messages: MessageRepository;
  preferences: PreferenceRepository;
  records: RecordsClient;
  credits: Credits;
  events: Events;
}

export interface QueueInput {
  patientId: string;
  channel: Channel;
  templateId?: string;
  subject?: string;
  body?: string;
  variables?: Record<string, string>;
}

export interface QueueOptions {
  purpose?: MessagePurpose;
  /** A fixed id (batches: `<batch>-<n>`, so a resumed batch never queues a patient twice). */
  id?: string;
  batchId?: string;
  directMessageId?: string;
  /** Preferences decide only practice messages; direct-message legs and notices are the patient's own business. */
  checkPreferences?: boolean;
}

const email = z.email();

export const optedOut = (channel: Channel) =>
  new ProblemError(422, problemTypes.optedOut, 'Opted out', `The patient declined messages by ${channel === 'sms' ? 'SMS' : 'email'}.`);

/** Where a message to this patient goes on this channel, checked. */
export function destinationOf(contact: { email?: string; mobile?: string }, channel: Channel): string {
  if (channel === 'sms') {
    if (!contact.mobile) throw problems.unprocessable('The patient has no mobile number on record.');
    if (!isValidPhoneNumber(contact.mobile))
      throw problems.badRequest('The patient’s mobile number is not a valid phone number.', [
        { path: 'patient.mobile', message: 'not a valid E.164 mobile number' },
      ]);
    return contact.mobile;
  }
  if (!contact.email) throw problems.unprocessable('The patient has no email address on record.');
  if (!email.safeParse(contact.email).success)
    throw problems.badRequest('The patient’s email address is not valid.', [
      { path: 'patient.email', message: 'not a valid email address' },
    ]);
  return contact.email;
}

export function checkSmsLength(body: string, path = 'body.body'): ReturnType<typeof smsSize> {
  const size = smsSize(body);
  if (size.segments > MAX_SMS_SEGMENTS) {
    throw problems.badRequest(
      `An SMS may have at most ${MAX_SMS_SEGMENTS} parts: ${smsLimits.gsm7} GSM-7 characters, or ${smsLimits.ucs2} characters when it needs Unicode (UCS-2).`,
      [
        {
          path,
          message: `longer than the SMS limit of ${MAX_SMS_SEGMENTS} parts (${smsLimits.gsm7} GSM-7 / ${smsLimits.ucs2} UCS-2 characters); this text needs ${size.segments}`,
        },
      ],
    );
  }
  return size;
}

export async function queueMessage(
  deps: MessageDeps,
  caller: Caller,
  input: QueueInput,
  opts: QueueOptions = {},
): Promise<{ id: string; status: 'queued' }> {
  const purpose = opts.purpose ?? 'message';
  if (input.channel === 'sms' && input.subject !== undefined)
    throw problems.badRequest('An SMS has no subject.', [{ path: 'body.subject', message: 'not allowed for sms' }]);
  if ((input.templateId === undefined) === (input.body === undefined))
    throw problems.badRequest('Give either a templateId or a body.', [{ path: 'body', message: 'exactly one of templateId and body' }]);
  if (input.channel === 'email' && input.body !== undefined && input.subject === undefined)
    throw problems.badRequest('An email needs a subject.', [{ path: 'body.subject', message: 'required for email' }]);
  if (input.channel === 'sms' && input.body !== undefined) checkSmsLength(input.body);
  if ((opts.checkPreferences ?? true) && !(await deps.preferences.allows(caller.tenantId, input.patientId, input.channel)))
    throw optedOut(input.channel);

  const contact = await deps.records.contact(caller.tenantId, input.patientId);
  if (!contact) throw problems.notFound('No such patient.');
  const to = destinationOf(contact, input.channel);

  let subject = input.subject;
  let body = input.body;
  if (input.templateId !== undefined) {
    const rendered = await deps.records.render(caller.tenantId, input.templateId, input.patientId, input.variables);
    if (rendered === 'no-template') throw problems.notFound('No such template.');
    if (rendered === 'no-patient') throw problems.notFound('No such patient.');
    if (rendered.channel !== input.channel)
      throw problems.badRequest(`That template is for ${rendered.channel}, not ${input.channel}.`, [
        { path: 'body.templateId', message: `a ${rendered.channel} template` },
      ]);
    subject = rendered.subject ?? subject;
    body = rendered.body;
    if (input.channel === 'email' && subject === undefined)
      throw problems.badRequest('The template has no subject; give one.', [{ path: 'body.subject', message: 'required for email' }]);
  }
  const size = input.channel === 'sms' ? checkSmsLength(body!, input.templateId ? 'body.templateId' : 'body.body') : undefined;

  const id = opts.id ?? newMessageId();
  const credits = size?.segments ?? 0;
  const hold = credits ? await deps.credits.reserve(caller.tenantId, id, credits, caller.actor.id) : undefined;
  const queued = makeEvent({
    type: 'messaging.message.queued',
    tenantId: caller.tenantId,
    actor: caller.actor,
    subject: { patientId: input.patientId },
    data: { messageId: id, patientId: input.patientId, channel: input.channel, ...(opts.batchId ? { batchId: opts.batchId } : {}) },
  });
  try {
    // Too late to store it: the sweep may already count this reservation as abandoned.
    if (hold?.expired()) throw problems.unavailable('Queuing the message took too long; nothing was sent. Try again.');
    await deps.messages.create(
      caller.tenantId,
      id,
      {
        patientId: input.patientId,
        channel: input.channel,
        purpose,
        credits,
        segments: size?.segments ?? 0,
        ...(size ? { encoding: size.encoding } : {}),
        ...(input.templateId ? { templateId: input.templateId } : {}),
        ...(opts.batchId ? { batchId: opts.batchId } : {}),
        ...(opts.directMessageId ? { directMessageId: opts.directMessageId } : {}),
        createdBy: caller.actor.id,
      },
      { to, body: body!, ...(subject !== undefined ? { subject } : {}) },
      [queued],
    );
  } catch (err) {
    if (credits) await deps.credits.refund(caller.tenantId, id);
    throw err;
  }
  deps.events.written();
  return { id, status: 'queued' };
}

/**
 * A message that is not sent at all (a batch patient who opted out, has no contact or no
 * credit left): stored as `blocked` or `failed` with its reason and event, so the batch's
 * outcome is complete. Nothing about the patient is stored but the id.
 */
export async function recordUnsent(
  deps: MessageDeps,
  caller: Caller,
  input: { patientId: string; channel: Channel; templateId?: string },
  id: string,
  status: 'blocked' | 'failed',
  reason: string,
  batchId?: string,
): Promise<void> {
  const base = { tenantId: caller.tenantId, actor: caller.actor, subject: { patientId: input.patientId } };
  const event =
    status === 'blocked'
      ? makeEvent({ ...base, type: 'messaging.message.blocked', data: { messageId: id, channel: input.channel, reason } })
      : makeEvent({ ...base, type: 'messaging.message.failed', data: { messageId: id, channel: input.channel, attempts: 0 } });
  await deps.messages.create(
    caller.tenantId,
    id,
    {
      patientId: input.patientId,
      channel: input.channel,
      purpose: 'message',
      status,
      reason,
      credits: 0,
      segments: 0,
      ...(input.templateId ? { templateId: input.templateId } : {}),
      ...(batchId ? { batchId } : {}),
      createdBy: caller.actor.id,
    },
    { to: '', body: '' },
    [event],
  );
  deps.events.written();
}

export async function getMessage(deps: MessageDeps, caller: Caller, id: string): Promise<Message> {
  const doc = await deps.messages.find(caller.tenantId, id);
  if (!doc || doc.purpose !== 'message') throw problems.notFound('No such message.');
  return toMessage(doc);
}

export async function listMessages(
  deps: MessageDeps,
  caller: Caller,
  q: { patientId: string; limit: number; cursor?: string },
): Promise<Page<Message>> {
  const after = decodeCursor(q.cursor);
  const rows = await deps.messages.listForPatient(caller.tenantId, q.patientId, { ...(after ? { after } : {}), limit: q.limit + 1 });
  return pageOf(rows.map(toMessage), q.limit, (m) => m.id);
}
