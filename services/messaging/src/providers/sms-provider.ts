// What every SMS adapter offers: send one text (with an idempotency key, so a repeated
// call after a crash or a lost answer is recognised by the provider) and check a
// delivery receipt posted back to us in the provider's own signed format.

export type SmsProviderName = 'twilio' | 'vonage';
export const smsProviderNames: readonly SmsProviderName[] = ['twilio', 'vonage'];

export interface OutgoingSms {
  to: string;
  body: string;
  encoding: 'GSM-7' | 'UCS-2';
  /** Stable for one message: the provider must not send the same key twice. */
  idempotencyKey: string;
}

export interface DeliveryReceipt {
  providerMessageId: string;
  status: 'delivered' | 'failed' | 'pending';
}

export interface ReceiptRequest {
  /** The full URL the provider posted to, as it saw it (signatures cover it). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed form or JSON body, or the query for GET receipts. */
  params: Record<string, unknown>;
}

export interface SmsProvider {
  readonly name: SmsProviderName;
  send(sms: OutgoingSms): Promise<{ providerMessageId: string }>;
  /** The receipt, or null when its signature does not verify (→ 401). */
  verifyReceipt(req: ReceiptRequest): DeliveryReceipt | null;
}

/**
 * A provider refused or did not answer. `retryable`: worth trying again or elsewhere
 * (5xx, timeouts, throttling); otherwise the message itself is bad (an invalid number).
 */
export class ProviderError extends Error {
  constructor(
    readonly provider: SmsProviderName,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ProviderError';
  }
}

/** fetch with a deadline; a timeout or a refused connection is a retryable ProviderError. */
export async function providerFetch(provider: SmsProviderName, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
    throw new ProviderError(provider, timedOut ? `no answer within ${timeoutMs} ms` : 'connection failed', true);
  }
}
