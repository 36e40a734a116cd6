// A log destination that gathers lines and writes them to stdout in batches (every 50 ms
// or 64 KiB) instead of one synchronous write per line: the access log is one line per
// request, and at a few thousand requests a second those writes cost more than routing
// the request. Flushed on shutdown and on exit; a hard crash loses at most the last batch.
export interface BufferedDestination {
  write(line: string): void;
  flush(): void;
}

export function bufferedStdout(flushMs = 50, maxBytes = 64 * 1024): BufferedDestination {
  let lines: string[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (lines.length === 0) return;
    const chunk = lines.join('');
    lines = [];
    size = 0;
    process.stdout.write(chunk);
  };
  process.once('exit', flush);
  return {
    write(line: string) {
      lines.push(line);
      size += line.length;
      if (size >= maxBytes) flush();
      else if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref();
      }
    },
    flush,
  };
}
