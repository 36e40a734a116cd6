import { PeriodicTask } from './periodic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PeriodicTask', () => {
  it('runs on its interval, never two runs at once, and stop() waits for the run in progress', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let finished = 0;
    const task = new PeriodicTask(
      'test',
      10,
      async () => {
        running++;
        runs++;
        most = Math.max(most, running);
        await sleep(35);
        running--;
        finished++;
      },
      { warn: () => undefined },
    );
    task.start();
    await sleep(150);
    await task.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(most).toBe(1);
    expect(finished).toBe(runs);
    const after = runs;
    await sleep(50);
    expect(runs).toBe(after);
  });

  it('logs a failed run and tries again on the next tick', async () => {
    const warnings: unknown[] = [];
    let calls = 0;
    const task = new PeriodicTask(
      'flaky',
      10,
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
      { warn: (o: unknown) => void warnings.push(o) },
    );
    await task.runNow();
    expect(warnings).toEqual([{ err: 'boom', task: 'flaky' }]);
    task.start();
    await sleep(40);
    await task.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
