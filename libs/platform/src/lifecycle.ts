// Ordered start-up and shutdown: each dependency registers how to close it; on SIGTERM
// or SIGINT they close in reverse order within a deadline, then the process exits.
import type { Logger } from './logger';

export class Lifecycle {
  private readonly closers: { name: string; close: () => Promise<unknown> | unknown }[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly logger: Logger) {}

  /** Register a dependency's close; closed in reverse order of registration. */
  onClose(name: string, close: () => Promise<unknown> | unknown): void {
    this.closers.push({ name, close });
  }

  stop(deadlineMs = 15_000): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = Date.now() + deadlineMs;
      for (const { name, close } of [...this.closers].reverse()) {
        const left = Math.max(100, deadline - Date.now());
        try {
          await Promise.race([
            Promise.resolve(close()),
            new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} did not close in time`)), left).unref()),
          ]);
          this.logger.info({ dependency: name }, 'closed');
        } catch (err) {
          this.logger.warn({ dependency: name, err }, 'close failed');
        }
      }
    })();
    return this.stopping;
  }

  /** Stop on SIGTERM/SIGINT and exit. */
  handleSignals(deadlineMs = 15_000): void {
    const onSignal = (signal: string) => {
      this.logger.info({ signal }, 'shutting down');
      this.stop(deadlineMs).finally(() => process.exit(0));
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  }
}
