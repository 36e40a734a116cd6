// The delivery worker: consumes `messaging.message.queued` from its durable queue
// (`messaging.deliveries`, fed by the outbox relay) and sends the message. Sending is a
// small state machine on the message document — queued → sending → sent, or failed /
// blocked — changed by compare-and-set, so a redelivered event (a crash, a relay
// re-publish) finds the message where the last run left it:
// - `sending` after a crash: the same provider is asked again with the same idempotency
//   key, and answers with the text it already took instead of sending it again;
// - sent, failed or blocked: nothing to do.
// At send time the patient's preference is checked again (it may have changed since the
// message was queued), a cancelled batch's messages are blocked, and an erased patient's
// messages are dropped (their key is gone). Failed and blocked texts get their credits back.
import type { EventEnvelope } from '@praxis/contracts';
import { type Logger, type Metrics, makeEvent } from '@praxis/platform';
import { systemActor } from '../common/caller';
import type { Events } from '../common/events';
import type { Credits } from '../credits/use-cases';
import { KeyDestroyedError } from '../keys/key-service';
import type { PreferenceRepository } from '../preferences/model';
import type { EmailSender } from '../providers/email';
import { ProviderError, type SmsProviderName } from '../providers/sms-provider';
import { AllProvidersFailedError, type SmsRouter } from '../providers/sms-router';
import { type MessageDoc, type MessageRepository, finalStatuses } from './model';

export interface DeliveryDeps {
  messages: MessageRepository;
  preferences: PreferenceRepository;
  credits: Credits;
  events: Events;
  email: Pick<EmailSender, 'send'>;
  sms: SmsRouter;
  /** Whether a batch was cancelled (its queued messages are blocked). */
  batchCancelled: (tenantId: string, batchId: string) => Promise<boolean>;
  logger: Logger;
  metrics?: Metrics;
}

export const receiptUrl = (base: string, provider: SmsProviderName) => `${base.replace(/\/$/, '')}/api/v1/webhooks/sms/${provider}`;

function sentEvent(doc: MessageDoc, provider: string, attempts: number): EventEnvelope {
  return makeEvent({
    type: 'messaging.message.sent',
    tenantId: doc.tenantId,
    actor: systemActor,
    subject: { patientId: doc.patientId },
    data: { messageId: doc._id, channel: doc.channel, provider, attempts },
  });
}

function failedEvent(doc: MessageDoc, attempts: number, provider?: string): EventEnvelope {
  return makeEvent({
    type: 'messaging.message.failed',
    tenantId: doc.tenantId,
    actor: systemActor,
    subject: { patientId: doc.patientId },
    data: { messageId: doc._id, channel: doc.channel, attempts, ...(provider ? { provider } : {}) },
  });
}

function blockedEvent(doc: MessageDoc, reason: string): EventEnvelope {
  return makeEvent({
    type: 'messaging.message.blocked',
    tenantId: doc.tenantId,
    actor: systemActor,
    subject: { patientId: doc.patientId },
    data: { messageId: doc._id, channel: doc.channel, reason },
  });
}

function htmlOf(body: string, fromTemplate: boolean): { html: string; text: string } {
  if (fromTemplate) return { html: body, text: body.replace(/<[^>]*>/g, '') };
  const esc = body.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return { html: `<div style="font-family:sans-serif;white-space:pre-wrap">${esc}</div>`, text: body };
}

/**
 * Deliver one message. `finalAttempt`: the bus will not redeliver after this one, so a
 * provider outage marks the message failed instead of asking for a retry.
 */
