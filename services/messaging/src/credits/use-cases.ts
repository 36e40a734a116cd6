// SMS credits: buy (admins), read the balance (staff), and — for the message use-cases —
// reserve a text's parts when it is queued, record the spend when a provider takes it and
// refund the reservation when it fails or is blocked. Serialised per practice within the
// process (fewer lost compare-and-set rounds); correct across processes by the ledger's
// unique sequence numbers (credits/model.ts).
//
// A reservation and its message are two writes. A process that dies between them leaves a
// reservation without a message: `refundAbandoned` (a periodic sweep) gives those back once
// they are older than the hold, and a request that took half the hold to get from its
// reservation to its message's insert gives its own back and answers 503 instead of
// storing the message, so the sweep never refunds a text that is then sent
// (docs/messaging.md, "SMS credits").
import { KeyedSerialiser, type Logger, makeEvent, problems, randomId } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { LedgerRepository, SweepMarks } from './model';

/** A reservation just made: whether it is still safe to store its message. */
export interface Hold {
  expired(): boolean;
}

const SWEEP = 'abandoned-reservations';
const SWEEP_PAGE = 500;

export class Credits {
  private readonly serial = new KeyedSerialiser();

  constructor(
    readonly ledger: LedgerRepository,
    private readonly marks?: SweepMarks,
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
    const until = r.entry.at.getTime() + this.holdMs / 2;
    return { expired: () => Date.now() > until };
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

  /**
   * The sweep: refund every reservation made before `now - holdMs` whose message was never
   * stored and which was neither spent nor refunded (a message erased before it was sent
   * is refunded here too). Safe in several replicas at once: a refund is recorded once.
   * Returns how many it refunded.
   */
  async refundAbandoned(
    stored: (messageIds: string[]) => Promise<Set<string>>,
    logger: Pick<Logger, 'warn'>,
    now = new Date(),
  ): Promise<number> {
    if (!this.marks) throw new Error('the sweep needs its marks');
    const upTo = new Date(now.getTime() - this.holdMs);
    let after = (await this.marks.get(SWEEP)) ?? new Date(0);
    let refunded = 0;
    while (after < upTo) {
      const page = await this.ledger.reservationsBetween(after, upTo, SWEEP_PAGE);
      if (!page.length) break;
      const found = await stored(page.map((r) => r.ref));
      for (const r of page) {
        if (found.has(r.ref)) continue;
        if (await this.ledger.findByRef(r.tenantId, 'spend', r.ref)) continue;
        if (await this.ledger.findByRef(r.tenantId, 'refund', r.ref)) continue;
        await this.refund(r.tenantId, r.ref);
        refunded++;
        logger.warn({ tenantId: r.tenantId, messageId: r.ref }, 'refunded a reservation whose message was never stored');
      }
      after = page.at(-1)!.at;
      await this.marks.advance(SWEEP, after);
      if (page.length < SWEEP_PAGE) break;
    }
    return refunded;
  }
}
