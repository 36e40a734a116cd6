// A job that runs every `intervalMs` in the background of a service (purges, sweeps): never
// two runs at once in one process, a failed run is logged and the next one tries again, the
// timer does not keep the process alive, and `stop()` waits for a run in progress. Replicas
// each run their own: a job must be safe to run concurrently in several processes.
import type { Logger } from './logger';

export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
  }

  /** Run once now unless a run is already in progress (then wait for that one). */
  runNow(): Promise<void> {
    this.running ??= this.run()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message, task: this.name }, 'periodic task failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