export async function deliverMessage(deps: DeliveryDeps, messageId: string, finalAttempt: boolean): Promise<void> {
  const doc = await deps.messages.findForDelivery(messageId);
  if (!doc) return; // not ours (another deployment on the broker), or erased meanwhile
  if (finalStatuses.includes(doc.status)) return;

  const block = async (reason: string) => {
    if (
      await deps.messages.transition(doc.tenantId, doc._id, ['queued', 'sending'], { status: 'blocked', reason, failedAt: new Date() }, [
        blockedEvent(doc, reason),
      ])
    ) {
      if (doc.credits) await deps.credits.refund(doc.tenantId, doc._id);
      deps.events.written();
    }
  };
  const fail = async (reason: string, attempts: number, provider?: string) => {
    if (
      await deps.messages.transition(doc.tenantId, doc._id, ['queued', 'sending'], { status: 'failed', reason, failedAt: new Date() }, [
        failedEvent(doc, attempts, provider),
      ])
    ) {
      if (doc.credits) await deps.credits.refund(doc.tenantId, doc._id);
      deps.events.written();
      deps.metrics?.counter('messages_failed_total', 'Messages that could not be sent', ['channel']).inc({ channel: doc.channel });
    }
  };

  if (doc.batchId && (await deps.batchCancelled(doc.tenantId, doc.batchId))) return block('cancelled');
  if (doc.purpose === 'message' && !(await deps.preferences.allows(doc.tenantId, doc.patientId, doc.channel))) return block('opted-out');
  let content;
  try {
    content = await deps.messages.content(doc);
  } catch (err) {
    if (err instanceof KeyDestroyedError) return block('erased');
    throw err;
  }

  let attempts = doc.attempts;
  const markAttempt = async (provider: string) => {
    attempts++;
    await deps.messages.transition(doc.tenantId, doc._id, ['queued', 'sending'], { status: 'sending', attempts }, [], { tried: provider });
  };

  if (doc.channel === 'email') {
    let sent;
    try {
      await markAttempt('smtp');
      sent = await deps.email.send({
        to: content.to,
        subject: content.subject ?? '',
        ...htmlOf(content.body, doc.templateId !== undefined || doc.purpose !== 'message'),
        messageId: `<${doc._id}@praxis.messaging>`,
      });
    } catch (err) {
      deps.logger.warn({ messageId: doc._id, err: (err as Error).message, attempts }, 'email not accepted');
      if (finalAttempt || attempts >= 5) return fail('smtp-refused', attempts, 'smtp');
      throw err;
    }
    await deps.messages.transition(
      doc.tenantId,
      doc._id,
      ['sending'],
      { status: 'sent', provider: 'smtp', providerMessageId: sent.providerMessageId, sentAt: new Date() },
      [sentEvent(doc, 'smtp', attempts)],
    );
    deps.events.written();
    deps.metrics
      ?.counter('messages_sent_total', 'Messages accepted by a provider', ['channel', 'provider'])
      .inc({ channel: 'email', provider: 'smtp' });
    return;
  }

  let result;
  try {
    result = await deps.sms.send(
      { to: content.to, body: content.body, encoding: doc.encoding ?? 'GSM-7', idempotencyKey: doc._id },
      {
        ...(doc.tried.length ? { lastTried: doc.tried[doc.tried.length - 1] as SmsProviderName } : {}),
        beforeAttempt: markAttempt,
      },
    );
  } catch (err) {
    if (err instanceof ProviderError && !err.retryable) return fail('provider-refused', attempts, err.provider);
    if (err instanceof AllProvidersFailedError) {
      deps.logger.warn({ messageId: doc._id, attempts, tried: err.tried }, 'no SMS provider took the message');
      if (finalAttempt) return fail('providers-unavailable', attempts);
    }
    throw err;
  }
  await deps.messages.recordProviderRef(doc.tenantId, result.provider, result.providerMessageId, doc._id);
  await deps.messages.transition(
    doc.tenantId,
    doc._id,
    ['sending'],
    { status: 'sent', provider: result.provider, providerMessageId: result.providerMessageId, sentAt: new Date() },
    [sentEvent(doc, result.provider, attempts)],
  );
  await deps.credits.spend(doc.tenantId, doc._id, doc.credits);
  deps.events.written();
  deps.metrics
    ?.counter('messages_sent_total', 'Messages accepted by a provider', ['channel', 'provider'])
    .inc({ channel: 'sms', provider: result.provider });
}
