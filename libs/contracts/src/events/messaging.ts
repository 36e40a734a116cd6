// Events published by the messaging service. Ids, channels, statuses, providers and counts
// only: never message text, subjects, access codes, phone numbers or email addresses.
import { z } from 'zod';
import { code, count, defineEvent, id } from './envelope';

const channel = z.enum(['sms', 'email']);

export const messagingEvents = [
  defineEvent(
    'messaging.message.queued',
    1,
    z.strictObject({ messageId: id, patientId: id, channel, batchId: id.optional() }),
    'A message to a patient was queued.',
  ),
  defineEvent(
    'messaging.message.sent',
    1,
    z.strictObject({ messageId: id, channel, provider: code, attempts: count }),
    'A provider accepted a message.',
  ),
  defineEvent(
    'messaging.message.delivered',
    1,
    z.strictObject({ messageId: id, channel, provider: code }),
    'A provider reported the message delivered to the handset or mailbox.',
  ),
  defineEvent(
    'messaging.message.failed',
    1,
    z.strictObject({ messageId: id, channel, attempts: count, provider: code.optional() }),
    'Every provider refused a message (or reported it undeliverable).',
  ),
  defineEvent(
    'messaging.message.blocked',
    1,
    z.strictObject({ messageId: id, channel, reason: code }),
    'A message was not sent because of the patient’s preferences or erasure.',
  ),
  defineEvent(
    'messaging.direct-message.created',
    1,
    z.strictObject({ directMessageId: id, patientId: id }),
    'A direct message was created.',
  ),
  defineEvent(
    'messaging.direct-message.opened',
    1,
    z.strictObject({ directMessageId: id }),
    'Someone opened a direct message link (practice and subject only).',
  ),
  defineEvent(
    'messaging.direct-message.unlocked',
    1,
    z.strictObject({ directMessageId: id }),
    'A patient unlocked a direct message with its code.',
  ),
  defineEvent(
    'messaging.direct-message.unlock-failed',
    1,
    z.strictObject({ directMessageId: id, failures: count }),
    'A wrong access code was entered for a direct message.',
  ),
  defineEvent(
    'messaging.direct-message.locked',
    1,
    z.strictObject({ directMessageId: id }),
    'A direct message locked after repeated wrong codes.',
  ),
  defineEvent('messaging.sms-credit.purchased', 1, z.strictObject({ quantity: count, balance: count }), 'SMS credits were bought.'),
  defineEvent('messaging.batch.started', 1, z.strictObject({ batchId: id, channel, total: count }), 'A batch of messages was started.'),
  defineEvent('messaging.batch.cancelled', 1, z.strictObject({ batchId: id }), 'A practice cancelled a running batch.'),
  defineEvent(
    'messaging.batch.completed',
    1,
    z.strictObject({ batchId: id, sent: count, failed: count, blocked: count }),
    'Every message of a batch reached a final status.',
  ),
  defineEvent(
    'messaging.patient.exported',
    1,
    z.strictObject({ patientId: id, requestId: id.optional() }),
    'Messaging’s part of a subject access request was collated.',
  ),
  defineEvent(
    'messaging.patient.erased',
    1,
    z.strictObject({ erasureId: id, patientId: id, messages: count, directMessages: count }),
    'Messaging erased its part of a patient (crypto-shredded and deleted; counts only).',
  ),
] as const;
