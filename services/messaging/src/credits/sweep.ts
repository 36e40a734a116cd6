// The sweep for reservations a killed process left without their message (docs/messaging.md,
// "SMS credits"): every reservation older than the hold whose message was never stored and
// which was neither spent nor refunded is refunded. It reads reservations by time across
// practices from where the last sweep stopped (a mark the replicas share, only moving
// forward); several replicas sweeping at once refund a reservation once (the ledger's unique
// refund per message).
import type { Logger } from '@praxis/platform';
import type { SweepMarks } from './model';
import type { Credits } from './use-cases';

const MARK = 'abandoned-reservations';
const PAGE = 500;

export class AbandonedReservationSweep {
  constructor(
    private readonly credits: Credits,
    private readonly marks: SweepMarks,
    /** Which of these message ids are stored. */
    private readonly stored: (messageIds: string[]) => Promise<Set<string>>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** One pass up to `now - hold`; how many reservations this pass refunded. */
  async run(now = new Date()): Promise<number> {
    const { ledger, holdMs } = this.credits;
    const upTo = new Date(now.getTime() - holdMs);
    let after = (await this.marks.get(MARK)) ?? new Date(0);
    let refunded = 0;
    while (after < upTo) {
      const page = await ledger.reservationsBetween(after, upTo, PAGE);
      if (!page.length) break;
      const found = await this.stored(page.map((r) => r.ref));
      for (const r of page) {
        if (found.has(r.ref) || (await ledger.findByRef(r.tenantId, 'spend', r.ref))) continue;
        if (!(await this.credits.refund(r.tenantId, r.ref))) continue;
        refunded++;
        this.logger.warn({ tenantId: r.tenantId, messageId: r.ref }, 'refunded a reservation whose message was never stored');
      }
      after = page.at(-1)!.at;
      await this.marks.advance(MARK, after);
      if (page.length < PAGE) break;
    }
    return refunded;
  }
}
