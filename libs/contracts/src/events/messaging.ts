// Events published by the messaging service.
import { z } from 'zod';
import { code, count, defineEvent, id } from './envelope';

const channel = z.enum(['sms', 'email']);

export const messagingEvents = [
  defineEvent(
    'messaging.message.queued',
    1,
    z.strictObject({ messageId: id, patientId: id, channel }),
    'A message to a patient was queued.',
  ),
  defineEvent(
    'messaging.message.sent',
    1,
    z.strictObject({ messageId: id, channel, provider: code, attempts: count }),
    'A provider accepted a message.',
  ),
  defineEvent(
    'messaging.message.failed',
    1,
    z.strictObject({ messageId: id, channel, attempts: count }),
    'Every provider refused a message.',
  ),
  defineEvent(
    'messaging.message.blocked',
    1,
    z.strictObject({ messageId: id, channel, reason: code }),
    'A message was not sent because of the patient’s preferences.',
  ),
  defineEvent(
    'messaging.direct-message.created',
    1,
    z.strictObject({ directMessageId: id, patientId: id }),
    'A direct message was created.',
  ),
  defineEvent(
    'messaging.direct-message.unlocked',
    1,
    z.strictObject({ directMessageId: id }),
    'A patient unlocked a direct message with its code.',
  ),
  defineEvent(
    'messaging.direct-message.locked',
    1,
    z.strictObject({ directMessageId: id }),
    'A direct message locked after repeated wrong codes.',
  ),
  defineEvent('messaging.sms-credit.purchased', 1, z.strictObject({ quantity: count, balance: count }), 'SMS credits were bought.'),
] as const;
