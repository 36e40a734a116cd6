// When checkpoints are signed: at every seq that is a multiple of N (by the writer that
// appended it, while the entry is in hand), and every T milliseconds for each tenant whose
// log moved past its last checkpoint (catching the tail, and anything a crash skipped).
// Before signing a head on the timer, the entries since the last checkpoint are checked
// to chain onto it, so a checkpoint never blesses a tail that does not link up.
import type { Logger, Metrics } from '@praxis/platform';
import type { ChainEntry } from '../log/chain';
import { type AuditLogRepository, entryOf } from '../log/model';
import { ChainVerifier } from '../verify/chain-verifier';
import { type Checkpoint, signCheckpoint } from './checkpoint';
import type { CheckpointRepository } from './model';
import type { SigningKeyring } from './signing-keys';

export interface CheckpointerOptions {
  every: number;
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
}

export class Checkpointer {
  private readonly dirty = new Set<string>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(
    private readonly log: AuditLogRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly keyring: SigningKeyring,
    private readonly opts: CheckpointerOptions,
  ) {}

  /** Hook for the appender: sign the multiples of N just appended, remember the tenant for the timer. */
  async afterAppend(tenantId: string, entries: ChainEntry[]): Promise<void> {
    this.dirty.add(tenantId);
    for (const e of entries) {
      if (e.seq % this.opts.every === 0) await this.store(tenantId, { tenantId, seq: e.seq, hash: e.hash });
    }
  }

  private async store(tenantId: string, head: { tenantId: string; seq: number; hash: string }): Promise<Checkpoint> {
    const cp = await this.checkpoints.save(tenantId, signCheckpoint(head, await this.keyring.current()));
    this.opts.metrics?.counter('audit_checkpoints_signed_total', 'Checkpoints signed').inc();
    return cp;
  }

  /**
   * Sign the tenant's current head if the last checkpoint is behind it and the entries in
   * between chain onto that checkpoint. Returns the latest checkpoint either way.
   */
  async signHead(tenantId: string): Promise<Checkpoint | undefined> {
    const latest = await this.checkpoints.latest(tenantId);
    const last = await this.log.lastEntry(tenantId);
    if (last.seq === 0 || (latest && latest.seq >= last.seq)) return latest;
    const verifier = new ChainVerifier(new Map(), tenantId, latest ? { seq: latest.seq, hash: latest.hash } : undefined);
    let seq = latest?.seq ?? 0;
    let tail: ChainEntry | undefined;
    while (seq < last.seq && verifier.ok) {
      const batch = await this.log.entriesBetween(tenantId, seq, last.seq, 1000);
      if (!batch.length) break;
      for (const d of batch) {
        tail = entryOf(d);
        verifier.addEntry(tail);
      }
      seq = batch[batch.length - 1]!.seq;
    }
    const result = verifier.finish();
    if (!result.ok || !tail || tail.seq !== last.seq) {
      this.opts.logger.error({ tenantId, firstBroken: result.firstBroken }, 'audit chain does not verify; not signing its head');
      this.opts.metrics?.counter('audit_chain_broken_total', 'Times a chain failed verification before signing').inc();
      return latest;
    }
    return this.store(tenantId, { tenantId, seq: tail.seq, hash: tail.hash });
  }

  start(): void {
    if (this.timer) return;
    void this.log
      .tenantsWithHeads()
      .then((ids) => ids.forEach((id) => this.dirty.add(id)))
      .catch((err) => this.opts.logger.warn({ err }, 'could not list tenants for checkpoints'));
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    const tenants = [...this.dirty];
    this.dirty.clear();
    for (const tenantId of tenants) {
      try {
        await this.signHead(tenantId);
      } catch (err) {
        this.dirty.add(tenantId);
        this.opts.logger.warn({ err, tenantId }, 'checkpoint failed');
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}
