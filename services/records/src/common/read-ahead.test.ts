import { readAhead } from './read-ahead';

/** A source of `n` numbers, each after a tick; counts what was pulled, and whether it was closed. */
function source(n: number, failAt?: number) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setImmediate(r));
        if (i === failAt) throw new Error('source broke');
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, gen: gen() };
}

describe('readAhead', () => {
  it('yields every item in order, reading ahead of a slow consumer up to the limit', async () => {
    const { state, gen } = source(100);
    const got: number[] = [];
    let maxAhead = 0;
    for await (const x of readAhead(gen, 10)) {
      // A consumer slower than the source: the source has been read ahead meanwhile, never past the limit (+1 in hand).
      await new Promise((r) => setTimeout(r, 2));
      maxAhead = Math.max(maxAhead, state.pulled - got.length - 1);
      got.push(x);
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(maxAhead).toBeGreaterThan(1);
    expect(maxAhead).toBeLessThanOrEqual(11);
  });

  it('hands on the items before a failure, then the failure', async () => {
    const { gen } = source(10, 5);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const x of readAhead(gen, 3)) got.push(x);
      })(),
    ).rejects.toThrow('source broke');
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops and closes the source when the consumer stops early', async () => {
    const { state, gen } = source(1000);
    for await (const x of readAhead(gen, 5)) if (x === 3) break;
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThan(20);
  });
});
