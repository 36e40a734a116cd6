// Password hashing (argon2id, OWASP minimum or stronger) behind a semaphore, and the
// password policy: at least 12 characters, at most 256, and not a common or guessable one.
import { problems } from '@praxis/platform';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { Semaphore, SemaphoreFullError } from './semaphore';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
/** zxcvbn score (0–4) a password needs: 3 is "safely unguessable" against online attacks. */
const MIN_SCORE = 3;

const zxcvbn = new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });

export interface PasswordHasherOptions {
  memoryKiB: number;
  timeCost: number;
  concurrency: number;
  queue: number;
  /** Called once per argon2id verification actually run. */
  onVerify?: () => void;
}

export class PasswordHasher {
  private readonly sem: Semaphore;
  private dummy?: Promise<string>;

  constructor(private readonly opts: PasswordHasherOptions) {
    this.sem = new Semaphore(opts.concurrency, opts.queue);
  }

  hash(password: string): Promise<string> {
    return this.guard(() =>
      argon2.hash(password, { type: argon2.argon2id, memoryCost: this.opts.memoryKiB, timeCost: this.opts.timeCost, parallelism: 1 }),
    );
  }

  /** Verify; with no hash (unknown account), verify against a dummy so the time is the same. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const target = hash ?? (await this.dummyHash());
    const ok = await this.guard(() => {
      this.opts.onVerify?.();
      return argon2.verify(target, password).catch(() => false);
    });
    return hash !== undefined && ok;
  }

  /** Whether a stored hash is weaker than today's parameters (rehash after a good login). */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, { memoryCost: this.opts.memoryKiB, timeCost: this.opts.timeCost, parallelism: 1 });
  }

  /** Made once, outside the semaphore (a full queue must not poison it); retried if it failed. */
  private dummyHash(): Promise<string> {
    this.dummy ??= argon2
      .hash(randomBytes(16).toString('base64url'), {
        type: argon2.argon2id,
        memoryCost: this.opts.memoryKiB,
        timeCost: this.opts.timeCost,
        parallelism: 1,
      })
      .catch((err: unknown) => {
        this.dummy = undefined;
        throw err;
      });
    return this.dummy;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.sem.run(fn);
    } catch (err) {
      if (err instanceof SemaphoreFullError) throw problems.unavailable('The service is busy; try again shortly.');
      throw err;
    }
  }
}

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordWeakness(password: string, userInputs: string[] = []): string | undefined {
  if ([...password].length < PASSWORD_MIN) return `at least ${PASSWORD_MIN} characters`;
  if ([...password].length > PASSWORD_MAX) return `at most ${PASSWORD_MAX} characters`;
  const inputs = userInputs.flatMap((s) => s.toLowerCase().split(/[^a-z0-9]+/)).filter((s) => s.length >= 3);
  if (zxcvbn.check(password, inputs).score < MIN_SCORE) return 'too common or too easy to guess';
  return undefined;
}

export function assertStrongPassword(password: string, path: string, userInputs: string[] = []): void {
  const weakness = passwordWeakness(password, userInputs);
  if (weakness) throw problems.badRequest('The password is not acceptable.', [{ path, message: weakness }]);
}
