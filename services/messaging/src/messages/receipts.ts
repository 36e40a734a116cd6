// Delivery receipts: `POST /webhooks/sms/:provider`, public (the provider calls it) but
// signed in the provider's own way (X-Twilio-Signature, Vonage `sig`); an unsigned or
// forged receipt is 401 and changes nothing. A verified one moves a sent text to
// delivered or failed (compare-and-set: a repeated receipt changes nothing again).
import { type ApiRouter, makeEvent, problems } from '@praxis/platform';
import type { Request } from 'express';
import { z } from 'zod';
import { systemActor } from '../common/caller';
import type { Events } from '../common/events';
import { type SmsProviderName, smsProviderNames } from '../providers/sms-provider';
import type { SmsRouter } from '../providers/sms-router';
import type { MessageRepository } from './model';
import { receiptUrl } from './delivery';

export interface ReceiptDeps {
  messages: MessageRepository;
  sms: SmsRouter;
  events: Events;
  /** The public base URL providers call (their signatures cover the full URL). */
  webhookBaseUrl: string;
}

export async function acceptReceipt(deps: ReceiptDeps, providerName: string, req: Request, params: Record<string, unknown>): Promise<void> {
  if (!smsProviderNames.includes(providerName as SmsProviderName)) throw problems.notFound('No such provider.');
  const name = providerName as SmsProviderName;
  const provider = deps.sms.provider(name);
  if (!provider) throw problems.notFound('No such provider.');
  const receipt = provider.verifyReceipt({ url: receiptUrl(deps.webhookBaseUrl, name), headers: req.headers, params });
  if (!receipt) throw problems.unauthenticated('The receipt is not signed by the provider.');
  if (receipt.status === 'pending') return;
  // A receipt can arrive before the worker has stored the provider's id for the message
  // (the provider answered, the worker's write is still on its way): look again for a while.
  let ref = await deps.messages.byProviderRef(name, receipt.providerMessageId);
  for (let i = 0; !ref && i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    ref = await deps.messages.byProviderRef(name, receipt.providerMessageId);
  }
  if (!ref) return;
  const doc = await deps.messages.find(ref.tenantId, ref.messageId);
  if (!doc) return;
  const base = { tenantId: doc.tenantId, actor: systemActor, subject: { patientId: doc.patientId } };
  // A fast receipt can overtake the worker's own "sent" write (the provider answered, the
  // worker has not stored it yet): then the receipt records the send as well.
  const overtaken = doc.status === 'sending';
  const sentFields = overtaken ? { provider: name, providerMessageId: receipt.providerMessageId, sentAt: new Date() } : {};
  const sentEvent = overtaken
    ? [
        makeEvent({
          ...base,
          type: 'messaging.message.sent',
          data: { messageId: doc._id, channel: doc.channel, provider: name, attempts: doc.attempts },
        }),
      ]
    : [];
  if (receipt.status === 'delivered') {
    await deps.messages.transition(
      doc.tenantId,
      doc._id,
      ['sending', 'sent'],
      { ...sentFields, status: 'delivered', deliveredAt: new Date() },
      [
        ...sentEvent,
        makeEvent({ ...base, type: 'messaging.message.delivered', data: { messageId: doc._id, channel: doc.channel, provider: name } }),
      ],
    );
  } else {
    await deps.messages.transition(
      doc.tenantId,
      doc._id,
      ['sending', 'sent'],
      { ...sentFields, status: 'failed', reason: 'undelivered', failedAt: new Date() },
      [
        ...sentEvent,
        makeEvent({
          ...base,
          type: 'messaging.message.failed',
          data: { messageId: doc._id, channel: doc.channel, attempts: doc.attempts, provider: name },
        }),
      ],
    );
  }
  deps.events.written();
}

export function receiptRoutes(api: ApiRouter, deps: ReceiptDeps): void {
  api.route(
    {
      method: 'post',
      path: '/webhooks/sms/:provider',
      summary:
        "An SMS provider's delivery receipt, in its own format (Twilio status callback or Vonage DLR), signed; unsigned or forged → 401",
      tags: ['webhooks'],
      auth: 'public',
      params: z.strictObject({
        provider: z
          .string()
          .min(1)
          .max(20)
          .regex(/^[a-z]+$/),
      }),
      // The provider's own fields: checked by its signature, not by a schema of ours.
      body: z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean()])),
      status: 204,
      errors: { 401: 'Unsigned or forged receipt', 404: 'No such provider' },
    },
    async ({ params, body, req }) => {
      await acceptReceipt(deps, params.provider, req, Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])));
    },
  );
}
