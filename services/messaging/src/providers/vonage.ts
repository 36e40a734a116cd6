// Vonage (Nexmo) SMS API, as documented: `POST /sms/json` with api_key, api_secret, from,
// to (international format without '+'), text, type (`text` or `unicode`), client-ref (our
// idempotency key) and callback; it answers 200 with `messages[]`, each with `status`
// ("0" is success; "1" throttled and "5" internal error are worth retrying) and
// `message-id`. Delivery receipts are signed: the parameters other than `sig`, sorted by
// name, joined as `&name=value` (with `&` and `=` in values replaced by `_`), then
// HMAC-SHA256 with the account's signature secret, hex; `timestamp` must be recent.
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

export interface VonageOptions {
  apiUrl: string;
  apiKey: string;
  apiSecret: string;
  signatureSecret: string;
  from: string;
  timeoutMs: number;
  /** Where Vonage posts delivery receipts. */
  statusCallback: string;
}

/** Receipts older (or newer) than this are refused, so a captured one cannot be replayed later. */
const MAX_SKEW_SECONDS = 300;

export function vonageSignature(secret: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .filter((k) => k !== 'sig')
    .sort()
    .map((k) => `&${k}=${params[k]!.replace(/[&=]/g, '_')}`)
    .join('');
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

const delivered = new Set(['delivered']);
const failed = new Set(['failed', 'expired', 'rejected']);

export class VonageProvider implements SmsProvider {
  readonly name = 'vonage' as const;

  constructor(private readonly o: VonageOptions) {}

  async send(sms: OutgoingSms): Promise<{ providerMessageId: string }> {
    const res = await providerFetch(
      'vonage',
      `${this.o.apiUrl.replace(/\/$/, '')}/sms/json`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          api_key: this.o.apiKey,
          api_secret: this.o.apiSecret,
          from: this.o.from,
          to: sms.to.replace(/^\+/, ''),
          text: sms.body,
          type: sms.encoding === 'UCS-2' ? 'unicode' : 'text',
          'client-ref': sms.idempotencyKey,
          callback: this.o.statusCallback,
        }),
      },
      this.o.timeoutMs,
    );
    if (res.status >= 500 || res.status === 429) {
      await res.arrayBuffer().catch(() => undefined);
      throw new ProviderError('vonage', `HTTP ${res.status}`, true);
    }
    const body = (await res.json().catch(() => ({}))) as { messages?: { status?: string; 'message-id'?: string; 'error-text'?: string }[] };
    const parts = body.messages ?? [];
    if (res.status !== 200 || !parts.length) throw new ProviderError('vonage', `HTTP ${res.status} without messages`, res.status >= 500);
    const bad = parts.find((p) => p.status !== '0');
    if (bad) throw new ProviderError('vonage', `status ${bad.status}`, bad.status === '1' || bad.status === '5');
    const id = parts[0]!['message-id'];
    if (!id) throw new ProviderError('vonage', 'answered without a message-id', true);
    return { providerMessageId: id };
  }

  verifyReceipt(req: ReceiptRequest): DeliveryReceipt | null {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.params)) {
      if (typeof v !== 'string') return null;
      params[k] = v;
    }
    const sig = params.sig;
    if (!sig || !params.timestamp) return null;
    if (!constantTimeEqual(sig.toLowerCase(), vonageSignature(this.o.signatureSecret, params))) return null;
    const ts = Number(params.timestamp);
    if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > MAX_SKEW_SECONDS) return null;
    if (params['api-key'] !== undefined && params['api-key'] !== this.o.apiKey) return null;
    const id = params.messageId;
    if (!id || !params.status) return null;
    return { providerMessageId: id, status: delivered.has(params.status) ? 'delivered' : failed.has(params.status) ? 'failed' : 'pending' };
  }
}
