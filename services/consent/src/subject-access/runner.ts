// The background work, resumed from what is stored (so a restarted consent carries on):
// collate pending subject access requests (each once at a time in this process), expire
// exports past their 7 days, and advance pending erasures (re-send, or fail past the
// deadline). One tick every RUNNER_INTERVAL_MS; a new request is collated at once.
import type { Logger } from '@praxis/platform';
import { advanceErasure, type ErasureDeps } from '../erasure/use-cases';
import type { SarDoc } from './model';
import { type SubjectAccessDeps, collate, expireRequest } from './use-cases';

export class SubjectRightsRunner {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly collating = new Map<string, Promise<void>>();
  private stopped = true;

  constructor(
    private readonly sar: SubjectAccessDeps,
    private readonly erasure: ErasureDeps,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.collating.values()]);
  }

  /** Collate one request now (unless this process is already collating it). */
  collate(r: SarDoc): void {
    if (this.stopped || this.collating.has(r._id)) return;
    const p = collate(this.sar, r)
      .catch((err: unknown) => this.logger.error({ err, requestId: r._id }, 'collation crashed; retried on the next tick'))
      .finally(() => this.collating.delete(r._id));
    this.collating.set(r._id, p);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.intervalMs);
      });
    }, delay);
  }

  async tick(): Promise<void> {
    try {
      for (const r of await this.sar.requests.allPending()) this.collate(r);
      for (const r of await this.sar.requests.expiredBy(new Date())) await expireRequest(this.sar, r);
      for (const e of await this.erasure.erasures.allPending()) await advanceErasure(this.erasure, e);
    } catch (err) {
      this.logger.error({ err }, 'subject-rights runner tick failed');
    }
  }
}
