// When checkpoints are signed: at every seq that is a multiple of N (by the writer that
// appended it, while the entry is in hand), and every T milliseconds for each tenant whose
// log moved past its last checkpoint (catching the tail, and anything a crash skipped).
// Before signing a head on the timer, the entries since the last checkpoint are checked
// to chain onto it, so a checkpoint never blesses a tail that does not link up: from
// memory when this process appended that whole tail itself (it built every entry and
// keeps the run's end), otherwise by reading the tail back from the database.
import type { Logger, Metrics } from '@praxis/platform';
import { type ChainEntry, GENESIS_HASH, chainEntryHash } from '../log/chain';
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

/**
 * A run of entries this process appended, each chained onto the one before (it built
 * them), starting right after a point whose hash it knows (a checkpoint it stored, or the
 * genesis).
 */
interface Run {
  from: { seq: number; hash: string };
  to: { seq: number; hash: string };
}

export class Checkpointer {
  private readonly dirty = new Set<string>();
  private readonly runs = new Map<string, Run>();
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
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (!first || !last) return;
    this.dirty.add(tenantId);
    // Extend this process's run if the entries follow on from it; otherwise (another
    // replica appended in between, or this process just started) a new run begins after
    // the entry these chain onto. It is only trusted from a point whose hash is signed
    // (a checkpoint) or the genesis: see runCovers().
    const run = this.runs.get(tenantId);
    if (run && run.to.seq + 1 === first.seq && run.to.hash === first.prevHash) run.to = { seq: last.seq, hash: last.hash };
    else this.runs.set(tenantId, { from: { seq: first.seq - 1, hash: first.prevHash }, to: { seq: last.seq, hash: last.hash } });
    for (const e of entries) {
      if (e.seq % this.opts.every === 0) await this.store(tenantId, { tenantId, seq: e.seq, hash: e.hash });
    }
  }

  private async store(tenantId: string, head: { tenantId: string; seq: number; hash: string }): Promise<Checkpoint> {
    const cp = await this.checkpoints.save(tenantId, signCheckpoint(head, await this.keyring.current()));
    this.opts.metrics?.counter('audit_checkpoints_signed_total', 'Checkpoints signed').inc();
    // The stored checkpoint (ours, or an equal one another replica stored first) is a
    // known point: the run restarts there if it passes through it.
    const run = this.runs.get(tenantId);
    if (run && run.from.seq <= cp.seq && cp.seq <= run.to.seq) run.from = { seq: cp.seq, hash: cp.hash };
    return cp;
  }

  /**
   * Whether this process's run covers the log from `latest` (or the genesis) to `last`,
   * and the entry at `last` is stored as the run built it (its hash recomputed from what
   * is stored): then the tail chains onto the checkpoint without reading it back (one
   * lookup by _id instead of a range read, which FerretDB answers with a scan of the whole
   * collection). Entries inside the run are not re-read; if one was altered meanwhile, the
   * checkpoint still signs the hash audit computed, so the alteration shows against it.
   */
  private async runCovers(tenantId: string, latest: Checkpoint | undefined, last: { seq: number; hash: string }): Promise<boolean> {
    const run = this.runs.get(tenantId);
    const from = latest ? { seq: latest.seq, hash: latest.hash } : { seq: 0, hash: GENESIS_HASH };
    if (!run || run.from.seq !== from.seq || run.from.hash !== from.hash || run.to.seq !== last.seq || run.to.hash !== last.hash)
      return false;
    const stored = await this.log.fullEntryAt(tenantId, last.seq);
    return !!stored && stored.hash === last.hash && chainEntryHash(stored) === last.hash;
  }

  /**
   * Sign the tenant's current head if the last checkpoint is behind it and the entries in
   * between chain onto that checkpoint. Returns the latest checkpoint either way.
   */
  async signHead(tenantId: string): Promise<Checkpoint | undefined> {
    const latest = await this.checkpoints.latest(tenantId);
    const last = await this.log.lastEntry(tenantId);
    if (last.seq === 0 || (latest && latest.seq >= last.seq)) return latest;
    if (await this.runCovers(tenantId, latest, last)) {
      this.opts.metrics?.counter('audit_checkpoint_tail_reads_saved_total', 'Timer checkpoints signed from the appender’s own run').inc();
      return this.store(tenantId, { tenantId, seq: last.seq, hash: last.hash });
    }
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
