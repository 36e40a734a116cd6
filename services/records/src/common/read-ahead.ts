// Read an async source ahead of its consumer, up to `limit` items: while the consumer works
// on what has arrived (decrypting notes, writing them out), the source is already waiting
// for its next part (the database preparing the next batch of a cursor, in its own process).
// Without it a cursor asks for its next batch only once the consumer has used up the last,
// so reading and working take turns instead of overlapping. Errors of the source reach the
// consumer after the items read before them; a consumer that stops early stops the source.
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  let head = 0;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const signal = (which: 'consumer' | 'producer') => {
    const wake = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    wake?.();
  };
  const producer = (async () => {
    try {
      while (!stopped) {
        if (queue.length - head >= limit) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
          continue;
        }
        const r = await it.next();
        if (r.done) break;
        queue.push(r.value);
        signal('consumer');
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      signal('consumer');
    }
  })();
  try {
    for (;;) {
      if (head < queue.length) {
        const item = queue[head]!;
        queue[head++] = undefined as T;
        // Drop what was consumed now and then (not on every item: shifting is O(n)).
        if (head >= 1024 && head * 2 >= queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        signal('producer');
        yield item;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    signal('producer');
    await producer;
    await it.return?.(undefined);
  }
}
