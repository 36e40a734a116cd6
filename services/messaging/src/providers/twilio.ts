// Twilio Programmable Messaging, as documented: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
// (form-encoded To, From, Body, StatusCallback; HTTP Basic with the Account SID and auth
// token) answers 201 with the message resource (`sid`). Status callbacks are form posts
// (MessageSid, MessageStatus, …) signed in `X-Twilio-Signature`: base64 HMAC-SHA1, keyed
// with the auth token, of the full callback URL followed by every POST parameter name and
// value, sorted by name. The idempotency key goes in `I-Twilio-Idempotency-Token`.
import { constantTimeEqual } from '@praxis/platform';
import { createHmac } from 'node:crypto';
import {
  type DeliveryReceipt,
  type OutgoingSms,
  ProviderError,
  type ReceiptRequest,
  type SmsProvider,
  providerFetch,
} from './sms-provider';

export interface TwilioOptions {
  apiUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  timeoutMs: number;
  /** Where Twilio posts status callbacks (our receipt webhook, as Twilio will call it). */
  statusCallback: string;
}

export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

const delivered = new Set(['delivered', 'read']);
const failed = new Set(['failed', 'undelivered', 'canceled']);

export class TwilioProvider implements SmsProvider {
  readonly name = 'twilio' as const;

  constructor(private readonly o: TwilioOptions) {}

  async send(sms: OutgoingSms): Promise<{ providerMessageId: string }> {
    const url = `${this.o.apiUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${this.o.accountSid}/Messages.json`;
    const res = await providerFetch(
      'twilio',
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${this.o.accountSid}:${this.o.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'I-Twilio-Idempotency-Token': sms.idempotencyKey,
        },
        body: new URLSearchParams({ To: sms.to, From: this.o.from, Body: sms.body, StatusCallback: this.o.statusCallback }).toString(),
      },
      this.o.timeoutMs,
    );
    const body = (await res.json().catch(() => ({}))) as { sid?: string; code?: number; message?: string };
    if (res.status === 201 || res.status === 200) {
      if (typeof body.sid !== 'string') throw new ProviderError('twilio', 'answered without a message sid', true);
      return { providerMessageId: body.sid };
    }
    // 429 and 5xx are the provider's trouble (try again or elsewhere); other 4xx are the message's.
    throw new ProviderError(
      'twilio',
      `HTTP ${res.status}${body.code ? ` (error ${body.code})` : ''}`,
      res.status === 429 || res.status >= 500,
    );
  }

  verifyReceipt(req: ReceiptRequest): DeliveryReceipt | null {
    const given = req.headers['x-twilio-signature'];
    if (typeof given !== 'string' || !given) return null;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.params)) {
      if (typeof v !== 'string') return null;
      params[k] = v;
    }
    if (!constantTimeEqual(given, twilioSignature(this.o.authToken, req.url, params))) return null;
    if (params.AccountSid !== undefined && params.AccountSid !== this.o.accountSid) return null;
    const sid = params.MessageSid ?? params.SmsSid;
    const status = params.MessageStatus ?? params.SmsStatus;
    if (!sid || !status) return null;
    return { providerMessageId: sid, status: delivered.has(status) ? 'delivered' : failed.has(status) ? 'failed' : 'pending' };
  }
}
