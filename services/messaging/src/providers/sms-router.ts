// SMS with fail-over (docs/messaging.md, "Fail-over"): each provider sits behind its own
// circuit breaker (cockatiel). A provider's trouble — 5xx, throttling, no answer within
// SMS_TIMEOUT_MS — counts against it; after SMS_BREAKER_FAILURES in a row its circuit
// opens and texts go straight to the other provider without waiting on the broken one.
// After SMS_BREAKER_HALF_OPEN_MS one trial call goes through (half-open): success closes
// the circuit again. A message the provider refuses as such (a bad number) is not tried
// elsewhere: it would be refused there too.
//
// Idempotency: every attempt for one message carries the same key, so a provider that
// already accepted it (an answer lost to a crash) answers with the first message's id
// instead of sending again; a retry after a crash goes first to the provider last tried.
import type { Logger, Metrics } from '@praxis/platform';
import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { type OutgoingSms, ProviderError, type SmsProvider, type SmsProviderName } from './sms-provider';

export interface SmsRouterOptions {
  providers: SmsProvider[];
  primary: SmsProviderName;
  breakerFailures: number;
  halfOpenAfterMs: number;
  logger: Logger;
  metrics?: Metrics;
}

export interface SmsSendResult {
  provider: SmsProviderName;
  providerMessageId: string;
}

/** Every provider failed or was skipped with an open circuit: worth retrying later. */
export class AllProvidersFailedError extends Error {
  constructor(readonly tried: SmsProviderName[]) {
    super(`no SMS provider accepted the message (tried ${tried.join(', ') || 'none'})`);
    this.name = 'AllProvidersFailedError';
  }
}

export class SmsRouter {
  private readonly breakers = new Map<SmsProviderName, CircuitBreakerPolicy>();
  private readonly byName = new Map<SmsProviderName, SmsProvider>();

  constructor(private readonly o: SmsRouterOptions) {
    for (const p of o.providers) {
      this.byName.set(p.name, p);
      const breaker = circuitBreaker(
        handleWhen((err) => err instanceof ProviderError && err.retryable),
        { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerFailures) },
      );
      breaker.onStateChange((state) => {
        o.logger.warn({ provider: p.name, circuit: CircuitState[state] }, 'SMS provider circuit changed');
        o.metrics
          ?.gauge('sms_provider_circuit_open', 'Whether an SMS provider circuit is open (1) or closed/half-open (0)', ['provider'])
          .set({ provider: p.name }, state === CircuitState.Open ? 1 : 0);
      });
      this.breakers.set(p.name, breaker);
    }
  }

  /** Providers in the order to try: the one last tried for this message first, then the primary. */
  order(lastTried?: SmsProviderName): SmsProviderName[] {
    const names = [...this.byName.keys()];
    const first = lastTried ?? this.o.primary;
    return [first, ...names.filter((n) => n !== first)];
  }

  provider(name: SmsProviderName): SmsProvider | undefined {
    return this.byName.get(name);
  }

  circuit(name: SmsProviderName): 'closed' | 'open' | 'half-open' | 'isolated' {
    const s = this.breakers.get(name)?.state;
    return s === CircuitState.Open
      ? 'open'
      : s === CircuitState.HalfOpen
        ? 'half-open'
        : s === CircuitState.Isolated
          ? 'isolated'
          : 'closed';
  }

  /**
   * Send through the first provider that takes it. `beforeAttempt` runs (and must be
   * durable) before each provider is called, so a crash mid-call is retried there first.
   */
  async send(
    sms: OutgoingSms,
    opts: { lastTried?: SmsProviderName; beforeAttempt?: (provider: SmsProviderName) => Promise<void> } = {},
  ): Promise<SmsSendResult> {
    const tried: SmsProviderName[] = [];
    for (const name of this.order(opts.lastTried)) {
      const provider = this.byName.get(name)!;
      const breaker = this.breakers.get(name)!;
      try {
        const result = await breaker.execute(async () => {
          await opts.beforeAttempt?.(name);
          return provider.send(sms);
        });
        this.o.metrics?.counter('sms_sent_total', 'Texts accepted by a provider', ['provider']).inc({ provider: name });
        return { provider: name, providerMessageId: result.providerMessageId };
      } catch (err) {
        // An open circuit refuses at once (no call); past halfOpenAfter it lets one trial through.
        if (err instanceof BrokenCircuitError) continue;
        if (err instanceof ProviderError && err.retryable) {
          tried.push(name);
          this.o.metrics
            ?.counter('sms_provider_failures_total', 'Provider calls that failed (5xx, timeout, throttling)', ['provider'])
            .inc({ provider: name });
          this.o.logger.warn({ provider: name, err: err.message }, 'SMS provider failed; trying the next');
          continue;
        }
        throw err;
      }
    }
    throw new AllProvidersFailedError(tried);
  }
}
