import { Semaphore, SemaphoreFullError } from './semaphore';

describe('Semaphore', () => {
  it('never runs more than its limit at once', async () => {
    const sem = new Semaphore(2, 100);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        sem.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(sem.inUse).toBe(0);
  });

  it('refuses work once the wait queue is full', async () => {
    const sem = new Semaphore(1, 1);
    let release!: () => void;
    const first = sem.run(() => new Promise<void>((r) => (release = r)));
    const second = sem.run(async () => 'second');
    await expect(sem.run(async () => 'third')).rejects.toBeInstanceOf(SemaphoreFullError);
    release();
    await first;
    await expect(second).resolves.toBe('second');
  });
});
