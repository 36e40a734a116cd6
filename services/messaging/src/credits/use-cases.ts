// SMS credits: buy (admins), read the balance (staff), and — for the message use-cases —
// reserve a text's parts when it is queued, record the spend when a provider takes it and
// refund the reservation when it fails or is blocked. Serialised per practice within the
// process (fewer lost compare-and-set rounds); correct across processes by the ledger's
// unique sequence numbers (credits/model.ts).
import { KeyedSerialiser, makeEvent, problems, randomId } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { LedgerRepository } from './model';

export class Credits {
  private readonly serial = new KeyedSerialiser();

  constructor(readonly ledger: LedgerRepository) {}

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

  /** Reserve `parts` credits for a message; 402 when the balance does not cover them. */
  async reserve(tenantId: string, messageId: string, parts: number, actor: string): Promise<void> {
    const r = await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'reservation', messageId, -parts, actor));
    if (!r.ok) throw problems.paymentRequired(`Not enough SMS credit: this text needs ${parts}, the practice has ${r.balance}.`);
  }

  /** The provider took the text: the reservation becomes a spend (no change of balance). */
  async spend(tenantId: string, messageId: string, parts: number): Promise<void> {
    await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'spend', messageId, 0, `spent:${parts}`));
  }

  /** The text was not sent: give the reserved credits back (once). */
  async refund(tenantId: string, messageId: string): Promise<void> {
    const reserved = await this.ledger.findByRef(tenantId, 'reservation', messageId);
    if (!reserved) return;
    await this.serial.run(tenantId, () => this.ledger.append(tenantId, 'refund', messageId, -reserved.delta, 'system'));
  }
}
