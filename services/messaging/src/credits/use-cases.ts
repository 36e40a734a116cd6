// SMS credits: buy (admins), read the balance (staff), and — for the message use-cases —
// reserve a text's parts when it is queued, record the spend when a provider takes it and
// refund the reservation when it fails or is blocked. Serialised per practice within the
// process (fewer lost compare-and-set rounds); correct across processes by the ledger's
// unique sequence numbers (credits/model.ts).
//
// A reservation and its message are two writes. A process that dies between them leaves a
// reservation without a message: the sweep (credits/sweep.ts) gives those back once they
// are older than the hold, and a request that took half the hold to get from its
// reservation to its message's insert gives its own back and answers 503 instead of
// storing the message, so the sweep never refunds a text that is then sent
// (docs/messaging.md, "SMS credits").
import { KeyedSerialiser, makeEvent, problems, randomId } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { LedgerRepository } from './model';

/** A reservation just made: whether it is still safe to store its message. */
export interface Hold {
  expired(): boolean;
}

export class Credits {
  private readonly serial = new KeyedSerialiser();

  constructor(
    readonly ledger: LedgerRepository,
    /** A reservation still without its message after this long is refunded by the sweep. */
    readonly holdMs = 600_000,
  ) {}

  balance(tenantId: string): Promise<number> {
    return this.ledger.balance(tenantId);
  }

  /** Buy credits; the purchase event rides in the ledger entry's outbox. */
  async purchase(caller: Caller, quantity: number): Promise<number> {
    const purchaseId = randomId('pur');
    const r = await this.serial.run(caller.tenantId, () =>
      this.ledger.append(caller.tenantId, 'purchase', purchaseId, quantity, caller.actor.id, (e) => [
        makeEvent({
          type: 'messaging.sms-credit.purchased',
          tenantId: caller.tenantId,
          actor: caller.actor,
          data: { quantity, balance: e.balance },
        }),
      ]),
    );
    if (!r.ok) throw new Error('a purchase cannot lower the balance');
    return r.entry.balance;
  }

  /**
   * Reserve `parts` credits for a message; 402 when the balance does not cover them. The
   * message must be stored before the hold expires (half the sweep's hold).
   */
  async reserve(tenantId: string, messageId: string, parts: number, actor: string): Promise<Hold> {
    const r = await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'reservation', messageId, -parts, actor));
    if (!r.ok) throw problems.paymentRequired(`Not enough SMS credit: this text needs ${parts}, the practice has ${r.balance}.`);
    // From now, not from the entry's time: a batch expanded again after a crash finds its
    // message's earlier reservation (repeated) and may store the message now.
    const until = Date.now() + this.holdMs / 2;
    return { expired: () => Date.now() > until };
  }

  /** The provider took the text: the reservation becomes a spend (no change of balance). */
  async spend(tenantId: string, messageId: string, parts: number): Promise<void> {
    await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'spend', messageId, 0, `spent:${parts}`));
  }

  /** The text was not sent: give the reserved credits back (once). Whether this call recorded the refund. */
  async refund(tenantId: string, messageId: string): Promise<boolean> {
    const reserved = await this.ledger.findByRef(tenantId, 'reservation', messageId);
    if (!reserved) return false;
    const r = await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'refund', messageId, -reserved.delta, 'system'));
    return r.ok && !r.repeated;
  }
}
